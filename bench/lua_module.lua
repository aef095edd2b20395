-- Our module: N update_connection calls on one client, same 4-field body.
-- Prints "<requests per second> <peak RSS in KiB>".
local measure = require "measure"
local stytch = require "stytch"

local base_url, n, cainfo = arg[1], tonumber(arg[2]), arg[3]
local client = stytch.client { project_id = "project-test-bench",
  secret = "bench", base_url = base_url, cainfo = cainfo, retries = false }
local fields = { display_name = "Bench", issuer = "https://idp.example",
  client_id = "bench-client", client_secret = "bench-secret" }

measure.loop(n, function()
  local res, err = client.sso.oidc.update_connection(
    "organization-test-bench", "oidc-connection-test-bench", fields)
  if not res then error(tostring(err)) end
end)

-- Our module's batch: N updates through update_connections with
-- `concurrency` in flight, on one client, same 4-field body as the
-- sequential run.  Prints "<requests per second> <peak RSS in KiB>".
local measure = require "measure"
local stytch = require "stytch"

local base_url, n, concurrency, cainfo = arg[1], tonumber(arg[2]),
  tonumber(arg[3]), arg[4]
local client = stytch.client { project_id = "project-test-bench",
  secret = "bench", base_url = base_url, cainfo = cainfo, retries = false }
local list = {}
-- One connection each: a batch refuses two updates of one connection.
for i = 1, n do
  list[i] = { "organization-test-bench", "oidc-connection-test-bench-" .. i, {
    display_name = "Bench", issuer = "https://idp.example",
    client_id = "bench-client", client_secret = "bench-secret" } }
end

measure.loop(1, function()
  local results, failed = client.sso.oidc.update_connections(list,
    { concurrency = concurrency })
  if failed ~= 0 then
    for _, result in ipairs(results) do
      if result.err then error(tostring(result.err)) end
    end
  end
end, n)

--- The main job, on the bundled emulator: take a pending OIDC connection,
-- point it at an identity provider with its client credentials, and show
-- the connection before and after.  Run it with `make demo`.

local cjson = require "cjson"
local stytch = require "stytch"

local emulator = assert(os.getenv("STYTCH_EMULATOR_URL"),
  "run this through `make demo`, which starts the emulator")
local idp = assert(os.getenv("STYTCH_TEST_IDP"))

local seed_file = assert(io.open("emulator/seed.json"))
local seed = cjson.decode(seed_file:read("*a"))
seed_file:close()

local ORGANIZATION = "acme"   -- a slug works where an id does
local CONNECTION = "oidc-connection-test-acme-okta"
local DISCOVERABLE = { authorization_url = true, token_url = true,
  userinfo_url = true, jwks_url = true }
local SHOWN = { "status", "display_name", "identity_provider", "issuer",
  "client_id", "client_secret", "authorization_url", "token_url",
  "userinfo_url", "jwks_url" }

local function print_connection(title, connection, sent, before)
  print(title)
  for _, name in ipairs(SHOWN) do
    local value = connection[name]
    if value == nil or value == "" then
      value = "(unset)"
    elseif name == "client_secret" then
      value = "(set, not shown)"
    end
    local note = ""
    if before and DISCOVERABLE[name] and sent[name] == nil
        and connection[name] ~= before[name] then
      note = "  (discovered)"
    end
    print(("  %-18s %s%s"):format(name, value, note))
  end
  print()
end

local client = stytch.client {
  project_id = seed.project_id,
  secret = seed.secret,
  base_url = emulator,
}
print("lua-stytch " .. stytch._VERSION .. " against the emulator at "
  .. emulator .. "\n")

-- An update that sets nothing changes nothing and returns the connection.
local res, err = client.sso.oidc.update_connection(ORGANIZATION, CONNECTION,
  {})
if not res then error(tostring(err)) end
local before = res.connection
print_connection("Before:", before, {})

local fields = {
  issuer = idp .. "/acme",
  client_id = "acme-web-app",
  client_secret = "demo-client-secret-" .. os.time(),
}
print(("update_connection(%q, %q, {\n  issuer = %q,\n  client_id = %q,"
  .. "\n  client_secret = <hidden>,\n})\n"):format(ORGANIZATION, CONNECTION,
  fields.issuer, fields.client_id))
res, err = client.sso.oidc.update_connection(ORGANIZATION, CONNECTION, fields)
if not res then error(tostring(err)) end
if res.warning then print("warning: " .. res.warning .. "\n") end
print_connection("After:", res.connection, fields, before)

client.close()
if res.connection.status ~= "active" then
  io.stderr:write("demo: the connection did not become active\n")
  os.exit(1)
end
print("The connection is active (request_id " .. res.request_id .. ").")

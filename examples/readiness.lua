-- Why is a connection still pending?
local stytch = require "stytch"

local client = stytch.client {
  project_id = "project-test-11111111-2222-4333-8444-555555555555",
  secret = "emulator-local-secret-not-for-production",
  base_url = os.getenv("STYTCH_EMULATOR_URL"),
}
local res = assert(client.sso.oidc.update_connection(
  "acme", "oidc-connection-test-acme-okta",
  { issuer = os.getenv("STYTCH_TEST_IDP") .. "/no-userinfo",
    client_id = "acme-web" }))
print(res.connection.status)
print(table.concat(stytch.sso.oidc.missing_for_activation(res), ", "))
client.close()

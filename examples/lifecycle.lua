-- Create a connection, point it at an identity provider, list, delete.
local stytch = require "stytch"

local client = stytch.client {
  project_id = "project-test-11111111-2222-4333-8444-555555555555",
  secret = "emulator-local-secret-not-for-production",
  base_url = os.getenv("STYTCH_EMULATOR_URL"),
}
local org = "acme"

local created = assert(client.sso.oidc.create_connection(org, {
  display_name = "Acme Keycloak", identity_provider = "keycloak",
}))
local id = created.connection.connection_id
print("created", id, created.connection.status)

local updated = assert(client.sso.oidc.update_connection(org, id, {
  issuer = os.getenv("STYTCH_TEST_IDP") .. "/acme",
  client_id = "acme-web",
  client_secret = "rotate-me",
}))
print("updated", updated.connection.status)

local listed = assert(client.sso.get_connections(org))
print("connections", #listed.oidc_connections)

assert(client.sso.delete_connection(org, id))
client.close()

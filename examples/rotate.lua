-- Rotate the client secret of every OIDC connection of an organization,
-- eight at a time; one result per connection, in the list's order.
local stytch = require "stytch"

local client = stytch.client {
  project_id = "project-test-11111111-2222-4333-8444-555555555555",
  secret = "emulator-local-secret-not-for-production",
  base_url = os.getenv("STYTCH_EMULATOR_URL"),
}
local org = "acme"

local list = {}
for _, connection in ipairs(assert(client.sso.get_connections(org))
                              .oidc_connections) do
  list[#list + 1] = { org, connection.connection_id,
    { client_secret = "new-secret-for-" .. connection.connection_id } }
end

local results, failed = assert(client.sso.oidc.update_connections(list, {
  concurrency = 8,
  on_progress = function(event)
    print(("%d/%d done"):format(event.done, event.total))
  end,
}))
for i, result in ipairs(results) do
  print(list[i][2], result.res and "rotated" or tostring(result.err))
end
print("failed", failed)
client.close()

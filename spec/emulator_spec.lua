-- The emulator's own rules, met with raw requests that the module would
-- refuse to send.
local helper = require "helper"

local PATH = "/v1/b2b/sso/oidc/" .. helper.org .. "/connections/"
  .. helper.pending

describe("the emulator", function()
  before_each(helper.reset)

  it("answers 401 unauthorized_credentials without Basic auth", function()
    local status, body = helper.raw("PUT", PATH, "{}")
    assert.are.equal(401, status)
    assert.are.equal("unauthorized_credentials", body.error_type)
    assert.are.equal(401, body.status_code)
    assert.is_string(body.request_id)
  end)

  for _, case in ipairs {
    { "a body that is not JSON", "issuer=x", "must be a JSON object" },
    { "an http issuer", '{"issuer":"http://idp.example"}',
      "issuer must be an absolute https URL" },
    { "an unknown field", '{"status":"active"}',
      "status is not a field of this request" },
    { "a number for a string", '{"client_id":5}',
      "client_id must be a string" },
    { "an unknown provider", '{"identity_provider":"myspace"}',
      "identity_provider is not a supported identity provider" },
  } do
    it("answers 400 in Stytch's shape for " .. case[1], function()
      local status, body = helper.raw("PUT", PATH, case[2],
        helper.credentials())
      assert.are.equal(400, status, helper.show(body))
      assert.are.equal("bad_request", body.error_type)
      assert.is_truthy(body.error_message:find(case[3], 1, true),
        body.error_message)
    end)
  end

  it("changes nothing when it answers 400", function()
    helper.raw("PUT", PATH, '{"display_name":"new","issuer":"ftp://x"}',
      helper.credentials())
    local status, body = helper.raw("PUT", PATH, "{}", helper.credentials())
    assert.are.equal(200, status)
    assert.are.equal("Acme Okta", body.connection.display_name)
  end)

  it("answers 404 for a route it does not know", function()
    local status, body = helper.raw("GET", "/v1/b2b/nothing", "",
      helper.credentials())
    assert.are.equal(404, status)
    assert.are.equal("route_not_found", body.error_type)
  end)

  it("goes back to its seed on reset", function()
    helper.raw("PUT", PATH, '{"display_name":"changed"}',
      helper.credentials())
    helper.reset()
    local _, body = helper.raw("PUT", PATH, "{}", helper.credentials())
    assert.are.equal("Acme Okta", body.connection.display_name)
  end)
end)

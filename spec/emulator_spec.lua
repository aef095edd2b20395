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

describe("the emulator under hostile requests", function()
  before_each(helper.reset)

  local function curl(args)
    local pipe = assert(helper.popen("curl -s --noproxy '*' " .. args
      .. " 2>&1; echo \" exit $?\""))
    local out = pipe:read("*a")
    pipe:close()
    return out
  end

  it("keeps serving after a client gives up mid-upload", function()
    local file = os.tmpname()
    local f = assert(io.open(file, "wb"))
    f:write('{"display_name":"', ("x"):rep(2000000), '"}')
    f:close()
    -- Sends 2 MB at 100 KB/s and gives up after half a second.
    curl("-m 0.5 --limit-rate 100k -u '" .. helper.credentials() .. "' "
      .. "-X PUT --data-binary @" .. file .. " " .. helper.emulator
      .. "/v1/b2b/sso/oidc/acme/connections/" .. helper.pending)
    os.remove(file)
    local status = helper.raw("PUT", PATH, "{}", helper.credentials())
    assert.are.equal(200, status)
  end)

  it("answers 413 to a body over its limit, and keeps serving", function()
    local big = '{"display_name":"' .. ("x"):rep(5 * 1024 * 1024) .. '"}'
    local file = os.tmpname()
    local f = assert(io.open(file, "wb"))
    f:write(big)
    f:close()
    local out = curl("-o /dev/null -w '%{http_code}' -u '"
      .. helper.credentials() .. "' -X PUT --data-binary @" .. file .. " "
      .. helper.emulator .. PATH)
    os.remove(file)
    assert.matches("^413", out)
    assert.are.equal(200, (helper.raw("PUT", PATH, "{}",
      helper.credentials())))
  end)

  it("answers 400, not 500, to JSON nested too deep", function()
    local status = helper.raw("PUT", PATH, ('{"a":'):rep(20000) .. "1"
      .. ("}"):rep(20000), helper.credentials())
    assert.are.equal(400, status)
  end)

  for _, case in ipairs {
    { "a JSON array body", "[]" },
    { "an array as attribute_mapping", '{"attribute_mapping":[]}' },
    { "an issuer with a zone id",
      '{"issuer":"https://[fe80::1%25eth0]/x"}' },
    { "an issuer with credentials", '{"issuer":"https://u:p@idp.example"}' },
    { "an issuer with a query", '{"issuer":"https://idp.example/?t=1"}' },
    { "an issuer with a fragment", '{"issuer":"https://idp.example/#f"}' },
    { "an issuer on port 0", '{"issuer":"https://idp.example:0/"}' },
  } do
    it("answers 400 to " .. case[1], function()
      local status, body = helper.raw("PUT", PATH, case[2],
        helper.credentials())
      assert.are.equal(400, status, helper.show(body))
    end)
  end

  for _, path in ipairs { "/v1/b2b/sso/acme/", "//v1//b2b///sso//acme" } do
    it("routes " .. path .. " nowhere", function()
      local status = helper.raw("GET", path, "", helper.credentials())
      assert.are.equal(404, status)
    end)
  end

  it("takes the Basic scheme in any case", function()
    local encoded = helper.basic_credentials()
    local out = curl("-o /dev/null -w '%{http_code}' -H 'Authorization: "
      .. "bAsIc " .. encoded .. "' " .. helper.emulator .. "/v1/b2b/sso/acme")
    assert.matches("^200", out)
  end)
end)

local helper = require "helper"
local core = require "stytch.core"
local cjson = require "cjson"

describe("building a request (no I/O)", function()
  it("builds method, escaped path and JSON body without a server", function()
    local request = assert(core.build_update_connection("org 1", "c/2",
      { display_name = "Acme", custom_scopes = { "openid", "email" } },
      { session_jwt = "jwt.part.sig" }))
    assert.are.equal("PUT", request.method)
    assert.are.equal("/v1/b2b/sso/oidc/org%201/connections/c%2F2",
      request.path)
    assert.are.same(
      { display_name = "Acme", custom_scopes = "openid%20email" },
      cjson.decode(request.body))
    assert.are.same({ ["X-Stytch-Member-SessionJWT"] = "jwt.part.sig" },
      request.headers)
  end)

  it("sends a string custom_scopes exactly as given", function()
    local request = assert(core.build_update_connection("o", "c",
      { custom_scopes = "openid%20groups" }))
    assert.are.equal("openid%20groups",
      cjson.decode(request.body).custom_scopes)
  end)

  it("escapes every byte that is not unreserved", function()
    local request = assert(core.build_update_connection(
      "a-b_c.d~e", "!*'();:@&=+$,/?#[]", {}))
    assert.are.equal("/v1/b2b/sso/oidc/a-b_c.d~e/connections/"
      .. "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D",
      request.path)
  end)

  it("is not changed by the caller's own cjson settings", function()
    cjson.encode_max_depth(1)
    local request, err = core.build_update_connection("o", "c",
      { attribute_mapping = { email = "mail" } })
    cjson.encode_max_depth(1000)
    assert(request, helper.show(err))
  end)

  it("accepts every documented identity provider", function()
    for _, provider in ipairs { "classlink", "cyberark", "duo", "generic",
        "google-workspace", "jumpcloud", "keycloak", "miniorange",
        "microsoft-entra", "okta", "onelogin", "pingfederate", "rippling",
        "salesforce", "shibboleth" } do
      assert(core.build_update_connection("o", "c",
        { identity_provider = provider }))
    end
  end)
end)

describe("reading a response", function()
  it("returns JSON null as nil, never a truthy sentinel", function()
    local res = assert(core.parse_response(200,
      '{"status_code":200,"warning":null,"connection":{"issuer":null}}'))
    assert.is_nil(res.warning)
    assert.is_nil(res.connection.issuer)
  end)

  it("returns a top-level null body as invalid_response", function()
    local res, err = core.parse_response(200, "null")
    assert.is_nil(res)
    assert.are.equal("invalid_response", err.kind)
  end)

  it("returns integral numbers as integers on Lua 5.3+", function()
    local res = assert(core.parse_response(200,
      '{"status_code":200,"n":{"big":1e3,"frac":0.5}}'))
    assert.are.equal(200, res.status_code)
    assert.are.equal(0.5, res.n.frac)
    if math.type then
      assert.are.equal("integer", math.type(res.status_code))
      assert.are.equal("integer", math.type(res.n.big))
      assert.are.equal("float", math.type(res.n.frac))
    end
  end)

  it("rejects NaN, Infinity and hex numbers in a response", function()
    for _, body in ipairs { '{"n":NaN}', '{"n":Infinity}', '{"n":0x10}' } do
      local res, err = core.parse_response(200, body)
      assert.is_nil(res, body)
      assert.are.equal("invalid_response", err.kind, body)
    end
  end)

  it("rejects JSON nested deeper than it will walk", function()
    local deep = ("["):rep(5000) .. ("]"):rep(5000)
    local res, err = core.parse_response(200, deep)
    assert.is_nil(res)
    assert.are.equal("invalid_response", err.kind)
  end)

  it("reads a Stytch error body into the error's fields", function()
    local res, err = core.parse_response(429, cjson.encode {
      status_code = 429, request_id = "request-id-test-1",
      error_type = "too_many_requests",
      error_message = "Too many requests have been made.",
      error_url = "https://stytch.com/docs/api/errors/429",
      error_details = { retry = "later" },
    })
    assert.is_nil(res)
    assert.are.same({
      kind = "api", status_code = 429, request_id = "request-id-test-1",
      error_type = "too_many_requests",
      message = "Too many requests have been made.",
      error_message = "Too many requests have been made.",
      error_url = "https://stytch.com/docs/api/errors/429",
      error_details = { retry = "later" },
    }, err)
    assert.are.equal("stytch api 429 too_many_requests: Too many requests "
      .. "have been made. (request_id request-id-test-1)", tostring(err))
  end)

  it("keeps an error's HTTP status when the body lacks one", function()
    local _, err = core.parse_response(503, '{"error_type":"unavailable"}')
    assert.are.equal(503, err.status_code)
    assert.are.equal("HTTP 503", err.message)
  end)

  it("prefers Stytch's fields over OAuth 2.0's when both exist", function()
    local _, err = core.parse_response(400,
      '{"error":"oauth_kind","error_type":"stytch_kind"}')
    assert.are.equal("stytch_kind", err.error_type)
  end)
end)

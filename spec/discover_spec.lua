local helper = require "helper"
local show = helper.show
local discover = require("stytch").sso.oidc.discover

local function with_ca(opts)
  opts = opts or {}
  opts.cainfo = helper.ca
  return opts
end

describe("stytch.sso.oidc.discover", function()
  it("returns the four URLs Stytch would infer, and claims_supported",
     function()
    local issuer = helper.idp .. "/acme"
    local found, err = discover(issuer, with_ca())
    assert(found, show(err))
    assert.are.equal(issuer, found.issuer)
    assert.are.equal(issuer .. "/oauth2/authorize", found.authorization_url)
    assert.are.equal(issuer .. "/oauth2/token", found.token_url)
    assert.are.equal(issuer .. "/oauth2/userinfo", found.userinfo_url)
    assert.are.equal(issuer .. "/oauth2/keys", found.jwks_url)
    assert.is_truthy(table.concat(found.claims_supported, " ")
      :find("given_name", 1, true))
    assert.are.equal("code", found.document.response_types_supported[1])
  end)

  it("agrees with what the emulator infers on update", function()
    helper.reset()
    local issuer = helper.idp .. "/acme"
    local found = assert(discover(issuer, with_ca()))
    local client = helper.client()
    local res = assert(client.sso.oidc.update_connection(helper.org,
      helper.pending, { issuer = issuer }))
    client.close()
    for _, field in ipairs { "authorization_url", "token_url",
        "userinfo_url", "jwks_url" } do
      assert.are.equal(found[field], res.connection[field], field)
    end
  end)

  it("leaves userinfo_url nil when the provider has none", function()
    local found = assert(discover(helper.idp .. "/no-userinfo", with_ca()))
    assert.is_nil(found.userinfo_url)
    assert.is_string(found.token_url)
  end)

  it("drops one trailing slash before the well-known path", function()
    local found, err = discover(helper.idp .. "/trailing/", with_ca())
    assert(found, show(err))
    assert.are.equal(helper.idp .. "/trailing/oauth2/token", found.token_url)
  end)

  it("refuses a document that names another issuer (OIDC 4.3)", function()
    local found, err = discover(helper.idp .. "/mismatch", with_ca())
    assert.is_nil(found)
    assert.are.equal("invalid_response", err.kind)
    assert.are.equal("discovery_issuer_mismatch", err.error_type)
    assert.are.equal(helper.idp .. "/someone-else", err.got)
  end)

  it("holds the issuer to the exact form asked for", function()
    local _, err = discover(helper.idp .. "/trailing", with_ca())
    assert.are.equal("discovery_issuer_mismatch", err.error_type)
  end)

  it("refuses HTML instead of JSON", function()
    local _, err = discover(helper.idp .. "/html", with_ca())
    assert.are.equal("discovery_not_json", err.error_type, show(err))
    assert.matches("text/html", err.message)
  end)

  it("does not follow a redirect, and says where it pointed", function()
    local _, err = discover(helper.idp .. "/redirect", with_ca())
    assert.are.equal("discovery_redirect", err.error_type, show(err))
    assert.are.equal(302, err.status_code)
    assert.are.equal(helper.idp .. "/acme/.well-known/openid-configuration",
      err.location)
  end)

  it("reports an error status", function()
    local _, err = discover(helper.idp .. "/broken", with_ca())
    assert.are.equal("discovery_http_status", err.error_type)
    assert.are.equal(500, err.status_code)
    _, err = discover(helper.idp .. "/nobody", with_ca())
    assert.are.equal(404, err.status_code)
  end)

  it("refuses a document whose endpoint is not https", function()
    local found, err = discover(helper.idp .. "/http-endpoint", with_ca())
    assert.is_nil(found)
    assert.are.equal("discovery_invalid_endpoint", err.error_type)
    assert.matches("token_endpoint", err.message)
  end)

  it("verifies the provider's certificate", function()
    local _, err = discover(helper.idp .. "/acme")
    assert.are.equal("network", err.kind, show(err))
    assert.matches("^tls_", err.error_type)
  end)

  it("gives up after its timeout", function()
    local _, err = discover(helper.idp .. "/faults/hang",
      with_ca { timeout = 0.5 })
    assert.are.equal("timeout", err.kind, show(err))
  end)

  for _, case in ipairs {
    { "http://idp.example", "issuer", "must be an absolute https URL" },
    { "idp.example", "issuer", "must be an absolute https URL" },
    { 42, "issuer", "must be a string, got number" },
    { "https://idp.example/?tenant=1", "issuer", "must not have a query" },
  } do
    it("refuses the issuer " .. tostring(case[1]) .. " before any request",
       function()
      local found, err = discover(case[1])
      assert.is_nil(found)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal(case[2], err.field)
      assert.is_truthy(err.message:find(case[3], 1, true), err.message)
    end)
  end

  it("drops one trailing slash only", function()
    local _, err = discover(helper.idp .. "/trailing//", with_ca())
    assert.are.equal(404, err.status_code, show(err))
  end)

  it("names a bad option as opts.<name>", function()
    local _, err = discover(helper.idp .. "/acme", { timeout = "5" })
    assert.are.equal("opts.timeout", err.field)
    _, err = discover(helper.idp .. "/acme", { cainfo = "/no/such" })
    assert.are.equal("opts.cainfo", err.field)
  end)

  it("refuses unknown options", function()
    local _, err = discover(helper.idp .. "/acme", { retries = 2 })
    assert.are.equal("opts", err.field)
  end)
end)

local stytch = require "stytch"
local helper = require "helper"
local show = helper.show

local scopes = stytch.scopes
local mapping = stytch.attribute_mapping
local missing_for_activation = stytch.sso.oidc.missing_for_activation

describe("stytch.scopes", function()
  it("joins an array with %20", function()
    assert.are.equal("openid%20email%20groups",
      scopes.encode { "openid", "email", "groups" })
  end)

  it("encodes a space-separated string once", function()
    assert.are.equal("openid%20email", scopes.encode "openid email")
  end)

  it("leaves an already encoded string as it is, never %2520", function()
    assert.are.equal("openid%20email", scopes.encode "openid%20email")
    assert.are.equal("openid%20email",
      scopes.encode(scopes.encode(scopes.encode "openid email")))
  end)

  it("neither splits nor merges scopes around odd spacing", function()
    assert.are.equal("a:b%20c.d%20e",
      scopes.encode "  a:b   c.d%20%20e  ")
  end)

  it("encodes an empty list or string as the empty string", function()
    assert.are.equal("", scopes.encode {})
    assert.are.equal("", scopes.encode "")
  end)

  it("decodes the documented form back into the scopes", function()
    assert.are.same({ "openid", "groups", "offline_access" },
      scopes.decode "openid%20groups%20offline_access")
    assert.are.same({ "openid", "groups" }, scopes.decode "openid groups")
    assert.are.same({}, scopes.decode "")
  end)

  for _, case in ipairs {
    { { "open id" }, "must hold only scope characters" },
    { { 'a"b' }, "must hold only scope characters" },
    { { "a\\b" }, "must hold only scope characters" },
    { "caf\195\169", "must hold only scope characters" },
    { "a\tb", "must hold only scope characters" },
    { "a%2520b", "must not hold '%'" },
    { { "a%20b" }, "must not hold '%'" },
    { { "" }, "must not be an empty scope" },
    { { "a", 2 }, "must hold only strings" },
    { { "a", nil, "c" }, "must be an array without holes" },
    { 12, "must be a string or an array of strings" },
  } do
    it("refuses " .. show(case[1]):gsub("%s+", " ") .. ": " .. case[2],
       function()
      local encoded, err = scopes.encode(case[1])
      assert.is_nil(encoded)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("custom_scopes", err.field)
      assert.is_truthy(err.message:find(case[2], 1, true), err.message)
    end)
  end

  it("refuses to decode what is not a string", function()
    local list, err = scopes.decode { "openid" }
    assert.is_nil(list)
    assert.are.equal("custom_scopes", err.field)
  end)

  it("applies the same rule to update_connection's custom_scopes", function()
    local core = require "stytch.core"
    local cjson = require "cjson"
    local request = assert(core.build_update_connection("o", "c",
      { custom_scopes = "openid%20email groups" }))
    assert.are.equal("openid%20email%20groups",
      cjson.decode(request.body).custom_scopes)
  end)
end)

describe("stytch.attribute_mapping", function()
  it("builds a checked copy of a mapping", function()
    local entries = { email = "mail", department = "dept" }
    local built = assert(mapping.build(entries))
    assert.are.same(entries, built)
    built.email = "changed"
    assert.are.equal("mail", entries.email)
  end)

  for _, case in ipairs {
    { "a non-table", "emails", "attribute_mapping", "must be a table" },
    { "an array", { "email" }, "attribute_mapping",
      "must have strings as keys" },
    { "an empty key", { [""] = "email" }, "attribute_mapping",
      "must have non-empty" },
    { "an empty claim", { email = "" }, "attribute_mapping.email",
      "must be a non-empty string" },
    { "a boolean claim", { groups = true }, "attribute_mapping.groups",
      "must be a string (a claim name)" },
    { "a claim that is not UTF-8", { email = "\255" },
      "attribute_mapping.email", "must be valid UTF-8" },
    { "a key that is not UTF-8", { ["\255"] = "x" }, "attribute_mapping",
      "must have valid UTF-8 keys" },
    { "a claim with a space", { email = "e mail" },
      "attribute_mapping.email", "must not hold spaces" },
  } do
    it("refuses " .. case[1] .. ", naming " .. case[3], function()
      local built, err = mapping.build(case[2])
      assert.is_nil(built)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal(case[3], err.field)
      assert.is_truthy(err.message:find(case[4], 1, true), err.message)
    end)
  end

  it("has a preset for each well-known provider", function()
    assert.are.same({ "generic", "google-workspace", "jumpcloud", "keycloak",
      "microsoft-entra", "okta", "onelogin" }, mapping.presets())
    for _, provider in ipairs(mapping.presets()) do
      local preset = assert(mapping.preset(provider))
      assert.are.equal("email", preset.email, provider)
      assert.are.equal("given_name", preset.first_name, provider)
      assert.are.equal("family_name", preset.last_name, provider)
    end
  end)

  it("maps groups only where the provider names the claim", function()
    assert.are.equal("groups", mapping.preset("okta").groups)
    assert.are.equal("groups", mapping.preset("microsoft-entra").groups)
    assert.is_nil(mapping.preset("google-workspace").groups)
  end)

  it("lets overrides replace and extend a preset", function()
    local m = assert(mapping.preset("okta",
      { email = "upn", cost_center = "costCenter" }))
    assert.are.equal("upn", m.email)
    assert.are.equal("costCenter", m.cost_center)
    assert.are.equal("groups", m.groups)
  end)

  it("never lets an override change the preset itself", function()
    mapping.preset("okta", { email = "upn" })
    assert.are.equal("email", mapping.preset("okta").email)
  end)

  it("merges mappings, later ones winning", function()
    assert.are.same({ email = "b", groups = "g" },
      mapping.merge({ email = "a" }, { groups = "g" }, { email = "b" }))
  end)

  it("refuses a provider without a preset, listing the presets", function()
    local m, err = mapping.preset("myspace")
    assert.is_nil(m)
    assert.are.equal("identity_provider", err.field)
    assert.matches("presets: generic, google%-workspace", err.message)
  end)

  it("lists the claims a provider does not advertise", function()
    local m = { email = "email", groups = "groups", dept = "department" }
    assert.are.same({ "department", "groups" },
      mapping.unadvertised(m, { claims_supported = { "sub", "email" } }))
    assert.are.same({}, mapping.unadvertised({ email = "email" },
      { "email", "name" }))
  end)

  it("says so when a document has no claims_supported to check against",
     function()
    local missing, err = mapping.unadvertised({ email = "email" },
      { issuer = "https://idp.example" })
    assert.is_nil(missing)
    assert.are.equal("discovery", err.field)
  end)

  it("takes an empty list as advertising nothing", function()
    assert.are.same({ "email" }, mapping.unadvertised({ email = "email" }, {}))
  end)

  it("reads only the strings of claims_supported, past holes", function()
    local claims = { "email", 5, nil, { x = 1 }, "name" }
    assert.are.same({}, mapping.unadvertised({ a = "email", b = "name" },
      { claims_supported = claims }))
  end)

  it("refuses a claims_supported that is not a list", function()
    local _, err = mapping.unadvertised({ email = "email" },
      { claims_supported = { email = true } })
    assert.are.equal("discovery", err.field)
  end)

  it("refuses overrides that are not a table", function()
    local m, err = mapping.preset("okta", false)
    assert.is_nil(m)
    assert.are.equal("overrides", err.field)
  end)

  it("applies update_connection's own rules", function()
    local core = require "stytch.core"
    for _, entries in ipairs { { email = "\255" }, { email = "" },
        { email = "a b" }, { [""] = "x" } } do
      local built = mapping.build(entries)
      local request = core.build_update_connection("o", "c",
        { attribute_mapping = entries })
      assert.are.equal(built == nil, request == nil, show(entries))
    end
  end)

  it("is accepted by update_connection as it is", function()
    local core = require "stytch.core"
    assert(core.build_update_connection("o", "c",
      { attribute_mapping = mapping.preset("keycloak") }))
  end)
end)

describe("stytch.sso.oidc.missing_for_activation", function()
  local complete = {
    issuer = "https://idp.example", client_id = "c", client_secret = "s",
    authorization_url = "https://idp.example/a",
    token_url = "https://idp.example/t",
    userinfo_url = "https://idp.example/u",
    jwks_url = "https://idp.example/k",
  }

  it("lists all seven for an empty connection, in the documented order",
     function()
    assert.are.same({ "issuer", "client_id", "client_secret",
      "authorization_url", "token_url", "userinfo_url", "jwks_url" },
      missing_for_activation {})
  end)

  it("returns an empty list for a complete connection", function()
    assert.are.same({}, missing_for_activation(complete))
  end)

  it("counts an empty string as unset, as Stytch returns them", function()
    local partial = {}
    for key, value in pairs(complete) do partial[key] = value end
    partial.userinfo_url = ""
    partial.client_secret = nil
    assert.are.same({ "client_secret", "userinfo_url" },
      missing_for_activation(partial))
  end)

  it("reads the connection out of a response", function()
    assert.are.same({}, missing_for_activation { connection = complete })
  end)

  it("explains a pending connection from the emulator", function()
    helper.reset()
    local client = helper.client()
    local res = assert(client.sso.oidc.update_connection(helper.org,
      helper.pending, { issuer = helper.idp .. "/no-userinfo",
                        client_id = "c" }))
    client.close()
    assert.are.equal("pending", res.connection.status)
    assert.are.same({ "client_secret", "userinfo_url" },
      missing_for_activation(res))
  end)

  it("refuses what is not a table", function()
    local missing, err = missing_for_activation("conn")
    assert.is_nil(missing)
    assert.are.equal("connection", err.field)
  end)
end)

local helper = require "helper"
local show = helper.show

local ORG, CONN = helper.org, helper.pending
local SECRET_VALUE = "sk-this-must-never-be-echoed"

-- { what, organization_id, connection_id, fields, opts, field, rule }
local CASES = {
  { "a missing organization id", nil, CONN, {}, nil,
    "organization_id", "must be a string, got nil" },
  { "a numeric organization id", 42, CONN, {}, nil,
    "organization_id", "must be a string, got number" },
  { "an empty organization id", "", CONN, {}, nil,
    "organization_id", "must not be empty" },
  { "a '.' connection id", ORG, ".", {}, nil,
    "connection_id", "must not be \".\" or \"..\"" },
  { "a '..' organization id", "..", CONN, {}, nil,
    "organization_id", "must not be \".\" or \"..\"" },
  { "a NUL inside an id", ORG, "conn\0evil", {}, nil,
    "connection_id", "must not contain a NUL byte" },
  { "an id that is not UTF-8", ORG, "conn\255", {}, nil,
    "connection_id", "must be valid UTF-8" },
  { "fields that are not a table", ORG, CONN, "issuer=x", nil,
    "fields", "must be a table, got string" },
  { "missing fields", ORG, CONN, nil, nil,
    "fields", "must be a table, got nil" },
  { "a typo in a field name", ORG, CONN, { clientid = "x" }, nil,
    "fields.clientid", "did you mean client_id?" },
  { "an unknown field", ORG, CONN, { status = "active" }, nil,
    "fields.status", "is not a field of update_connection" },
  { "a non-string key", ORG, CONN, { "positional" }, nil,
    "fields", "must have field names as keys" },
  { "a number for a string field", ORG, CONN, { display_name = 7 }, nil,
    "fields.display_name", "must be a string, got number" },
  { "invalid UTF-8 in a string field", ORG, CONN,
    { display_name = "caf\195" }, nil,
    "fields.display_name", "must be valid UTF-8" },
  { "an overlong UTF-8 encoding", ORG, CONN,
    { display_name = "\192\175" }, nil,
    "fields.display_name", "must be valid UTF-8" },
  { "a UTF-16 surrogate", ORG, CONN, { display_name = "\237\160\128" }, nil,
    "fields.display_name", "must be valid UTF-8" },
  { "an http issuer", ORG, CONN, { issuer = "http://idp.example" }, nil,
    "fields.issuer", "must be an absolute https URL" },
  { "a relative token_url", ORG, CONN, { token_url = "/oauth2/token" }, nil,
    "fields.token_url", "must be an absolute https URL" },
  { "a URL with a space", ORG, CONN,
    { jwks_url = "https://idp.example/a b" }, nil,
    "fields.jwks_url", "must be an absolute https URL" },
  { "a URL with a NUL", ORG, CONN,
    { userinfo_url = "https://idp.example/\0.evil" }, nil,
    "fields.userinfo_url", "must be an absolute https URL" },
  { "a URL without a host", ORG, CONN, { authorization_url = "https://" },
    nil, "fields.authorization_url", "must be an absolute https URL" },
  { "an unknown identity provider", ORG, CONN,
    { identity_provider = "myspace" }, nil,
    "fields.identity_provider", "must be one of the documented providers" },
  { "a string attribute_mapping", ORG, CONN,
    { attribute_mapping = "email" }, nil,
    "fields.attribute_mapping", "must be a table, got string" },
  { "a non-string claim in attribute_mapping", ORG, CONN,
    { attribute_mapping = { email = true } }, nil,
    "fields.attribute_mapping.email", "must be a string (a claim name)" },
  { "a non-string claim under an odd key", ORG, CONN,
    { attribute_mapping = { ["cost-center"] = 7 } }, nil,
    "fields.attribute_mapping", "must be a string (a claim name)" },
  { "an array as attribute_mapping", ORG, CONN,
    { attribute_mapping = { "email" } }, nil,
    "fields.attribute_mapping", "must have strings as keys" },
  { "a number as custom_scopes", ORG, CONN, { custom_scopes = 3 }, nil,
    "fields.custom_scopes", "must be a string or an array of strings" },
  { "a scope holding a space", ORG, CONN,
    { custom_scopes = { "openid profile" } }, nil,
    "fields.custom_scopes", "must hold only scope characters" },
  { "a scope holding a quote", ORG, CONN,
    { custom_scopes = { 'a"b' } }, nil,
    "fields.custom_scopes", "must hold only scope characters" },
  { "an empty scope", ORG, CONN, { custom_scopes = { "openid", "" } }, nil,
    "fields.custom_scopes", "must not be an empty scope" },
  { "a sparse scope array", ORG, CONN,
    { custom_scopes = { "openid", nil, "email" } }, nil,
    "fields.custom_scopes", "must be an array without holes" },
  { "a scope array with a named key", ORG, CONN,
    { custom_scopes = { "openid", extra = "email" } }, nil,
    "fields.custom_scopes", "must be an array without holes" },
  { "opts that are not a table", ORG, CONN, {}, "token",
    "opts", "must be a table or nil, got string" },
  { "an unknown option", ORG, CONN, {}, { session = "x" },
    "opts.session", "is not an option" },
  { "an unknown option with an odd name", ORG, CONN, {},
    { ["session-token"] = "x" }, "opts", "has an unknown option" },
  { "a CRLF in the session token", ORG, CONN, {},
    { session_token = "tok\r\nX-Injected: 1" },
    "opts.session_token", "must be visible ASCII" },
  { "a NUL in the session JWT", ORG, CONN, {}, { session_jwt = "a\0b" },
    "opts.session_jwt", "must be visible ASCII" },
  { "an empty session token", ORG, CONN, {}, { session_token = "" },
    "opts.session_token", "must not be empty" },
  { "a numeric session JWT", ORG, CONN, {}, { session_jwt = 1 },
    "opts.session_jwt", "must be a string, got number" },
  { "a client_secret that is not a string", ORG, CONN,
    { client_secret = { SECRET_VALUE } }, nil,
    "fields.client_secret", "must be a string, got table" },
  { "a client_secret that is not UTF-8", ORG, CONN,
    { client_secret = SECRET_VALUE .. "\255" }, nil,
    "fields.client_secret", "must be valid UTF-8" },
}

describe("update_connection with bad input", function()
  local client

  setup(function()
    client = helper.client()
  end)

  teardown(function()
    client.close()
  end)

  before_each(function()
    helper.reset()
  end)

  for _, case in ipairs(CASES) do
    local what, org, conn, fields, opts, field, rule =
      case[1], case[2], case[3], case[4], case[5], case[6], case[7]

    it("rejects " .. what .. " naming " .. field .. ", sending nothing",
       function()
      local res, err = client.sso.oidc.update_connection(org, conn, fields,
        opts)
      assert.is_nil(res, show(res))
      assert.are.equal("invalid_argument", err.kind, show(err))
      assert.are.equal(field, err.field, show(err))
      assert.is_truthy(err.message:find(rule, 1, true), show(err))
      assert.is_truthy(tostring(err):find(field, 1, true), tostring(err))
      assert.is_falsy(tostring(err):find(SECRET_VALUE, 1, true),
        "the message repeats a secret")
      assert.are.same({}, helper.received())
    end)
  end

  it("stops at the first bad field and sends none of the good ones",
     function()
    local res, err = client.sso.oidc.update_connection(ORG, CONN, {
      display_name = "fine", client_id = "fine", issuer = "ftp://nope",
    })
    assert.is_nil(res)
    assert.are.equal("fields.issuer", err.field)
    assert.are.same({}, helper.received())
  end)

  it("raises at module level too when called with a colon", function()
    local stytch = require "stytch"
    assert.has_error(function()
      stytch.sso:get_connections("acme")
    end, "stytch: call stytch.sso.get_connections with a dot, not a colon")
  end)

  it("raises when a closed client is used", function()
    local closed = helper.client()
    closed.close()
    assert.has_error(function()
      closed.sso.oidc.update_connection(ORG, CONN, {})
    end, "stytch: the client is closed")
    local _, message = pcall(function()
      closed.sso.get_connections(ORG)  -- not a tail call: keeps its line
    end)
    assert.matches("^spec/validation_spec%.lua:%d+: ", message)
  end)
end)

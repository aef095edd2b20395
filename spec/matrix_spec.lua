-- The bad input matrix: every public call against bad values in each of
-- its argument positions.  Each must give nil and an invalid_argument
-- error naming that argument, and the emulator must have received
-- nothing at all.
local helper = require "helper"
local stytch = require "stytch"
local show = helper.show

local ORG, CONN = helper.org, helper.pending
local unpack = table.unpack or unpack

local BAD_IDS = {
  { "nil", nil }, { "a number", 42 }, { "NaN", 0 / 0 },
  { "infinity", math.huge }, { "a boolean", true }, { "a table", {} },
  { "an array", { "acme" } }, { "a function", print },
  { "a coroutine", coroutine.create(function() end) },
  { "a file", io.stdout },
  { "a table with __tostring",
    setmetatable({}, { __tostring = function() return "acme" end }) },
  { "an empty string", "" }, { "'.'", "." }, { "'..'", ".." },
  { "a NUL byte", "a\0b" }, { "only a NUL", "\0" },
  { "a lone continuation byte", "\128" }, { "0xFF", "a\255" },
  { "an overlong slash", "\192\175" }, { "a surrogate", "\237\160\128" },
  { "a code point past U+10FFFF", "\244\144\128\128" },
  { "1025 bytes", ("x"):rep(1025) }, { "600 two-byte letters",
    ("\195\169"):rep(600) },
}

local BAD_OPTS = {
  { "a string", "token" }, { "a number", 5 }, { "true", true },
  { "a function", print },
  { "an unknown option", { session = "x" } },
  { "an empty token", { session_token = "" } },
  { "a token with a space", { session_token = "a b" } },
  { "a token with CRLF", { session_token = "a\r\nX-Evil: 1" } },
  { "a token with LF", { session_token = "a\nb" } },
  { "a token with DEL", { session_token = "abc\127" } },
  { "a non-ASCII token", { session_token = "caf\195\169" } },
  { "a numeric token", { session_token = 5 } },
  { "a NUL in the JWT", { session_jwt = "a\0b" } },
  { "a table as JWT", { session_jwt = {} } },
  { "a tab in the JWT", { session_jwt = "a\tb" } },
  { "retries as a number", { retries = 5 } },
  { "a negative retries.max", { retries = { max = -1 } } },
  { "an unknown retries key", { retries = { tries = 1 } } },
  { "a fractional retries.max", { retries = { max = 0.5 } } },
  { "a huge retries.max_delay", { retries = { max_delay = 1e9 } } },
}

local UPDATE_FIELDS = {
  { "nil", nil }, { "a string", "issuer=x" }, { "a number", 1 },
  { "a boolean", false },
  { "an unknown field", { status = "active" } },
  { "a typo", { clientid = "x" } },
  { "a positional value", { "x" } },
  { "a NUL in a key", { ["client_id\0x"] = "x" } },
  { "a number for a string", { display_name = 1 } },
  { "a table for a string", { client_id = {} } },
  { "bad UTF-8", { display_name = "\255" } },
  { "an http issuer", { issuer = "http://idp.example" } },
  { "an issuer with a query", { issuer = "https://idp.example/?a=1" } },
  { "a relative URL", { token_url = "/token" } },
  { "a URL with a space", { jwks_url = "https://idp.example/a b" } },
  { "a URL with credentials", { userinfo_url = "https://u:p@idp.example" } },
  { "a URL with a fragment", { authorization_url = "https://i.example/#a" } },
  { "a javascript URL", { authorization_url = "javascript:alert(1)" } },
  { "an unknown provider", { identity_provider = "myspace" } },
  { "a provider with a NUL", { identity_provider = "okta\0" } },
  { "a string mapping", { attribute_mapping = "email" } },
  { "a mapping to a boolean", { attribute_mapping = { email = true } } },
  { "a mapping with a number key", { attribute_mapping = { [1] = "a" } } },
  { "a cyclic mapping", (function()
      local t = {}
      t.self = t
      return { attribute_mapping = t }
    end)() },
  { "scopes as a number", { custom_scopes = 1 } },
  { "a sparse scope array", { custom_scopes = { "a", nil, "b" } } },
  { "a scope with a quote", { custom_scopes = { 'a"b' } } },
  { "a double-encoded scope", { custom_scopes = "a%2520b" } },
  { "a cyclic scope array", (function()
      local t = { "openid" }
      t[2] = t
      return { custom_scopes = t }
    end)() },
}

local CREATE_FIELDS = {
  { "nil", nil }, { "a string", "x" }, { "a number", 1 },
  { "an update-only field", { issuer = "https://idp.example" } },
  { "client_secret", { client_secret = "s" } },
  { "a typo", { displayname = "x" } },
  { "a positional value", { "x" } },
  { "a number for display_name", { display_name = 1 } },
  { "a table for display_name", { display_name = {} } },
  { "bad UTF-8", { display_name = "\255\254" } },
  { "an empty provider", { identity_provider = "" } },
  { "a provider in capitals", { identity_provider = "OKTA" } },
  { "a provider with a NUL", { identity_provider = "okta\0x" } },
  { "a NUL in a key", { ["display_name\0"] = "x" } },
}

local CALLS = {
  { "update_connection", "oidc", { "organization_id", "connection_id",
      "fields", "opts" }, UPDATE_FIELDS },
  { "create_connection", "oidc", { "organization_id", "fields", "opts" },
    CREATE_FIELDS },
  { "get_connections", false, { "organization_id", "opts" } },
  { "delete_connection", false, { "organization_id", "connection_id",
      "opts" } },
}

local GOOD = {
  organization_id = ORG, connection_id = CONN, opts = {},
  fields = { display_name = "fine" },
}

-- The arguments of a call with one of them replaced.
local function arguments(positions, name, value)
  local args = {}
  for i, position in ipairs(positions) do
    if position == name then args[i] = value else args[i] = GOOD[position] end
  end
  return args
end

describe("the bad input matrix", function()
  local client

  setup(function()
    helper.reset()
    client = helper.client()
  end)

  teardown(function()
    client.close()
  end)

  for _, call in ipairs(CALLS) do
    local name, place, positions, bad_fields = call[1], call[2], call[3],
      call[4]
    local cases = {}
    for _, position in ipairs(positions) do
      local values = position == "opts" and BAD_OPTS
        or position == "fields" and bad_fields or BAD_IDS
      for _, bad in ipairs(values) do
        cases[#cases + 1] = { position, bad[1], bad[2] }
      end
    end

    describe(name .. " (" .. #cases .. " bad inputs)", function()
      it("has at least 40 bad inputs", function()
        assert.is_true(#cases >= 40, #cases .. " cases")
      end)

      for _, case in ipairs(cases) do
        local position, what, value = case[1], case[2], case[3]
        it("refuses " .. what .. " as " .. position, function()
          local home = place and client.sso[place] or client.sso
          local args = arguments(positions, position, value)
          local res, err = home[name](unpack(args, 1, #positions))
          assert.is_nil(res, show(res))
          assert.are.equal("invalid_argument", err.kind, show(err))
          assert.are.equal(position, err.field:match("^[%w_]+"), show(err))
          assert.are.same({}, helper.received())
        end)
      end
    end)
  end

  it("refuses the same way at module level", function()
    stytch.configure { project_id = helper.project_id,
                       secret = helper.secret, base_url = helper.emulator }
    for _, bad in ipairs(BAD_IDS) do
      local _, err = stytch.sso.get_connections(bad[2])
      assert.are.equal("organization_id", err.field, bad[1])
      _, err = stytch.sso.oidc.update_connection(ORG, CONN, {}, { x = 1 })
      assert.are.equal("opts.x", err.field)
    end
    assert.are.same({}, helper.received())
  end)
end)

describe("discover with bad input", function()
  local discover = stytch.sso.oidc.discover
  local BAD_ISSUERS = {}
  for _, bad in ipairs(BAD_IDS) do BAD_ISSUERS[#BAD_ISSUERS + 1] = bad end
  for _, url in ipairs { "http://idp.example", "idp.example",
      "https://idp.example/?q", "https://idp.example/#f",
      "https://u:p@idp.example", "https://idp .example", "ftp://idp.example",
      "https://[::1%25lo]/", "https://idp.example:0" } do
    BAD_ISSUERS[#BAD_ISSUERS + 1] = { url, url }
  end

  for _, bad in ipairs(BAD_ISSUERS) do
    it("refuses the issuer " .. bad[1], function()
      local found, err = discover(bad[2])
      assert.is_nil(found)
      assert.are.equal("invalid_argument", err.kind, show(err))
      assert.are.equal("issuer", err.field)
    end)
  end

  for _, bad in ipairs { { "a string", "x" }, { "a number", 1 },
      { "an unknown option", { retries = 1 } },
      { "a zero timeout", { timeout = 0 } },
      { "a string timeout", { timeout = "5" } },
      { "a missing CA file", { cainfo = "/no/such/file" } } } do
    it("refuses opts that are " .. bad[1], function()
      local found, err = discover("https://127.0.0.1:1/x", bad[2])
      assert.is_nil(found)
      assert.is_truthy(err.kind == "invalid_argument"
        or err.error_type == "tls_ca_file_unreadable", show(err))
    end)
  end
end)

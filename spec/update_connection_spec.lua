local helper = require "helper"
local show, exchange = helper.show, helper.exchange

local function last_request()
  local received = helper.received()
  return received[#received], #received
end

describe("update_connection on the emulator", function()
  local client

  before_each(function()
    helper.reset()
    client = helper.client()
  end)

  after_each(function()
    client.close()
  end)

  describe("the wire", function()
    it("sends PUT to the documented path with a JSON body", function()
      local fields = { display_name = "Acme Okta (prod)" }
      local res, err = client.sso.oidc.update_connection(
        helper.org, helper.pending, fields)
      assert(res, exchange(fields, res, err))
      local sent = last_request()
      assert.are.equal("PUT", sent.method)
      assert.are.equal("/v1/b2b/sso/oidc/" .. helper.org .. "/connections/"
        .. helper.pending, sent.path)
      assert.are.equal("application/json", sent.headers["content-type"])
      assert.are.same(fields, sent.body)
    end)

    it("authenticates with HTTP Basic (the emulator accepts it)", function()
      local res, err = client.sso.oidc.update_connection(
        helper.org, helper.pending, {})
      assert(res, show(err))
      assert.are.equal("[redacted]", last_request().headers.authorization)
    end)

    it("names the module, Lua and libcurl in the User-Agent", function()
      assert(client.sso.oidc.update_connection(helper.org, helper.pending, {}))
      local agent = last_request().headers["user-agent"]
      assert.matches("^lua%-stytch/%d+%.%d+%.%d+ %(", agent)
      assert.matches("libcurl/%d", agent)
      local runtime = type(jit) == "table" and jit.version or _VERSION
      assert.is_truthy(agent:find(runtime, 1, true), agent)
    end)

    it("never asks for 100-continue, even for a large body", function()
      -- libcurl 7.88 asks for 100-continue above 1 MiB unless told not to.
      local big = { display_name = ("x"):rep(1500000) }
      assert(client.sso.oidc.update_connection(helper.org, helper.pending,
        big))
      local sent = last_request()
      assert.is_nil(sent.headers.expect)
      assert.are.equal(#big.display_name, #sent.body.display_name)
    end)

    it("sends only the fields that are set", function()
      local fields = { client_id = "abc", attribute_mapping = {} }
      assert(client.sso.oidc.update_connection(helper.org, helper.pending,
        fields))
      local body = last_request().body
      local keys = {}
      for key in pairs(body) do keys[#keys + 1] = key end
      table.sort(keys)
      assert.are.same({ "attribute_mapping", "client_id" }, keys)
    end)

    it("sends an empty attribute_mapping as {}", function()
      local res = assert(client.sso.oidc.update_connection(
        helper.org, helper.pending, { attribute_mapping = {} }))
      assert.are.same({}, last_request().body.attribute_mapping)
      assert.are.same({}, res.connection.attribute_mapping)
    end)

    it("joins an array of custom scopes with %20", function()
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { custom_scopes = { "openid", "groups", "offline" } }))
      assert.are.equal("openid%20groups%20offline",
        last_request().body.custom_scopes)
      assert.are.equal("openid%20groups%20offline",
        res.connection.custom_scopes)
    end)

    it("keeps a NUL byte inside a value instead of cutting it", function()
      local name = "Acme\0Okta"
      local res, err = client.sso.oidc.update_connection(helper.org,
        helper.pending, { display_name = name })
      assert(res, show(err))
      assert.are.equal(name, res.connection.display_name)
    end)

    it("reuses one kept-alive connection across calls", function()
      for _ = 1, 3 do
        assert(client.sso.oidc.update_connection(helper.org, helper.pending,
          {}))
      end
      local received = helper.received()
      assert.are.equal(3, #received)
      assert.are.equal(received[1].client_port, received[2].client_port)
      assert.are.equal(received[1].client_port, received[3].client_port)
    end)

    it("opens separate connections for separate clients", function()
      local other = helper.client()
      assert(client.sso.oidc.update_connection(helper.org, helper.pending, {}))
      assert(other.sso.oidc.update_connection(helper.org, helper.pending, {}))
      other.close()
      local received = helper.received()
      assert.are_not.equal(received[1].client_port, received[2].client_port)
    end)
  end)

  describe("path escaping", function()
    local function path_for(org, conn)
      local res, err = client.sso.oidc.update_connection(org, conn, {})
      assert.is_nil(res)
      assert.are.equal("api", err.kind, show(err))
      return last_request().path, err
    end

    it("escapes / ? # % and space so they can't change the route", function()
      local path, err = path_for("ac/me", "x?y#z% w")
      assert.are.equal(
        "/v1/b2b/sso/oidc/ac%2Fme/connections/x%3Fy%23z%25%20w", path)
      assert.are.equal(404, err.status_code)
      assert.are.equal("organization_not_found", err.error_type)
    end)

    it("escapes non-ASCII ids byte by byte", function()
      local path = path_for("acmé", "connexión")
      assert.are.equal(
        "/v1/b2b/sso/oidc/acm%C3%A9/connections/connexi%C3%B3n", path)
    end)

    it("keeps a dot that is part of an id", function()
      local path = path_for("acme", "...")
      assert.are.equal("/v1/b2b/sso/oidc/acme/connections/...", path)
    end)
  end)

  describe("organization lookup", function()
    for _, key in ipairs { "organization-test-acme-0001", "acme",
        "acme-external-7" } do
      it("finds the organization by " .. key, function()
        local res, err = client.sso.oidc.update_connection(key,
          helper.pending, { display_name = "found" })
        assert(res, show(err))
        assert.are.equal(helper.org, res.connection.organization_id)
      end)
    end

    it("returns an api error for an unknown organization", function()
      local res, err = client.sso.oidc.update_connection("nobody",
        helper.pending, {})
      assert.is_nil(res)
      assert.are.equal("api", err.kind)
      assert.are.equal(404, err.status_code)
      assert.are.equal("organization_not_found", err.error_type)
      assert.matches("^request%-id%-", err.request_id)
      assert.are.equal("https://stytch.com/docs/api/errors/404", err.error_url)
    end)

    it("returns an api error for a connection of another organization",
       function()
      local res, err = client.sso.oidc.update_connection(helper.org,
        "oidc-connection-test-globex-entra", {})
      assert.is_nil(res)
      assert.are.equal(404, err.status_code)
      assert.are.equal("oidc_connection_not_found", err.error_type)
    end)
  end)

  describe("discovery", function()
    it("infers the four URLs from the issuer's discovery document",
       function()
      local issuer = helper.idp .. "/acme"
      local res, err = client.sso.oidc.update_connection(helper.org,
        helper.pending, { issuer = issuer })
      assert(res, show(err))
      local conn = res.connection
      assert.are.equal(issuer .. "/oauth2/authorize", conn.authorization_url)
      assert.are.equal(issuer .. "/oauth2/token", conn.token_url)
      assert.are.equal(issuer .. "/oauth2/userinfo", conn.userinfo_url)
      assert.are.equal(issuer .. "/oauth2/keys", conn.jwks_url)
      assert.is_nil(res.warning)
    end)

    it("lets values sent explicitly win over discovered ones", function()
      local token_url = "https://tokens.example.com/custom"
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { issuer = helper.idp .. "/acme",
                          token_url = token_url }))
      assert.are.equal(token_url, res.connection.token_url)
      assert.are.equal(helper.idp .. "/acme/oauth2/keys",
        res.connection.jwks_url)
    end)

    it("never infers client_id or client_secret", function()
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { issuer = helper.idp .. "/acme" }))
      assert.are.equal("", res.connection.client_id)
      assert.is_true(res.connection.client_secret == "",
        "client_secret was filled in")
    end)

    it("leaves a URL the document doesn't advertise as it was", function()
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { issuer = helper.idp .. "/no-userinfo" }))
      assert.are.equal("", res.connection.userinfo_url)
      assert.are.equal(helper.idp .. "/no-userinfo/oauth2/token",
        res.connection.token_url)
    end)

    it("strips one trailing slash before appending the well-known path",
       function()
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { issuer = helper.idp .. "/trailing/" }))
      assert.are.equal(helper.idp .. "/trailing/oauth2/token",
        res.connection.token_url)
    end)

    it("does not fetch again when the issuer is unchanged", function()
      local issuer = helper.idp .. "/acme"
      assert(client.sso.oidc.update_connection(helper.org, helper.pending,
        { issuer = issuer }))
      local custom = "https://tokens.example.com/mine"
      assert(client.sso.oidc.update_connection(helper.org, helper.pending,
        { token_url = custom }))
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { issuer = issuer }))
      assert.are.equal(custom, res.connection.token_url)
    end)

    for _, case in ipairs {
      { "html", "not a JSON object" },
      { "redirect", "HTTP 302" },
      { "broken", "HTTP 500" },
      { "missing", "HTTP 404" },
    } do
      it("saves the update with a warning when the document is "
         .. case[1], function()
        local issuer = helper.idp .. "/" .. case[1]
        local res, err = client.sso.oidc.update_connection(helper.org,
          helper.pending, { issuer = issuer, client_id = "kept" })
        assert(res, show(err))
        assert.are.equal(200, res.status_code)
        assert.is_string(res.warning)
        assert.is_truthy(res.warning:find(case[2], 1, true), res.warning)
        assert.are.equal(issuer, res.connection.issuer)
        assert.are.equal("kept", res.connection.client_id)
        assert.are.equal("", res.connection.token_url)
      end)
    end

    it("warns when the issuer can't be reached at all", function()
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { issuer = "https://127.0.0.1:1/closed" }))
      assert.matches("could not be reached", res.warning)
    end)
  end)

  describe("activation", function()
    it("stays pending until all seven fields are set, then is active",
       function()
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { issuer = helper.idp .. "/acme",
                          client_id = "acme-client" }))
      assert.are.equal("pending", res.connection.status)

      res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { client_secret = "acme-client-secret" }))
      assert.are.equal("active", res.connection.status)
    end)

    it("stays pending when discovery leaves a URL unset", function()
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { issuer = helper.idp .. "/no-userinfo",
                          client_id = "c", client_secret = "s" }))
      assert.are.equal("pending", res.connection.status)
      res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, { userinfo_url = "https://idp.example/userinfo" }))
      assert.are.equal("active", res.connection.status)
    end)
  end)

  describe("member sessions", function()
    it("sends session_token as X-Stytch-Member-Session", function()
      local res, err = client.sso.oidc.update_connection(helper.org,
        helper.pending, { display_name = "by admin" },
        { session_token = helper.admin.session_token })
      assert(res, show(err))
      assert.are.equal("[redacted]",
        last_request().headers["x-stytch-member-session"])
    end)

    it("sends session_jwt as X-Stytch-Member-SessionJWT", function()
      local res, err = client.sso.oidc.update_connection(helper.org,
        helper.pending, {}, { session_jwt = helper.admin.session_jwt })
      assert(res, show(err))
      assert.are.equal("[redacted]",
        last_request().headers["x-stytch-member-sessionjwt"])
      assert.is_nil(last_request().headers["x-stytch-member-session"])
    end)

    it("is refused with 403 when the member lacks the permission",
       function()
      local res, err = client.sso.oidc.update_connection(helper.org,
        helper.pending, { display_name = "by viewer" },
        { session_token = helper.viewer.session_token })
      assert.is_nil(res)
      assert.are.equal(403, err.status_code)
      assert.are.equal("unauthorized_action", err.error_type)
    end)

    it("is refused with 403 for a member of another organization",
       function()
      local _, err = client.sso.oidc.update_connection(helper.org,
        helper.pending, {}, { session_jwt = helper.globex_admin.session_jwt })
      assert.are.equal(403, err.status_code)
    end)

    it("is refused with 404 for an unknown session", function()
      local _, err = client.sso.oidc.update_connection(helper.org,
        helper.pending, {}, { session_token = "no-such-session" })
      assert.are.equal(404, err.status_code)
      assert.are.equal("session_not_found", err.error_type)
    end)

    it("leaves no session header behind for the next call", function()
      assert(client.sso.oidc.update_connection(helper.org, helper.pending, {},
        { session_token = helper.admin.session_token }))
      assert(client.sso.oidc.update_connection(helper.org, helper.pending, {}))
      assert.is_nil(last_request().headers["x-stytch-member-session"])
    end)
  end)

  describe("gateway mode", function()
    it("sends no Authorization and keeps the gateway's path", function()
      local stytch = require "stytch"
      local gateway = stytch.client {
        gateway = helper.emulator .. "/_gateway",
      }
      local res, err = gateway.sso.oidc.update_connection(helper.org,
        helper.pending, { display_name = "via gateway" },
        { session_token = helper.admin.session_token })
      gateway.close()
      assert(res, show(err))
      local sent = last_request()
      assert.are.equal("/_gateway/v1/b2b/sso/oidc/" .. helper.org
        .. "/connections/" .. helper.pending, sent.path)
      assert.is_nil(sent.headers.authorization)
      assert.are.equal("[redacted]", sent.headers["x-stytch-member-session"])
    end)
  end)

  describe("responses", function()
    it("returns request_id, an integer status_code and the connection",
       function()
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, {}))
      assert.matches("^request%-id%-", res.request_id)
      assert.are.equal(200, res.status_code)
      if math.type then
        assert.are.equal("integer", math.type(res.status_code))
      end
      assert.are.equal(helper.pending, res.connection.connection_id)
    end)

    it("has no warning field at all when there is none", function()
      local res = assert(client.sso.oidc.update_connection(helper.org,
        helper.pending, {}))
      assert.is_nil(res.warning)
      assert.is_nil(rawget(res, "warning"))
    end)
  end)

  describe("credentials", function()
    it("returns 401 unauthorized_credentials for a wrong secret", function()
      local wrong = helper.client { secret = "not-the-secret" }
      local res, err = wrong.sso.oidc.update_connection(helper.org,
        helper.pending, {})
      wrong.close()
      assert.is_nil(res)
      assert.are.equal("api", err.kind)
      assert.are.equal(401, err.status_code)
      assert.are.equal("unauthorized_credentials", err.error_type)
      assert.are.equal("Unauthorized credentials.", err.error_message)
    end)
  end)
end)

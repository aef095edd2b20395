local helper = require "helper"
local show = helper.show

local function last_request()
  local received = helper.received()
  return received[#received]
end

local function connection_ids(res)
  local ids = {}
  for i, conn in ipairs(res.oidc_connections) do
    ids[i] = conn.connection_id
  end
  table.sort(ids)
  return ids
end

describe("the connection lifecycle on the emulator", function()
  local client

  before_each(function()
    helper.reset()
    client = helper.client()
  end)

  after_each(function()
    client.close()
  end)

  describe("create_connection", function()
    it("POSTs to /v1/b2b/sso/oidc/{organization_id} and returns it pending",
       function()
      local fields = { display_name = "Acme Entra",
                       identity_provider = "microsoft-entra" }
      local res, err = client.sso.oidc.create_connection("acme", fields)
      assert(res, show(err))
      local sent = last_request()
      assert.are.equal("POST", sent.method)
      assert.are.equal("/v1/b2b/sso/oidc/acme", sent.path)
      assert.are.same(fields, sent.body)
      assert.are.equal("pending", res.connection.status)
      assert.are.equal("Acme Entra", res.connection.display_name)
      assert.are.equal(helper.org, res.connection.organization_id)
      assert.matches("^oidc%-connection%-", res.connection.connection_id)
    end)

    it("makes a connection that update and get then find", function()
      local created = assert(client.sso.oidc.create_connection(helper.org,
        { display_name = "Second" }))
      local id = created.connection.connection_id
      local updated, err = client.sso.oidc.update_connection(helper.org, id,
        { issuer = helper.idp .. "/acme", client_id = "c",
          client_secret = "s" })
      assert(updated, show(err))
      assert.are.equal("active", updated.connection.status)
      local listed = assert(client.sso.get_connections(helper.org))
      assert.is_truthy(table.concat(connection_ids(listed), " "):find(id, 1,
        true))
    end)

    it("takes only display_name and identity_provider", function()
      local res, err = client.sso.oidc.create_connection(helper.org,
        { display_name = "x", issuer = helper.idp .. "/acme" })
      assert.is_nil(res)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("fields.issuer", err.field)
      assert.matches("is not a field of create_connection", err.message)
      assert.are.same({}, helper.received())
    end)

    it("checks identity_provider against the documented list", function()
      local _, err = client.sso.oidc.create_connection(helper.org,
        { identity_provider = "Okta" })
      assert.are.equal("fields.identity_provider", err.field)
      assert.are.same({}, helper.received())
    end)

    it("is refused to a member without the create permission", function()
      local _, err = client.sso.oidc.create_connection(helper.org,
        { display_name = "x" },
        { session_token = helper.viewer.session_token })
      assert.are.equal(403, err.status_code)
    end)
  end)

  describe("get_connections", function()
    it("GETs /v1/b2b/sso/{organization_id} with no body", function()
      local res, err = client.sso.get_connections("acme-external-7")
      assert(res, show(err))
      local sent = last_request()
      assert.are.equal("GET", sent.method)
      assert.are.equal("/v1/b2b/sso/acme-external-7", sent.path)
      assert.are.equal(0, sent.body_bytes)
      assert.is_nil(sent.headers["content-type"])
      assert.are.same({ helper.pending, helper.spare }, connection_ids(res))
    end)

    it("fills lists a server left out with empty tables", function()
      local bare = require("stytch").client { project_id = "p",
        secret = "s", cainfo = helper.ca, retries = false,
        base_url = helper.idp .. "/faults/flaky/bare-lists/0/200" }
      local res, err = bare.sso.get_connections(helper.org)
      bare.close()
      assert(res, show(err))
      assert.are.same({}, res.oidc_connections)
      assert.are.same({}, res.saml_connections)
      assert.are.same({}, res.external_connections)
    end)

    it("keeps empty lists as (empty) tables, never nil", function()
      local res = assert(client.sso.get_connections(helper.org))
      assert.are.same({}, res.saml_connections)
      assert.are.same({}, res.external_connections)
      assert.matches("^request%-id%-", res.request_id)
    end)

    it("lets a member with the get permission list", function()
      local res, err = client.sso.get_connections(helper.org,
        { session_jwt = helper.viewer.session_jwt })
      assert(res, show(err))
      assert.are.equal(2, #res.oidc_connections)
    end)

    it("returns 404 for an unknown organization", function()
      local _, err = client.sso.get_connections("nobody")
      assert.are.equal("organization_not_found", err.error_type)
    end)

    it("rejects a bad organization id before sending", function()
      local _, err = client.sso.get_connections("..")
      assert.are.equal("organization_id", err.field)
      assert.are.same({}, helper.received())
    end)
  end)

  describe("delete_connection", function()
    it("DELETEs /v1/b2b/sso/{organization_id}/connections/{id}", function()
      local res, err = client.sso.delete_connection(helper.org, helper.spare)
      assert(res, show(err))
      local sent = last_request()
      assert.are.equal("DELETE", sent.method)
      assert.are.equal("/v1/b2b/sso/" .. helper.org .. "/connections/"
        .. helper.spare, sent.path)
      assert.are.equal(0, sent.body_bytes)
      assert.are.equal(helper.spare, res.connection_id)
      local listed = assert(client.sso.get_connections(helper.org))
      assert.are.same({ helper.pending }, connection_ids(listed))
    end)

    it("returns 404 when the connection is already gone", function()
      assert(client.sso.delete_connection(helper.org, helper.spare))
      local res, err = client.sso.delete_connection(helper.org, helper.spare)
      assert.is_nil(res)
      assert.are.equal(404, err.status_code)
      assert.are.equal("connection_not_found", err.error_type)
    end)

    it("is refused to a member without the delete permission", function()
      local _, err = client.sso.delete_connection(helper.org, helper.spare,
        { session_token = helper.viewer.session_token })
      assert.are.equal(403, err.status_code)
      assert(client.sso.get_connections(helper.org))
    end)

    it("escapes the connection id as one segment", function()
      local _, err = client.sso.delete_connection(helper.org, "a/../b")
      assert.are.equal(404, err.status_code)
      assert.are.equal("/v1/b2b/sso/" .. helper.org
        .. "/connections/a%2F..%2Fb", last_request().path)
    end)
  end)

  describe("one client across methods", function()
    it("carries no body, method or header from one call to the next",
       function()
      assert(client.sso.oidc.update_connection(helper.org, helper.pending,
        { display_name = "first" },
        { session_token = helper.admin.session_token }))
      assert(client.sso.get_connections(helper.org))
      assert(client.sso.delete_connection(helper.org, helper.spare))
      assert(client.sso.oidc.create_connection(helper.org,
        { display_name = "last" }))
      assert(client.sso.get_connections(helper.org))

      local received = helper.received()
      local methods = {}
      for i, sent in ipairs(received) do methods[i] = sent.method end
      assert.are.same({ "PUT", "GET", "DELETE", "POST", "GET" }, methods)
      for _, i in ipairs { 2, 3, 5 } do
        assert.are.equal(0, received[i].body_bytes, received[i].method)
        assert.is_nil(received[i].headers["content-type"])
        assert.is_nil(received[i].headers["x-stytch-member-session"])
      end
      assert.are.same({ display_name = "last" }, received[4].body)
      assert.are.equal(received[1].client_port, received[5].client_port)
    end)
  end)

  describe("at module level", function()
    it("offers every call on the configured default client", function()
      local stytch = require "stytch"
      stytch.configure { project_id = helper.project_id,
                         secret = helper.secret, base_url = helper.emulator }
      local created = assert(stytch.sso.oidc.create_connection(helper.org,
        { display_name = "module level" }))
      local id = created.connection.connection_id
      assert(stytch.sso.oidc.update_connection(helper.org, id,
        { client_id = "x" }))
      local listed = assert(stytch.sso.get_connections(helper.org))
      assert.are.equal(3, #listed.oidc_connections)
      assert(stytch.sso.delete_connection(helper.org, id))
      listed = assert(stytch.sso.get_connections(helper.org))
      assert.are.equal(2, #listed.oidc_connections)
    end)
  end)
end)

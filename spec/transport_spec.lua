local helper = require "helper"
local show = helper.show
local stytch = require "stytch"

-- A client whose base URL is one of the test identity provider's fault
-- routes, over https with the throwaway CA.
local function faulty(name, extra)
  local config = {
    project_id = helper.project_id,
    secret = helper.secret,
    base_url = helper.idp .. "/faults/" .. name,
    cainfo = helper.ca,
    retries = false,  -- one attempt: these specs are about what it meets
  }
  for key, value in pairs(extra or {}) do config[key] = value end
  return stytch.client(config)
end

local function update(client)
  local res, err = client.sso.oidc.update_connection(helper.org,
    helper.pending, { client_secret = helper.secret })
  client.close()
  return res, err
end

describe("failures of the network and of servers", function()
  it("reports a refused connection as a network error", function()
    local client = helper.client { base_url = "http://127.0.0.1:1",
                                   retries = false }
    local res, err = update(client)
    assert.is_nil(res)
    assert.are.equal("network", err.kind, show(err))
    assert.are.equal("couldnt_connect", err.error_type)
    assert.is_number(err.curl_code)
  end)

  it("gives up on a server that never answers after the timeout",
     function()
    local res, err = update(faulty("hang", { timeout = 0.5 }))
    assert.is_nil(res)
    assert.are.equal("timeout", err.kind, show(err))
    assert.are.equal("timeout", err.error_type)
  end)

  it("reads an HTML 502 as invalid_response keeping the status", function()
    local res, err = update(faulty("html502"))
    assert.is_nil(res)
    assert.are.equal("invalid_response", err.kind, show(err))
    assert.are.equal(502, err.status_code)
  end)

  it("reads an empty 500 as invalid_response keeping the status", function()
    local _, err = update(faulty("empty500"))
    assert.are.equal("invalid_response", err.kind, show(err))
    assert.are.equal(500, err.status_code)
    assert.matches("empty body", err.message)
  end)

  it("fills the error fields from an OAuth 2.0 shaped body", function()
    local _, err = update(faulty("oauth400"))
    assert.are.equal("api", err.kind, show(err))
    assert.are.equal(400, err.status_code)
    assert.are.equal("invalid_client", err.error_type)
    assert.are.equal("Client authentication failed.", err.error_message)
    assert.are.equal("https://idp.example/errors/invalid_client",
      err.error_url)
    assert.are.equal("stytch api 400 invalid_client: Client authentication "
      .. "failed.", tostring(err))
  end)

  it("refuses a certificate from an unknown CA", function()
    local client = stytch.client {
      project_id = helper.project_id, secret = helper.secret,
      base_url = helper.idp .. "/faults/html502", retries = false,
    }
    local res, err = update(client)
    assert.is_nil(res)
    assert.are.equal("network", err.kind, show(err))
    assert.matches("^tls_", err.error_type)
  end)

  it("refuses a certificate for another name from a trusted CA", function()
    local client = stytch.client {
      project_id = helper.project_id, secret = helper.secret,
      cainfo = helper.ca, retries = false,
      base_url = helper.idp_wrong_name .. "/faults/html502",
    }
    local res, err = update(client)
    assert.is_nil(res)
    assert.are.equal("tls_verification_failed", err.error_type, show(err))
  end)

  it("lets dangerously_skip_tls_verification through, and only it",
     function()
    local client = stytch.client {
      project_id = helper.project_id, secret = helper.secret,
      retries = false, dangerously_skip_tls_verification = true,
      base_url = helper.idp_wrong_name .. "/faults/html502",
    }
    local _, err = update(client)
    assert.are.equal(502, err.status_code, show(err))
  end)

  it("stays usable after a failure, carrying none of its state", function()
    local client = helper.client()
    helper.reset()
    local res, err = client.sso.oidc.update_connection("nobody",
      helper.pending, {}, { session_token = helper.admin.session_token })
    assert.is_nil(res)
    assert.are.equal(404, err.status_code)
    res, err = client.sso.oidc.update_connection(helper.org, helper.pending,
      { display_name = "after failure" })
    client.close()
    assert(res, show(err))
    local received = helper.received()
    assert.is_nil(received[2].headers["x-stytch-member-session"])
  end)

  it("never puts a secret into an error", function()
    for _, name in ipairs { "html502", "empty500", "oauth400" } do
      local _, err = update(faulty(name))
      local text = tostring(err) .. show(err)
      assert.is_falsy(text:find(helper.secret, 1, true),
        name .. ": an error repeats the project secret")
    end
  end)
end)

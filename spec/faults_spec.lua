-- Fault injection: each fault of the test identity provider, met once by
-- a client whose next call must then succeed.  Every case ends in its
-- documented result, the process goes on, and the client is reusable.
local helper = require "helper"
local stytch = require "stytch"
local show = helper.show

local REDIRECT = "https://127.0.0.1:1/elsewhere"

-- name, extra client options, then what the first call must return:
-- kind, error_type, status_code, and a piece of the message, or "ok".
local CASES = {
  { "reset", {}, "network", "partial_response" },
  { "hang", { timeout = 0.3 }, "timeout", "timeout" },
  { "drip", { stall_timeout = 1 }, "timeout", "timeout" },
  { "html502", {}, "invalid_response", nil, 502, "not a JSON object" },
  { "empty500", {}, "invalid_response", nil, 500, "empty body" },
  { "truncated", {}, "invalid_response", nil, 200, "not valid JSON" },
  { "huge", {}, "invalid_response", nil, 200, "exceeds" },
  { "deep", {}, "invalid_response", nil, 200, "too many nested" },
  { "nan", {}, "invalid_response", nil, 200, "not valid JSON" },
  { "infinity", {}, "invalid_response", nil, 200, "not valid JSON" },
  { "hex", {}, "invalid_response", nil, 200, "not valid JSON" },
  { "bad_utf8", {}, "invalid_response", nil, 200, "not valid UTF-8" },
  { "oauth400", {}, "api", "invalid_client", 400 },
  { "redirect301", {}, "invalid_response", "redirect", 301 },
  { "redirect302", {}, "invalid_response", "redirect", 302 },
  { "redirect307", {}, "invalid_response", "redirect", 307 },
  { "redirect308", {}, "invalid_response", "redirect", 308 },
  { "early_hints", {}, "ok" },
  { "gzip", {}, "ok" },
  { "chunked", {}, "ok" },
}

local runs = 0

local function client_for(name, extra)
  runs = runs + 1
  local config = {
    project_id = helper.project_id, secret = helper.secret,
    cainfo = helper.ca, retries = false,
    base_url = ("%s/faults/once/f%d-%d/%s"):format(helper.idp, runs,
      os.time(), name),
  }
  for key, value in pairs(extra) do config[key] = value end
  return stytch.client(config)
end

describe("a client meeting a fault", function()
  for _, case in ipairs(CASES) do
    local name, extra, kind, error_type, status, words =
      case[1], case[2], case[3], case[4], case[5], case[6]

    it(name .. " ends in " .. (kind == "ok" and "success" or kind)
       .. ", and the client goes on", function()
      local client = client_for(name, extra)
      local res, err = client.sso.oidc.update_connection(helper.org,
        helper.pending, { client_secret = helper.secret })
      if kind == "ok" then
        assert(res, show(err))
        assert.are.equal(200, res.status_code)
      else
        assert.is_nil(res, show(res))
        assert.are.equal(kind, err.kind, show(err))
        if error_type then
          assert.are.equal(error_type, err.error_type, show(err))
        end
        if status then assert.are.equal(status, err.status_code) end
        if words then
          assert.is_truthy(err.message:find(words, 1, true), err.message)
        end
        if error_type == "redirect" then
          assert.are.equal(REDIRECT, err.location)
        end
        assert.is_falsy(tostring(err):find(helper.secret, 1, true),
          "an error repeats a secret")
      end

      res, err = client.sso.get_connections(helper.org)
      client.close()
      assert(res, show(err))
      assert.are.equal("request-id-idp-ok", res.request_id)
    end)
  end

  it("recovers by retrying an idempotent call after a dropped response",
     function()
    local client = client_for("reset",
      { retries = { max = 2, base_delay = 0, max_delay = 0 } })
    local res, err = client.sso.get_connections(helper.org)
    client.close()
    assert(res, show(err))
  end)

  it("does not retry a create after a dropped response", function()
    local client = client_for("reset",
      { retries = { max = 2, base_delay = 0, max_delay = 0 } })
    local res, err = client.sso.oidc.create_connection(helper.org, {})
    client.close()
    assert.is_nil(res)
    assert.is_true(err.request_sent)
    assert.are.equal(1, err.attempts)
  end)
end)

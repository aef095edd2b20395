-- Retries, against the test identity provider's scripted failures: the
-- server counts what reached it, the on_retry hook shows each wait.
local helper = require "helper"
local stytch = require "stytch"
local show = helper.show

local FAST = { max = 3, base_delay = 0.01, max_delay = 0.05 }
local runs = 0

-- A client on a fresh flaky key; returns it, the key and the retry log.
local function flaky(failures, status, retry_after, retries)
  runs = runs + 1
  local key = ("k%d-%d"):format(runs, os.time())
  local path = ("/faults/flaky/%s/%d/%d"):format(key, failures, status)
  if retry_after then path = path .. "/" .. retry_after end
  local log = {}
  local client = stytch.client {
    project_id = "p", secret = "s", cainfo = helper.ca,
    base_url = helper.idp .. path,
    retries = retries == nil and FAST or retries,
    on_retry = function(event) log[#log + 1] = event end,
  }
  return client, key, log
end

-- How many requests the identity provider saw under key.
local function count(key)
  local pipe = assert(helper.popen("curl -s --noproxy '*' --cacert "
    .. helper.ca .. " " .. helper.idp .. "/faults/count/" .. key))
  local body = pipe:read("*a")
  pipe:close()
  return tonumber(body:match('"count":(%d+)'))
end

describe("retries", function()
  for _, status in ipairs { 500, 502, 503, 504, 429 } do
    it("retries a GET after HTTP " .. status .. " and then succeeds",
       function()
      local client, key, log = flaky(2, status)
      local res, err = client.sso.get_connections("acme")
      client.close()
      assert(res, show(err))
      assert.are.equal(3, res.request_number)
      assert.are.equal(3, count(key))
      assert.are.equal(2, #log)
      assert.are.equal("get_connections", log[1].call)
      assert.are.equal(status, log[1].error.status_code)
    end)
  end

  it("retries PUT and DELETE like GET", function()
    local client, key = flaky(1, 503)
    assert(client.sso.oidc.update_connection("acme", "c", {}))
    assert.are.equal(2, count(key))
    client.close()
    client, key = flaky(1, 503)
    assert(client.sso.delete_connection("acme", "c"))
    assert.are.equal(2, count(key))
    client.close()
  end)

  it("never retries a POST whose body may have reached the server",
     function()
    local client, key, log = flaky(1, 503)
    local res, err = client.sso.oidc.create_connection("acme", {})
    client.close()
    assert.is_nil(res)
    assert.are.equal(503, err.status_code)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, count(key))
    assert.are.equal(0, #log)
  end)

  it("retries a POST that never left: the connection was refused",
     function()
    local log = {}
    local client = stytch.client { project_id = "p", secret = "s",
      base_url = "http://127.0.0.1:1", retries = FAST,
      on_retry = function(event) log[#log + 1] = event end }
    local _, err = client.sso.oidc.create_connection("acme", {})
    client.close()
    assert.are.equal("couldnt_connect", err.error_type)
    assert.is_false(err.request_sent)
    assert.are.equal(4, err.attempts)
    assert.are.equal(3, #log)
  end)

  it("says how many attempts were made when it gives up", function()
    local client, key = flaky(10, 500)
    local res, err = client.sso.get_connections("acme")
    client.close()
    assert.is_nil(res)
    assert.are.equal(4, err.attempts)
    assert.are.equal(4, count(key))
  end)

  it("does not retry a 4xx other than 429", function()
    local client, key = flaky(1, 404)
    local _, err = client.sso.get_connections("acme")
    client.close()
    assert.are.equal(404, err.status_code)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, count(key))
  end)

  it("does not retry invalid input, which never left", function()
    local client = flaky(1, 503)
    local _, err = client.sso.get_connections("..")
    client.close()
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal(1, err.attempts)
  end)

  it("honours Retry-After in seconds, up to max_delay", function()
    local client, _, log = flaky(1, 429, "1", { max = 2, base_delay = 0,
                                               max_delay = 0.3 })
    assert(client.sso.get_connections("acme"))
    client.close()
    assert.are.equal(1, log[1].error.retry_after)
    assert.are.equal(0.3, log[1].delay)
  end)

  it("honours Retry-After as an HTTP date", function()
    local client, _, log = flaky(1, 503, "date2", { max = 2, base_delay = 0,
                                                   max_delay = 0.2 })
    assert(client.sso.get_connections("acme"))
    client.close()
    assert.is_true(log[1].error.retry_after > 0, show(log[1]))
    assert.is_true(log[1].error.retry_after <= 2)
    assert.are.equal(0.2, log[1].delay)
  end)

  it("waits with full jitter below the exponential ceiling", function()
    local client, _, log = flaky(3, 500, nil, { max = 3, base_delay = 0.02,
                                               max_delay = 0.05 })
    assert(client.sso.get_connections("acme"))
    client.close()
    for i, event in ipairs(log) do
      local ceiling = math.min(0.05, 0.02 * 2 ^ (i - 1))
      assert.is_true(event.delay >= 0 and event.delay <= ceiling,
        show(event))
    end
  end)

  it("can be switched off per client", function()
    local client, key = flaky(1, 503, nil, false)
    local _, err = client.sso.get_connections("acme")
    client.close()
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, count(key))
  end)

  it("can be switched off, or changed, per call", function()
    local client, key = flaky(2, 503)
    local _, err = client.sso.get_connections("acme", { retries = false })
    assert.are.equal(1, err.attempts)
    _, err = client.sso.get_connections("acme",
      { retries = { max = 0 } })
    assert.are.equal(1, err.attempts)
    local res = assert(client.sso.get_connections("acme",
      { retries = { max = 1 } }))
    client.close()
    assert.are.equal(3, res.request_number)
    assert.are.equal(3, count(key))
  end)

  it("refuses a bad per-call retries option, sending nothing", function()
    local client, key = flaky(0, 500)
    local res, err = client.sso.get_connections("acme",
      { retries = { max = -1 } })
    client.close()
    assert.is_nil(res)
    assert.are.equal("opts.retries.max", err.field)
    assert.are.equal(0, count(key))
  end)

  it("retries a timeout of an idempotent call", function()
    local log = {}
    local client = stytch.client { project_id = "p", secret = "s",
      cainfo = helper.ca, base_url = helper.idp .. "/faults/hang",
      timeout = 0.2, retries = { max = 1, base_delay = 0, max_delay = 0 },
      on_retry = function(event) log[#log + 1] = event end }
    local _, err = client.sso.get_connections("acme")
    client.close()
    assert.are.equal("timeout", err.kind)
    assert.are.equal(2, err.attempts)
    assert.are.equal(1, #log)
  end)

  it("never retries a TLS verification failure", function()
    local client = stytch.client { project_id = "p", secret = "s",
      base_url = helper.idp .. "/faults/flaky/tls/0/200", retries = FAST }
    local _, err = client.sso.get_connections("acme")
    client.close()
    assert.are.equal("tls_verification_failed", err.error_type)
    assert.are.equal(1, err.attempts)
  end)
end)

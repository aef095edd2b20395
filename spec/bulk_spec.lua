-- update_connections: many updates through one client's libcurl multi
-- handle, against the emulator (real updates, with its request log) and
-- the test identity provider (which counts what is in flight at once and
-- when each request came).
local helper = require "helper"
local cjson = require "cjson"
local stytch = require "stytch"
local show = helper.show

local FAST = { max = 2, base_delay = 0.01, max_delay = 0.05 }
local runs = 0

-- A fresh key for the identity provider's counters.
local function fresh_key(name)
  runs = runs + 1
  return ("%s-%d-%d"):format(name, runs, os.time())
end

-- A client whose base URL is a route of the test identity provider.
local function idp_client(route, extra)
  local config = { project_id = "p", secret = "s", cainfo = helper.ca,
    base_url = helper.idp .. route, retries = false }
  for key, value in pairs(extra or {}) do config[key] = value end
  return stytch.client(config)
end

local function idp_get(path)
  local pipe = assert(helper.popen("curl -s --noproxy '*' --cacert "
    .. helper.ca .. " " .. helper.idp .. path))
  local body = pipe:read("*a")
  pipe:close()
  return cjson.decode(body)
end

-- Updates of n new acme connections, each its own display name.
local function updates(n)
  local list = {}
  for i, id in ipairs(helper.new_connections(n)) do
    list[i] = { "acme", id, { display_name = "Batch " .. i } }
  end
  return list
end

-- n updates of connections that need not exist, for the identity
-- provider's routes (which answer any path) or for input that is refused.
local function unsent(n)
  local list = {}
  for i = 1, n do list[i] = { "acme", "c" .. i, { display_name = "x" } } end
  return list
end

-- The identity provider's arrivals under key; those from the `from`th on
-- must have come 0.9 s or more after the first (the 429's Retry-After).
local function assert_held(key, count, from)
  local arrivals = idp_get("/faults/arrivals/" .. key).arrivals
  assert.are.equal(count, #arrivals, show(arrivals))
  assert.are.equal(429, arrivals[1].status)
  for k = from, count do
    assert.is_true(arrivals[k].at >= 0.9, show(arrivals))
  end
end

describe("update_connections", function()
  before_each(helper.reset)

  it("makes every update once and answers in input order", function()
    local client = helper.client()
    local results, failed = client.sso.oidc.update_connections(updates(24),
      { concurrency = 5 })
    assert(results, show(failed))
    assert.are.equal(0, failed)
    assert.are.equal(24, #results)
    for i, result in ipairs(results) do
      assert(result.res, show(result.err))
      assert.are.equal("Batch " .. i, result.res.connection.display_name)
    end
    local sent = {}
    for _, request in ipairs(helper.received_puts()) do
      sent[#sent + 1] = request.body.display_name
    end
    table.sort(sent)
    local expected = {}
    for i = 1, 24 do expected[i] = "Batch " .. i end
    table.sort(expected)
    assert.are.same(expected, sent)
  end)

  it("takes updates by name as well as by position", function()
    local client = helper.client()
    local results = client.sso.oidc.update_connections {
      { organization_id = "acme", connection_id = helper.pending,
        fields = { display_name = "Named" },
        opts = { session_token = helper.admin.session_token } },
    }
    assert(results[1].res, show(results[1].err))
    assert.are.equal("Named", results[1].res.connection.display_name)
    -- The emulator's log keeps the header, with its value redacted.
    local sent = helper.received()[1]
    assert.are.equal("[redacted]", sent.headers["x-stytch-member-session"])
  end)

  it("reports each failure in its place, once, and the rest succeed",
     function()
    local client = helper.client()
    local list = updates(10)
    list[3][2] = "oidc-connection-test-missing-3"
    list[7][2] = "oidc-connection-test-missing-7"
    local seen = {}
    local results, failed = client.sso.oidc.update_connections(list, {
      concurrency = 4,
      on_progress = function(event)
        seen[#seen + 1] = event
      end,
    })
    assert.are.equal(2, failed)
    for i, result in ipairs(results) do
      if i == 3 or i == 7 then
        assert.is_nil(result.res)
        assert.are.equal("api", result.err.kind)
        assert.are.equal(404, result.err.status_code)
        assert.are.equal(1, result.err.attempts)
      else
        assert(result.res, show(result.err))
      end
    end
    -- on_progress: each update once, `done` counting up to the total.
    local indexes = {}
    for k, event in ipairs(seen) do
      assert.are.equal(k, event.done)
      assert.are.equal(10, event.total)
      assert.are.equal(event.index == 3 or event.index == 7,
        event.err ~= nil)
      indexes[#indexes + 1] = event.index
    end
    table.sort(indexes)
    assert.are.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, indexes)
    -- A 404 is not retried: one request per update reached the emulator.
    assert.are.equal(10, #helper.received_puts())
  end)

  it("returns an empty list for an empty batch", function()
    local results, failed = helper.client().sso.oidc.update_connections {}
    assert.are.same({}, results)
    assert.are.equal(0, failed)
  end)

  it("has the requests in flight together, up to `concurrency`",
     function()
    -- The identity provider holds each request until four have come: all
    -- four see 4 only if they were in flight at once.
    local key = fresh_key("barrier")
    local client = idp_client("/faults/barrier/" .. key .. "/4")
    local list = unsent(4)
    local results = client.sso.oidc.update_connections(list,
      { concurrency = 4 })
    for _, result in ipairs(results) do
      assert(result.res, show(result.err))
      assert.are.equal(4, result.res.together)
    end
  end)

  it("never has more than `concurrency` in flight", function()
    local key = fresh_key("inflight")
    local client = idp_client("/faults/inflight/" .. key)
    local list = unsent(12)
    local results, failed = client.sso.oidc.update_connections(list,
      { concurrency = 3 })
    assert.are.equal(0, failed, show(results))
    local peak = idp_get("/faults/peak/" .. key).peak
    assert.is_true(peak <= 3, "peak " .. peak)
    assert.is_true(peak >= 2, "peak " .. peak)
  end)

  it("holds the whole batch after a 429, for its Retry-After", function()
    -- The first request gets a 429 with Retry-After: 1; the one in flight
    -- beside it a 200 after 0.2 s.  Waiting only for the 429's own retry
    -- would start the third update then; the batch must wait it out.
    local key = fresh_key("slowdown")
    local retried = {}
    local client = idp_client("/faults/slowdown/" .. key, {
      retries = { max = 2, base_delay = 0.01, max_delay = 5 },
      on_retry = function(event) retried[#retried + 1] = event end,
    })
    local list = unsent(4)
    local results, failed = client.sso.oidc.update_connections(list,
      { concurrency = 2 })
    assert.are.equal(0, failed, show(results))
    assert.are.equal(1, #retried)
    assert.are.equal("update_connections", retried[1].call)
    assert.are.equal(1, retried[1].delay)
    assert.are.equal(429, retried[1].error.status_code)
    assert_held(key, 5, 3)
  end)

  it("holds the batch after a 429 even with retries off", function()
    local key = fresh_key("slowdown")
    local client = idp_client("/faults/slowdown/" .. key)
    local list = unsent(4)
    local results, failed = client.sso.oidc.update_connections(list,
      { concurrency = 2 })
    assert.are.equal(1, failed, show(results))
    local refused = results[1].err or results[2].err
    assert.are.equal(429, refused.status_code)
    assert_held(key, 4, 3)
  end)

  it("retries a failed transport as single calls do, then reports it",
     function()
    local client = stytch.client { project_id = "p", secret = "s",
      base_url = "http://127.0.0.1:1", retries = FAST }
    local results, failed = client.sso.oidc.update_connections(unsent(3))
    assert.are.equal(3, failed)
    for _, result in ipairs(results) do
      assert.are.equal("network", result.err.kind)
      assert.are.equal("couldnt_connect", result.err.error_type)
      assert.are.equal(3, result.err.attempts)
    end
  end)

  it("checks every update before sending any", function()
    local client = helper.client()
    local list = updates(5)
    list[4][3] = { issuer = "http://idp.example" }
    local results, err = client.sso.oidc.update_connections(list)
    assert.is_nil(results)
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal("list[4].fields.issuer", err.field)
    assert.matches("^list%[4%]%.fields%.issuer must be", err.message)
    assert.are.same({}, helper.received_puts())
  end)

  local BAD = {
    { "a list that is no table", "acme", nil, "list" },
    { "an update that is no table", { "acme" }, nil, "list[1]" },
    { "an update without fields", { { "acme", "c" } }, nil,
      "list[1].fields" },
    { "an update with an empty id", { { "acme", "", {} } }, nil,
      "list[1].connection_id" },
    { "an update's own retries", { { "acme", "c", {}, { retries = false } } },
      nil, "list[1].opts.retries" },
    { "opts that are no table", {}, 3, "opts" },
    { "an unknown option", {}, { concurency = 4 }, "opts.concurency" },
    { "concurrency 0", {}, { concurrency = 0 }, "opts.concurrency" },
    { "concurrency 65", {}, { concurrency = 65 }, "opts.concurrency" },
    { "a fractional concurrency", {}, { concurrency = 2.5 },
      "opts.concurrency" },
    { "a string concurrency", {}, { concurrency = "4" }, "opts.concurrency" },
    { "an on_progress that is no function", {}, { on_progress = true },
      "opts.on_progress" },
    { "bad retries", {}, { retries = 5 }, "opts.retries" },
    { "an update with an unknown key", { { "acme", "c", {}, extra = 1 } },
      nil, "list[1]" },
    { "an update by name and by position", { { "acme", "c", {},
      organization_id = "acme" } }, nil, "list[1]" },
    { "a list with other keys", { a = { "acme", "c", {} } }, nil, "list" },
    { "a list with a hole", { [2] = { "acme", "c", {} } }, nil, "list" },
    { "two updates of one connection", { { "acme", "c", {} },
      { "acme", "d", {} }, { "acme", "c", {} } }, nil, "list[3]" },
  }
  for _, case in ipairs(BAD) do
    it("refuses " .. case[1] .. ", naming " .. case[4], function()
      local client = helper.client()
      local results, err = client.sso.oidc.update_connections(case[2],
        case[3])
      assert.is_nil(results)
      assert.are.equal("invalid_argument", err.kind, show(err))
      assert.are.equal(case[4], err.field)
      assert.are.same({}, helper.received_puts())
    end)
  end

  it("gives every update a result when the client is closed midway",
     function()
    local client = helper.client()
    local results, failed = client.sso.oidc.update_connections(updates(12),
      { concurrency = 2, on_progress = function(event)
        if event.done == 3 then client.close() end
      end })
    assert.are.equal(12, #results)
    local ok, closed = 0, 0
    for _, result in ipairs(results) do
      if result.res then
        ok = ok + 1
      else
        assert.are.equal("network", result.err.kind)
        assert.are.equal("client_closed", result.err.error_type)
        assert.are.equal("boolean", type(result.err.request_sent))
        closed = closed + 1
      end
    end
    assert.is_true(ok >= 3)
    assert.are.equal(12, ok + closed)
    assert.are.equal(closed, failed)
  end)

  it("says a closed client's update was sent when it was, with its error",
     function()
    -- The update times out, and the client is closed in its retry wait.
    local client
    client = idp_client("/faults/hang", { timeout = 0.3,
      retries = { max = 2, base_delay = 5, max_delay = 5 },
      on_retry = function() client.close() end })
    local results, failed = client.sso.oidc.update_connections(unsent(1))
    assert.are.equal(1, failed)
    local err = results[1].err
    assert.are.equal("client_closed", err.error_type)
    assert.is_true(err.request_sent)
    assert.are.equal(1, err.attempts)
    assert.are.equal("timeout", err.last_error.kind)
    assert.matches("may or may not have taken effect", err.message)
  end)

  it("says a closed client's update never left when no byte did",
     function()
    local client
    client = stytch.client { project_id = "p", secret = "s",
      base_url = "http://127.0.0.1:1", retries = FAST,
      on_retry = function() client.close() end }
    local results = client.sso.oidc.update_connections(unsent(2),
      { concurrency = 1 })
    for _, result in ipairs(results) do
      assert.are.equal("client_closed", result.err.error_type)
      assert.is_false(result.err.request_sent)
    end
  end)

  it("refuses an on_progress that yields, and the client goes on",
     function()
    local client = helper.client()
    local batch = coroutine.create(function()
      return client.sso.oidc.update_connections(updates(4), {
        concurrency = 2, on_progress = function() coroutine.yield() end })
    end)
    local ok, why = coroutine.resume(batch)
    assert.is_false(ok)
    assert.matches("must not yield", why)
    local results, failed = client.sso.oidc.update_connections(updates(2))
    assert.are.equal(0, failed, show(results))
  end)

  it("lets an error of on_progress through, and the client goes on",
     function()
    local client = helper.client()
    local ok, why = pcall(client.sso.oidc.update_connections, updates(6), {
      concurrency = 3, on_progress = function() error("stop here") end })
    assert.is_false(ok)
    assert.matches("stop here", why)
    local results, failed = client.sso.oidc.update_connections(updates(4))
    assert.are.equal(0, failed, show(results))
  end)

  it("refuses a colon call, a batch inside a batch, a closed client",
     function()
    local client = helper.client()
    assert.has_error(function()
      client.sso.oidc:update_connections(unsent(1))
    end, "stytch: call client.sso.oidc.update_connections with a dot, "
      .. "not a colon")
    local ok, why = pcall(client.sso.oidc.update_connections, updates(2), {
      on_progress = function()
        client.sso.oidc.update_connections(unsent(1))
      end })
    assert.is_false(ok)
    assert.matches("already running update_connections", why)
    client.close()
    assert.has_error(function()
      client.sso.oidc.update_connections(unsent(1))
    end, "stytch: the client is closed")
  end)

  it("is also a module-level function on the default client", function()
    stytch.configure { project_id = helper.project_id,
      secret = helper.secret, base_url = helper.emulator }
    local results, failed = stytch.sso.oidc.update_connections(updates(3))
    assert.are.equal(0, failed, show(results))
    assert.are.equal("Batch 3", results[3].res.connection.display_name)
  end)

  it("keeps single calls working beside a batch", function()
    local client = helper.client()
    local single
    local results, failed = client.sso.oidc.update_connections(updates(4), {
      concurrency = 2, on_progress = function(event)
        if event.done == 1 then
          single = client.sso.get_connections("acme")
        end
      end })
    assert.are.equal(0, failed, show(results))
    assert(single and single.oidc_connections, show(single))
  end)
end)

-- stytch.ngx and stytch.gateway in a real nginx (with the lua module),
-- started by with-servers in front of the emulator and the test identity
-- provider.  Each call runs in nginx's /test/call and comes back as JSON.
local helper = require "helper"
local cjson = require "cjson"
local stytch = require "stytch"
local show = helper.show

local nginx = os.getenv("STYTCH_TEST_NGINX")
local CONFIG = { project_id = helper.project_id, secret = helper.secret }

local quote = helper.quote

-- Run a call inside nginx; returns res, err (plain tables) and the text,
-- or nil, nil, nil and what it raised.  job_extra: more of the job.
local function call(place, name, args, config, curl_extra, job_extra)
  local job = { place = place, call = name, n = #args, config = config
    or CONFIG, args = {} }
  for key, value in pairs(job_extra or {}) do job[key] = value end
  for i = 1, job.n do
    if args[i] == nil then job.args[i] = cjson.null
    else job.args[i] = args[i] end
  end
  local file = os.tmpname()
  local f = assert(io.open(file, "wb"))
  f:write(cjson.encode(job))
  f:close()
  local pipe = assert(helper.popen("curl -s --noproxy '*' "
    .. (curl_extra or "") .. " --data-binary @" .. file .. " "
    .. nginx .. "/test/call"))
  local out = pipe:read("*a")
  pipe:close()
  os.remove(file)
  local ok, answer = pcall(cjson.decode, out)
  assert(ok, "nginx answered: " .. out)
  local function plain(value)
    if value == cjson.null then return nil end
    return value
  end
  return plain(answer.res), plain(answer.err), plain(answer.text),
    answer.raised
end

local describe_nginx = nginx and describe or pending

describe_nginx("stytch.ngx inside nginx", function()
  before_each(helper.reset)

  it("updates a connection as the plain client does", function()
    local res, err = call("oidc", "update_connection", { "acme",
      helper.pending, { issuer = helper.idp .. "/acme", client_id = "c",
                        client_secret = "s" } })
    assert(res, show(err))
    assert.are.equal("active", res.connection.status)
    assert.are.equal(helper.idp .. "/acme/oauth2/token",
      res.connection.token_url)
    local sent = helper.received()[1]
    assert.are.equal("PUT", sent.method)
    assert.are.equal("/v1/b2b/sso/oidc/acme/connections/" .. helper.pending,
      sent.path)
    assert.matches("^lua%-stytch/.* nginx$", sent.headers["user-agent"])
  end)

  it("returns the same errors as the plain client", function()
    local _, err, text = call("oidc", "update_connection",
      { "nobody", helper.pending, {} })
    local client = helper.client()
    local _, plain_err = client.sso.oidc.update_connection("nobody",
      helper.pending, {})
    client.close()
    assert.are.equal("api", err.kind)
    assert.are.equal(404, err.status_code)
    assert.are.equal(plain_err.error_type, err.error_type)
    assert.are.equal(tostring(plain_err):gsub("request%-id%-%S+", ""),
      text:gsub("request%-id%-%S+", ""))
  end)

  it("refuses bad input before any subrequest", function()
    local _, err = call("oidc", "update_connection",
      { "acme", "..", { clientid = "x" } })
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal("connection_id", err.field)
    assert.are.same({}, helper.received())
  end)

  it("creates, lists and deletes", function()
    local created = assert(call("oidc", "create_connection",
      { "acme", { display_name = "via nginx" } }))
    local id = created.connection.connection_id
    local listed = assert(call(false, "get_connections", { "acme" }))
    assert.are.equal(3, #listed.oidc_connections)
    assert.are.same({}, listed.saml_connections)
    assert(call(false, "delete_connection", { "acme", id }))
    local methods = {}
    for i, sent in ipairs(helper.received()) do methods[i] = sent.method end
    assert.are.same({ "POST", "GET", "DELETE" }, methods)
    assert.are.equal(0, helper.received()[2].body_bytes)
  end)

  it("sends member sessions, and none of the caller's own headers",
     function()
    local _, err = call("oidc", "update_connection",
      { "acme", helper.pending, {},
        { session_token = helper.viewer.session_token } },
      nil, "-H 'Cookie: sid=caller' -H 'Authorization: Basic Y2FsbGVyOng='")
    assert.are.equal(403, err.status_code, show(err))
    local sent = helper.received()[1]
    assert.are.equal("[redacted]", sent.headers["x-stytch-member-session"])
    assert.is_nil(sent.headers.cookie)
    -- the module's credentials went, not the caller's: no 401
    local res = call(false, "get_connections", { "acme" }, nil,
      "-H 'Authorization: Basic Y2FsbGVyOng='")
    assert.is_table(res)
  end)

  it("retries in nginx, waiting with ngx.sleep", function()
    local key = "ngx-" .. os.time() .. math.random(1000)
    local res, err = call(false, "get_connections", { "acme" }, {
      project_id = "p", secret = "s", location = "/_stytch_idp",
      base_path = "/faults/flaky/" .. key .. "/2/503",
      retries = { max = 3, base_delay = 0.01, max_delay = 0.02 },
    })
    assert(res, show(err))
    assert.are.equal(3, res.request_number)
  end)

  it("does not block its worker: two slow calls overlap", function()
    -- The identity provider holds each call until both have arrived. A
    -- blocking call would hold the one worker, and the second call could
    -- not arrive until the first gave up alone.
    local key = "overlap-" .. os.time() .. math.random(1000)
    local config = cjson.encode { place = false, call = "get_connections",
      n = 1, args = { "acme" }, config = { project_id = "p", secret = "s",
        location = "/_stytch_idp", base_path = "/faults/barrier/" .. key
          .. "/2", retries = false } }
    local file = os.tmpname()
    local f = assert(io.open(file, "wb"))
    f:write(config)
    f:close()
    local curl = "curl -s --noproxy '*' --data-binary @" .. file .. " "
      .. nginx .. "/test/call"
    local pipe = assert(helper.popen("(" .. curl .. "; echo) & (" .. curl
      .. "; echo) & wait"))
    local out = pipe:read("*a")
    pipe:close()
    os.remove(file)
    local together = {}
    for n in out:gmatch('"together":(%d+)') do together[#together + 1] = n end
    assert.are.same({ "2", "2" }, together, out)
  end)
end)

describe_nginx("stytch.ngx update_connections", function()
  before_each(helper.reset)

  it("makes every update once, in light threads, answering in order",
     function()
    local list = {}
    for i, id in ipairs(helper.new_connections(9)) do
      list[i] = { "acme", id, { display_name = "Batch " .. i } }
    end
    local results, failed = call("oidc", "update_connections",
      { list, { concurrency = 3 } })
    assert(results, show(failed))
    assert.are.equal(0, failed)
    for i = 1, 9 do
      assert(results[i].res, show(results[i]))
      assert.are.equal("Batch " .. i, results[i].res.connection.display_name)
    end
    assert.are.equal(9, #helper.received_puts())
  end)

  it("has the requests of a batch in flight together", function()
    local key = "ngx-batch-" .. os.time() .. math.random(1000)
    local list = {}
    for i = 1, 3 do list[i] = { "o", "c" .. i, { display_name = "x" } } end
    local results, failed = call("oidc", "update_connections",
      { list, { concurrency = 3 } }, { project_id = "p", secret = "s",
        location = "/_stytch_idp", base_path = "/faults/barrier/" .. key
          .. "/3", retries = false })
    assert.are.equal(0, failed, show(results))
    for i = 1, 3 do assert.are.equal(3, results[i].res.together) end
  end)

  it("holds the batch for a Retry-After, whatever its case", function()
    -- The identity provider (lua-http) sends "retry-after" in lowercase.
    local key = "ngx-slowdown-" .. os.time() .. math.random(1000)
    local list = {}
    for i = 1, 4 do list[i] = { "o", "c" .. i, { display_name = "x" } } end
    local results, failed = call("oidc", "update_connections",
      { list, { concurrency = 2 } }, { project_id = "p", secret = "s",
        location = "/_stytch_idp", base_path = "/faults/slowdown/" .. key,
        retries = { max = 2, base_delay = 0.01, max_delay = 5 } })
    assert.are.equal(0, failed, show(results))
    local pipe = assert(helper.popen("curl -s --noproxy '*' --cacert "
      .. helper.ca .. " " .. helper.idp .. "/faults/arrivals/" .. key))
    local arrivals = cjson.decode(pipe:read("*a")).arrivals
    pipe:close()
    assert.are.equal(5, #arrivals, show(arrivals))
    for k = 3, 5 do
      assert.is_true(arrivals[k].at >= 0.9, show(arrivals))
    end
  end)

  for _, how in ipairs { "error", "yield" } do
    it("ends a batch whose on_progress raises or yields: " .. how,
       function()
      local list = {}
      for i, id in ipairs(helper.new_connections(6)) do
        list[i] = { "acme", id, { display_name = "x" } }
      end
      local _, _, _, raised = call("oidc", "update_connections",
        { list, { concurrency = 2 } }, nil, nil, { progress = how })
      assert.matches(how == "error" and "on_progress fails"
        or "must not yield", raised)
      -- nginx goes on serving batches.
      local results, failed = call("oidc", "update_connections",
        { { list[1] } })
      assert.are.equal(0, failed, show(results))
    end)
  end

  it("refuses bad input before sending anything", function()
    local _, err = call("oidc", "update_connections",
      { { { "acme", helper.pending, { issuer = "http://x" } } } })
    assert.are.equal("list[1].fields.issuer", err.field)
    assert.are.same({}, helper.received())
  end)
end)

describe_nginx("stytch.gateway inside nginx", function()
  before_each(helper.reset)

  local function gateway_client()
    return stytch.client { gateway = nginx .. "/gw", retries = false }
  end

  it("lets the plain client's gateway mode through, adding credentials",
     function()
    local client = gateway_client()
    local res, err = client.sso.oidc.update_connection(helper.org,
      helper.pending, { display_name = "via gateway" },
      { session_token = helper.admin.session_token })
    client.close()
    assert(res, show(err))
    assert.are.equal("via gateway", res.connection.display_name)
    assert.are.equal("/v1/b2b/sso/oidc/" .. helper.org .. "/connections/"
      .. helper.pending, helper.received()[1].path)
  end)

  it("requires a member session", function()
    local client = gateway_client()
    local _, err = client.sso.get_connections(helper.org)
    client.close()
    assert.are.equal(401, err.status_code)
    assert.are.equal("session_required", err.error_type)
    assert.are.same({}, helper.received())
  end)

  it("refuses routes it is not configured for", function()
    local client = gateway_client()
    local _, err = client.sso.delete_connection(helper.org, helper.pending,
      { session_token = helper.admin.session_token })
    client.close()
    assert.are.equal(403, err.status_code)
    assert.are.equal("route_not_allowed", err.error_type)
    assert.are.same({}, helper.received())
  end)

  it("drops the caller's Authorization and keeps the secret from it",
     function()
    local pipe = assert(helper.popen("curl -s -i --noproxy '*' "
      .. "-H 'Authorization: Basic d3Jvbmc6d3Jvbmc=' "
      .. "-H 'X-Stytch-Member-Session: " .. helper.admin.session_token
      .. "' " .. nginx .. "/gw/v1/b2b/sso/" .. helper.org))
    local out = pipe:read("*a")
    pipe:close()
    assert.matches("^HTTP/1.1 200", out)
    assert.is_falsy(out:find(helper.secret, 1, true), "the secret leaked")
    assert.is_falsy(out:find(helper.basic_credentials(), 1, true),
      "the credentials leaked")
  end)

  local function gateway_curl(headers)
    local pipe = assert(helper.popen("curl -s -o /dev/null "
      .. "-w '%{http_code}' --noproxy '*' " .. headers .. " "
      .. nginx .. "/gw/v1/b2b/sso/" .. helper.org))
    local status = pipe:read("*a")
    pipe:close()
    return status
  end

  it("takes an empty session header for none", function()
    assert.are.equal("401", gateway_curl("-H 'X-Stytch-Member-Session;'"))
    assert.are.equal("401",
      gateway_curl("-H 'X-Stytch-Member-SessionJWT;'"))
    assert.are.same({}, helper.received())
  end)

  it("refuses a session header sent twice", function()
    assert.are.equal("400", gateway_curl("-H 'X-Stytch-Member-Session: a' "
      .. "-H 'X-Stytch-Member-Session: b'"))
    assert.are.same({}, helper.received())
  end)

  it("sends on none of the caller's other headers", function()
    assert.are.equal("200", gateway_curl("-H 'X-Stytch-Member-Session: "
      .. helper.admin.session_token .. "' -H 'X-Evil: 1' "
      .. "-H 'X-HTTP-Method-Override: DELETE' -H 'Cookie: sid=1'"))
    local sent = helper.received()[1]
    assert.is_nil(sent.headers["x-evil"])
    assert.is_nil(sent.headers["x-http-method-override"])
    assert.is_nil(sent.headers.cookie)
    assert.are.equal("lua-stytch gateway", sent.headers["user-agent"])
  end)

  for _, path in ipairs { "/gw/v1/b2b/sso/oidc/acme/connections/..",
      "/gw/v1/b2b/sso/oidc/%2e%2e/connections/x",
      "/gw/v1/b2b/magic_links/email/send" } do
    it("refuses " .. path, function()
      local pipe = assert(helper.popen("curl -s -o /dev/null "
        .. "-w '%{http_code}' --noproxy '*' -X PUT "
        .. "-H 'X-Stytch-Member-Session: t' "
        .. "--path-as-is " .. quote(nginx .. path)))
      local status = pipe:read("*a")
      pipe:close()
      assert.is_truthy(status == "400" or status == "403", status)
      assert.are.same({}, helper.received())
    end)
  end
end)

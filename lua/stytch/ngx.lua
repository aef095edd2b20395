--- lua-stytch inside nginx (OpenResty, or nginx with the lua module),
-- without blocking the worker.
--
-- A blocking libcurl call would stall every request of its worker, so
-- here each request goes out as an `ngx.location.capture` subrequest to an
-- internal location that `proxy_pass`es to Stytch over a keepalive
-- upstream: nginx's own non-blocking HTTP client, and nothing to install
-- beyond the lua module.  Building the request (checks, path escaping,
-- JSON) and reading the response are the C core's, as for plain Lua; only
-- the sending differs.  See nginx/stytch.conf for the location, and
-- nginx/stytch-proxy.conf for what it does.
--
--     local client = require("stytch.ngx").client {
--       project_id = os.getenv("STYTCH_PROJECT_ID"),
--       secret = os.getenv("STYTCH_SECRET"),
--     }
--     local res, err = client.sso.oidc.update_connection(org, conn, fields)
--
-- Calls work where subrequests do: the rewrite, access and content
-- phases.  Elsewhere (init, init_worker, timers, log) they raise; use the
-- plain `stytch.client` there only where blocking is acceptable.
-- @module stytch.ngx

local core = require "stytch.core"
local bulk = require "stytch.bulk"
local calls = require "stytch.calls"
local errors = require "stytch.errors"
local retry = require "stytch.retry"
local version = require "stytch.version"

local stytch_ngx = {}

local METHODS = {
  GET = ngx.HTTP_GET, PUT = ngx.HTTP_PUT, POST = ngx.HTTP_POST,
  DELETE = ngx.HTTP_DELETE,
}

local PHASES = { rewrite = true, access = true, content = true }

-- The plain client's default max_response_bytes.
local MAX_BODY = 8 * 1024 * 1024

local OPTIONS = {
  "location", "base_path", "project_id", "secret", "gateway", "retries",
  "on_retry",
}

local Client = {}
Client.__index = Client

function Client.__tostring(client)
  return "stytch.ngx client (" .. client.location .. ")"
end

--- Raise unless subrequests can be made in this phase.
local function check_phase(level)
  local phase = ngx.get_phase()
  if not PHASES[phase] then
    error("stytch.ngx: calls work in the rewrite, access and content "
      .. "phases, not in " .. phase, level + 1)
  end
end

--- Send a request that the core built, as a subrequest; read the answer
-- with the core.
local function send(target, authorization, request)
  local res = ngx.location.capture(target.location, {
    method = METHODS[request.method],
    body = request.body,
    ctx = {
      stytch = {
        path = target.base_path .. request.path,
        authorization = authorization,
        session = request.headers["X-Stytch-Member-Session"],
        session_jwt = request.headers["X-Stytch-Member-SessionJWT"],
        content_type = request.body and "application/json" or nil,
      },
    },
  })
  if res.truncated then
    return errors.fail("network", "the response was cut short",
      { error_type = "partial_response", status_code = res.status,
        request_sent = true })
  end
  if res.body and #res.body > MAX_BODY then
    return errors.fail("invalid_response", ("the response body exceeds "
      .. "%d bytes and was refused; the request may have taken effect")
      :format(MAX_BODY), { status_code = res.status })
  end
  -- nginx gives the names of headers it doesn't know as they came, so
  -- they are looked up without regard to case.  A header sent twice
  -- comes back as a table: then it is not to be read.
  local header = res.header or {}
  local function single(name)
    local value = header[name]
    if value == nil then
      local wanted = name:lower()
      for key, given in pairs(header) do
        if key:lower() == wanted then
          if value ~= nil then return nil end
          value = given
        end
      end
    end
    return type(value) == "string" and value or nil
  end
  return core.parse_response(res.status, res.body, single("Retry-After"),
    single("Location"))
end

--- One attempt: build with the core, then send.
local function attempt(target, authorization, call, ...)
  check_phase(3)
  local request, err = core["build_" .. call.name](...)
  if not request then return nil, err end
  return send(target, authorization, request)
end

--- A batch runner (see stytch.bulk) whose requests are light threads, each
-- sending one subrequest; the batch waits on a semaphore for answers.
local function thread_runner(target, authorization)
  local semaphore = require "ngx.semaphore"
  local ended, threads = {}, {}
  local answered = semaphore.new()
  local in_flight = 0
  return {
    submit = function(tag, request)
      in_flight = in_flight + 1
      threads[tag] = ngx.thread.spawn(function()
        local ok, res, err = pcall(send, target, authorization, request)
        ended[#ended + 1] = ok and { tag = tag, res = res, err = err }
          or { tag = tag, fault = res }
        answered:post(1)
      end)
    end,
    poll = function(seconds)
      if #ended == 0 then answered:wait(seconds) end
      local list = ended
      ended = {}
      in_flight = in_flight - #list
      for _, answer in ipairs(list) do
        threads[answer.tag] = nil
        if answer.fault then error(answer.fault, 0) end
      end
      return list
    end,
    in_flight = function() return in_flight end,
    cancel = function()
      -- A thread waiting on its subrequest can't be killed, nor one whose
      -- parent coroutine has ended: it ends on its own, and its answer
      -- goes nowhere.
      for _, thread in pairs(threads) do pcall(ngx.thread.kill, thread) end
    end,
    now = function()
      ngx.update_time()
      return ngx.now()
    end,
    sleep = ngx.sleep,
    closed = function() return false end,
  }
end

--- Make a client for use inside nginx.
-- @tparam table config `location` (the internal location of
-- nginx/stytch.conf, default "/_stytch"), `base_path` (a path before
-- Stytch's, for an upstream behind a prefix), `project_id` and `secret` (or
-- `gateway = true` when the location adds credentials itself),
-- `retries`, `on_retry` as for `stytch.client`
-- @return the client; raises when the config is wrong
function stytch_ngx.client(config)
  config = config or {}
  local function fail(field, rule)
    local _, err = errors.invalid(field, rule)
    error(tostring(err), 3)
  end
  local _, unknown = errors.unknown_option(config, OPTIONS)
  if unknown then error(tostring(unknown), 2) end
  local target = {
    location = config.location or "/_stytch",
    base_path = config.base_path or "",
  }
  if type(target.location) ~= "string"
      or target.location:sub(1, 1) ~= "/" then
    fail("location", "must be the path of an internal location")
  end
  if type(target.base_path) ~= "string"
      or not target.base_path:find("^[%w%-._~/]*$")
      or target.base_path:find("/%.%.?/") then
    fail("base_path", "must be a plain path, without dot segments")
  end
  local authorization
  if not config.gateway then
    for _, key in ipairs { "project_id", "secret" } do
      if type(config[key]) ~= "string" or config[key] == "" then
        fail(key, "is required (or gateway = true)")
      end
    end
    authorization = "Basic "
      .. ngx.encode_base64(config.project_id .. ":" .. config.secret)
  end
  local policy, err = retry.policy(config.retries, "retries", retry.DEFAULT)
  if policy == nil then error(tostring(err), 2) end

  local client = { location = target.location, sso = { oidc = {} } }
  calls.install(client.sso, "client.sso", function(call, home, where)
    return calls.wrap(call, home, where, {
      policy = policy, sleep = ngx.sleep, on_retry = config.on_retry,
      attempt = function(this, ...)
        return attempt(target, authorization, this, ...)
      end,
    })
  end)
  client.sso.oidc.update_connections = bulk.method(client.sso.oidc,
    "client.sso.oidc", function(list, opts)
      check_phase(4)
      return bulk.update_connections(list, opts,
        thread_runner(target, authorization), policy, config.on_retry)
    end)
  return setmetatable(client, Client)
end

--- For the internal location's rewrite phase: copy what the calling
-- request put in ngx.ctx into the variables the location sends on, and
-- refuse any request that did not come from this module.
function stytch_ngx.prepare()
  local request = ngx.ctx.stytch
  if not request or not ngx.is_subrequest then
    return ngx.exit(ngx.HTTP_FORBIDDEN)
  end
  ngx.var.stytch_path = request.path
  ngx.var.stytch_authorization = request.authorization or ""
  ngx.var.stytch_session = request.session or ""
  ngx.var.stytch_session_jwt = request.session_jwt or ""
  ngx.var.stytch_content_type = request.content_type or ""
  ngx.var.stytch_user_agent = version.user_agent .. " nginx"
end

return stytch_ngx

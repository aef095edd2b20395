--- lua-stytch: manage Stytch B2B OIDC SSO connections from Lua.
--
-- Every call returns its result, or `nil, err` where `err` is a table with
-- `kind` ("api", "network", "timeout", "invalid_argument",
-- "invalid_response"), a `message`, and where known `field`,
-- `status_code`, `error_type`, `error_message`, `error_url`,
-- `error_details` and `request_id`; `tostring(err)` is one line.
-- @module stytch

local core = require "stytch.core"
local bulk = require "stytch.bulk"
local errors = require "stytch.errors"
local calls = require "stytch.calls"
local retry = require "stytch.retry"
local version = require "stytch.version"

local stytch = {
  _VERSION = version.version,
  user_agent = version.user_agent,
  attribute_mapping = require "stytch.attribute_mapping",
  scopes = require "stytch.scopes",
}

local LIVE_URL = "https://api.stytch.com"
local TEST_URL = "https://test.stytch.com"

local OPTIONS = {
  "project_id", "secret", "base_url", "gateway", "timeout",
  "connect_timeout", "stall_timeout", "cainfo", "proxy",
  "max_response_bytes", "retries", "on_retry",
  "dangerously_skip_tls_verification",
}

local invalid = errors.invalid

--- An environment variable, or nil when it is unset or empty.
local function env(name)
  local value = os.getenv(name)
  if value ~= nil and value ~= "" then return value end
  return nil
end

--- Turn a client config into the settings of a core session.
local function session_settings(config)
  if type(config) ~= "table" then
    return invalid("config", "must be a table, got " .. type(config))
  end
  local _, unknown = errors.unknown_option(config, OPTIONS)
  if unknown then return nil, unknown end
  for _, key in ipairs { "project_id", "secret", "base_url", "gateway",
                         "cainfo", "proxy" } do
    if config[key] ~= nil and type(config[key]) ~= "string" then
      return invalid(key, "must be a string, got " .. type(config[key]))
    end
  end

  if config.on_retry ~= nil and type(config.on_retry) ~= "function" then
    return invalid("on_retry", "must be a function, got "
      .. type(config.on_retry))
  end
  local settings = {
    timeout = config.timeout,
    connect_timeout = config.connect_timeout,
    stall_timeout = config.stall_timeout,
    cainfo = config.cainfo,
    proxy = config.proxy,
    max_response_bytes = config.max_response_bytes,
    dangerously_skip_tls_verification =
      config.dangerously_skip_tls_verification,
    user_agent = version.user_agent,
  }

  if config.gateway ~= nil then
    if config.project_id ~= nil or config.secret ~= nil
        or config.base_url ~= nil then
      return invalid("gateway", "takes no project_id, secret or base_url: "
        .. "the gateway adds the credentials")
    end
    settings.base_url = config.gateway
    return settings
  end

  settings.project_id = config.project_id or env("STYTCH_PROJECT_ID")
  settings.secret = config.secret or env("STYTCH_SECRET")
  if type(settings.project_id) ~= "string" or settings.project_id == "" then
    return invalid("project_id", "is required (or set STYTCH_PROJECT_ID)")
  end
  if type(settings.secret) ~= "string" or settings.secret == "" then
    return invalid("secret", "is required (or set STYTCH_SECRET)")
  end
  local default_url = settings.project_id:find("^project%-live%-")
    and LIVE_URL or TEST_URL
  settings.base_url = config.base_url or env("STYTCH_BASE_URL") or default_url
  return settings
end

local Client = {}
Client.__index = Client

function Client.__tostring(client)
  return "stytch.client (" .. tostring(client.base_url)
    .. (client.is_closed() and ", closed)" or ")")
end

function Client.__close(client)
  client.close()
end

--- Make a client, or return nil, err when the config is wrong.
local function new_client(config)
  local settings, err = session_settings(config)
  if not settings then return nil, err end
  local policy
  policy, err = retry.policy(config.retries, "retries", retry.DEFAULT)
  if policy == nil then return nil, err end
  local on_retry = config.on_retry
  local session, session_err = core.session(settings)
  if not session then
    if config.gateway ~= nil and session_err.field == "base_url" then
      return invalid("gateway", session_err.message:gsub("^base_url ", ""))
    end
    return nil, session_err
  end

  local client = { base_url = settings.base_url, sso = { oidc = {} } }
  local closed = false

  -- The calls of stytch.calls, each a method of the C session.
  local function is_closed() return closed end
  calls.install(client.sso, "client.sso", function(call, home, where)
    local method = session[call.name]
    return calls.wrap(call, home, where, {
      policy = policy, sleep = core.sleep, on_retry = on_retry,
      closed = is_closed,
      attempt = function(_, ...) return method(session, ...) end,
    })
  end)

  -- Batches go through the session's libcurl multi handle.
  local runner = {
    submit = function(tag, request) return session:submit(tag, request) end,
    poll = function(seconds) return session:poll(seconds) end,
    in_flight = function() return session:in_flight() end,
    cancel = function() session:cancel() end,
    now = core.monotonic, sleep = core.sleep, closed = is_closed,
  }
  client.sso.oidc.update_connections = bulk.method(client.sso.oidc,
    "client.sso.oidc", function(list, opts)
      return bulk.update_connections(list, opts, runner, policy, on_retry)
    end, is_closed)

  --- Close the connection to Stytch; the client can't be used after.
  function client.close()
    closed = true
    session:close()
  end

  --- Whether `close` was called.
  function client.is_closed()
    return closed
  end

  return setmetatable(client, Client)
end

--- Make a client.
-- @tparam[opt] table config `project_id`, `secret` (default: the
-- environment's STYTCH_PROJECT_ID and STYTCH_SECRET), `base_url`,
-- `gateway`, `timeout`, `connect_timeout` (seconds), `cainfo`
-- @return the client; raises when the config is wrong
function stytch.client(config)
  local client, err = new_client(config or {})
  if not client then error(tostring(err), 2) end
  return client
end

local default_client

--- Replace the client that the module-level functions use.
-- @tparam table config as for `stytch.client`
-- @return the new default client; raises when the config is wrong
function stytch.configure(config)
  local client, err = new_client(config or {})
  if not client then error(tostring(err), 2) end
  if default_client then default_client.close() end
  default_client = client
  return client
end

--- The default client, made from the environment on first use.
local function default()
  if not default_client then
    local client, err = new_client({})
    if not client then return nil, err end
    default_client = client
  end
  return default_client
end

local oidc = require "stytch.oidc"
stytch.sso = {
  oidc = {
    missing_for_activation = oidc.missing_for_activation,
    discover = oidc.discover,
  },
}

stytch.sso.oidc.update_connections = bulk.method(stytch.sso.oidc,
  "stytch.sso.oidc", function(list, opts)
    local client, err = default()
    if not client then return nil, err end
    return client.sso.oidc.update_connections(list, opts)
  end)

-- The same calls at module level, on the default client.
calls.install(stytch.sso, "stytch.sso", function(call, home, where)
  return function(...)
    calls.refuse_misuse((...), home, where, call.name)
    local client, err = default()
    if not client then return nil, err end
    local target = call.place and client.sso[call.place] or client.sso
    return target[call.name](...)
  end
end)

return stytch

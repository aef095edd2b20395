--- A credential-injecting gateway for nginx: a browser or an internal
-- service calls the SSO connection endpoints through nginx, and only
-- nginx holds the Stytch secret.  Use it as the access handler of the
-- location in nginx/gateway.conf; `stytch.client{ gateway = url }` talks
-- to it.
--
-- For each request it: allows only the configured routes and methods
-- (403 otherwise) and no dot segments (400); requires one non-empty
-- member session token or JWT unless told not to (401, or 400 for a
-- repeated header); and sets the variables nginx/gateway-proxy.conf sends
-- on: Basic auth of its own, the member-session headers (so Stytch checks
-- the member's permissions) and the path.  Nothing else of the caller's
-- request goes upstream: no Authorization, Cookie or other header.
-- @module stytch.gateway

local cjson = require "cjson"

local gateway = {}

local ROUTES = {
  update_connection = { "PUT", "^/v1/b2b/sso/oidc/[^/]+/connections/[^/]+$" },
  create_connection = { "POST", "^/v1/b2b/sso/oidc/[^/]+$" },
  get_connections = { "GET", "^/v1/b2b/sso/[^/]+$" },
  delete_connection = { "DELETE", "^/v1/b2b/sso/[^/]+/connections/[^/]+$" },
}

-- nginx variable -> the member-session header it carries on.
local SESSION_HEADERS = {
  stytch_session = "x-stytch-member-session",
  stytch_session_jwt = "x-stytch-member-sessionjwt",
}

local function refuse(status, error_type, message)
  ngx.status = status
  ngx.header.content_type = "application/json"
  ngx.say(cjson.encode {
    status_code = status, error_type = error_type, error_message = message,
  })
  return ngx.exit(status)
end

--- The access handler.
-- @tparam table config `project_id`, `secret`, `prefix` (the location's
-- path, default "/stytch"), `routes` (names from the calls, default all
-- four), `require_session` (default true)
function gateway.handle(config)
  local prefix = config.prefix or "/stytch"
  local raw = ngx.var.request_uri:gsub("%?.*$", "")
  if raw:sub(1, #prefix) ~= prefix then
    return refuse(404, "route_not_found", "Not a gateway route.")
  end
  local path = raw:sub(#prefix + 1)

  -- The path goes upstream as written: no segment may climb out of it.
  for segment in path:gmatch("[^/]+") do
    local plain = segment:lower():gsub("%%2e", ".")
    if plain == "." or plain == ".." then
      return refuse(400, "bad_request", "Dot segments are not allowed.")
    end
  end
  local method = ngx.req.get_method()
  local allowed = false
  for _, name in ipairs(config.routes or { "update_connection",
      "create_connection", "get_connections", "delete_connection" }) do
    local route = assert(ROUTES[name], "stytch.gateway: no route " .. name)
    if method == route[1] and path:find(route[2]) then allowed = true end
  end
  if not allowed then
    return refuse(403, "route_not_allowed",
      "This gateway does not allow " .. method .. " on that path.")
  end

  local headers = ngx.req.get_headers()
  local sessions = {}
  for variable, name in pairs(SESSION_HEADERS) do
    local value = headers[name]
    if type(value) == "table" then
      return refuse(400, "bad_request", "Send " .. name .. " once.")
    end
    if value ~= nil and not value:find("^[\33-\126]+$") then
      value = nil  -- empty, or no token at all: as good as absent
    end
    sessions[variable] = value
  end
  if config.require_session ~= false and not sessions.stytch_session
      and not sessions.stytch_session_jwt then
    return refuse(401, "session_required",
      "Send X-Stytch-Member-Session or X-Stytch-Member-SessionJWT.")
  end

  ngx.var.stytch_authorization = "Basic "
    .. ngx.encode_base64(config.project_id .. ":" .. config.secret)
  ngx.var.stytch_session = sessions.stytch_session or ""
  ngx.var.stytch_session_jwt = sessions.stytch_session_jwt or ""
  ngx.var.stytch_content_type = (method == "PUT" or method == "POST")
    and "application/json" or ""
  ngx.var.stytch_gateway_path = path
end

return gateway

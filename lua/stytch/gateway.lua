--- A credential-injecting gateway for nginx: a browser or an internal
-- service calls the SSO connection endpoints through nginx, and only
-- nginx holds the Stytch secret.  Use it as the access handler of the
-- location in nginx/gateway.conf; `stytch.client{ gateway = url }` talks
-- to it.
--
-- For each request it: allows only the configured routes and methods
-- (403 otherwise); requires a member session token or JWT unless told
-- not to (401); drops the caller's Authorization and Cookie headers and
-- sets Basic auth itself; and hands the path on in
-- $stytch_gateway_path.  The member-session headers go on unchanged, so
-- Stytch checks the member's permissions.
-- @module stytch.gateway

local cjson = require "cjson"

local gateway = {}

local ROUTES = {
  update_connection = { "PUT", "^/v1/b2b/sso/oidc/[^/]+/connections/[^/]+$" },
  create_connection = { "POST", "^/v1/b2b/sso/oidc/[^/]+$" },
  get_connections = { "GET", "^/v1/b2b/sso/[^/]+$" },
  delete_connection = { "DELETE", "^/v1/b2b/sso/[^/]+/connections/[^/]+$" },
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
  if config.require_session ~= false
      and not headers["x-stytch-member-session"]
      and not headers["x-stytch-member-sessionjwt"] then
    return refuse(401, "session_required",
      "Send X-Stytch-Member-Session or X-Stytch-Member-SessionJWT.")
  end

  ngx.req.clear_header("Authorization")
  ngx.req.clear_header("Cookie")
  ngx.req.set_header("Authorization", "Basic "
    .. ngx.encode_base64(config.project_id .. ":" .. config.secret))
  ngx.var.stytch_gateway_path = path
end

return gateway

#!/usr/bin/env luajit
--- A local Stytch B2B SSO emulator, for tests, `make demo` and offline use.
--
-- It speaks `PUT /v1/b2b/sso/oidc/{organization_id}/connections/{id}` the
-- way Stytch documents it: Basic auth, organizations found by id, slug or
-- external id, OIDC discovery when the issuer changes (explicit values
-- win, client credentials never inferred, a `warning` when the document
-- can't be had), and `active` once the seven required fields are set.
-- Member-session headers are checked against the seeded sessions.
--
-- Its own routes, for tests: POST /_emulator/reset (back to the seed),
-- GET and DELETE /_emulator/requests (what it received, secrets redacted).
-- Requests under /_gateway/ are treated as already authenticated, the way
-- a credential-injecting gateway in front of Stytch would make them.

package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path

local argparse = require "argparse"
local basexx = require "basexx"
local cjson = require "cjson"
local lpeg = require "lpeg"
local http_request = require "http.request"
local http_tls = require "http.tls"
local http_util = require "http.util"
local uri_grammar = require "lpeg_patterns.uri"
local common = require "common"

local parser = argparse("emulator.lua", "A local Stytch B2B SSO emulator.")
parser:option("--seed", "JSON file with the project, organizations, "
  .. "connections and member sessions.", common.script_dir() .. "seed.json")
parser:option("--host", "Address to listen on.", "127.0.0.1")
parser:option("--port", "Port to listen on (0: any free one).", "0")
  :convert(tonumber)
parser:option("--port-file", "Write the port here once listening.")
parser:option("--cert", "Serve https with this PEM certificate.")
parser:option("--key", "The certificate's PEM private key.")
parser:option("--ca", "Trust this CA when fetching discovery documents.")
parser:option("--discovery-timeout", "Seconds to wait for an issuer.", "5")
  :convert(tonumber)
local args = parser:parse()

local URL_FIELDS = {
  issuer = true, authorization_url = true, token_url = true,
  userinfo_url = true, jwks_url = true,
}
local TEXT_FIELDS = {
  display_name = true, client_id = true, client_secret = true,
  custom_scopes = true, identity_provider = true,
}
local PROVIDERS = {}
for name in ([[classlink cyberark duo generic google-workspace jumpcloud
    keycloak miniorange microsoft-entra okta onelogin pingfederate rippling
    salesforce shibboleth]]):gmatch("%S+") do
  PROVIDERS[name] = true
end
local REQUIRED_FOR_ACTIVE = {
  "issuer", "client_id", "client_secret", "authorization_url", "token_url",
  "userinfo_url", "jwks_url",
}
-- Connection field -> discovery document member (OpenID Connect Discovery).
local DISCOVERED = {
  authorization_url = "authorization_endpoint",
  token_url = "token_endpoint",
  userinfo_url = "userinfo_endpoint",
  jwks_url = "jwks_uri",
}
local REDACTED = "[redacted]"
local SECRET_HEADERS = {
  ["authorization"] = true,
  ["x-stytch-member-session"] = true,
  ["x-stytch-member-sessionjwt"] = true,
}

local whole_uri = uri_grammar.uri * lpeg.P(-1)
local seed_text = common.read_file(args.seed)
local seed = cjson.decode(seed_text)
local state, received, request_count

local function reset()
  state = cjson.decode(seed_text)
  state.oidc_connections = state.oidc_connections or {}
  state.member_sessions = state.member_sessions or {}
  received = {}
  request_count = 0
end
reset()

local function new_request_id()
  request_count = request_count + 1
  return ("request-id-emulator-%08d"):format(request_count)
end

--- A Stytch-shaped error body.
local function api_error(status, error_type, message)
  return status, {
    status_code = status,
    request_id = new_request_id(),
    error_type = error_type,
    error_message = message,
    error_url = "https://stytch.com/docs/api/errors/" .. status,
  }
end

local function find_organization(key)
  for _, org in ipairs(state.organizations) do
    if org.organization_id == key or org.organization_slug == key
        or org.organization_external_id == key then
      return org
    end
  end
end

local function find_connection(org, connection_id)
  for _, conn in ipairs(state.oidc_connections) do
    if conn.organization_id == org.organization_id
        and conn.connection_id == connection_id then
      return conn
    end
  end
end

local function is_set(value)
  return type(value) == "string" and value ~= ""
end

--- The connection as Stytch returns it: every documented field present.
local function connection_view(conn)
  local status = "active"
  for _, name in ipairs(REQUIRED_FOR_ACTIVE) do
    if not is_set(conn[name]) then status = "pending" end
  end
  local view = {
    organization_id = conn.organization_id,
    connection_id = conn.connection_id,
    status = status,
    redirect_url = "https://test.stytch.com/v1/b2b/sso/callback/"
      .. conn.connection_id,
    attribute_mapping = conn.attribute_mapping or {},
  }
  for _, name in ipairs { "display_name", "client_id", "client_secret",
      "issuer", "authorization_url", "token_url", "userinfo_url",
      "jwks_url", "identity_provider", "custom_scopes" } do
    view[name] = conn[name] or ""
  end
  return view
end

local function https_url(value)
  local parts = type(value) == "string" and whole_uri:match(value)
  return parts and parts.scheme == "https" and parts.host ~= nil
    and parts.host ~= ""
end

--- The first thing wrong with an update body, or nil.
local function invalid_field(body)
  for name, value in pairs(body) do
    if URL_FIELDS[name] then
      if not https_url(value) then
        return name .. " must be an absolute https URL"
      end
    elseif TEXT_FIELDS[name] then
      if type(value) ~= "string" then return name .. " must be a string" end
      if name == "identity_provider" and not PROVIDERS[value] then
        return "identity_provider is not a supported identity provider"
      end
    elseif name == "attribute_mapping" then
      if type(value) ~= "table" then
        return "attribute_mapping must be an object"
      end
    else
      return name .. " is not a field of this request"
    end
  end
end

local client_ctx = http_tls.new_client_context()
if args.ca then assert(client_ctx:getStore():add(args.ca)) end

--- Fetch <issuer>/.well-known/openid-configuration: doc, or nil, reason.
local function fetch_discovery(issuer)
  local url = issuer:gsub("/$", "") .. "/.well-known/openid-configuration"
  local request = http_request.new_from_uri(url)
  request.ctx = client_ctx
  request.follow_redirects = false
  request.headers:upsert("accept", "application/json")
  local headers, stream = request:go(args.discovery_timeout)
  if not headers then
    return nil, "the issuer could not be reached (" .. tostring(stream) .. ")"
  end
  local status = headers:get(":status")
  local body = stream:get_body_as_string(args.discovery_timeout)
  stream:shutdown()
  if status ~= "200" then
    return nil, "the issuer answered HTTP " .. tostring(status)
  end
  local ok, doc = pcall(cjson.decode, body or "")
  if not ok or type(doc) ~= "table" then
    return nil, "the discovery document is not a JSON object"
  end
  return doc
end

--- Member-session check: nil when allowed, else status and error body.
local function check_member(headers, org, action)
  local token = headers:get("x-stytch-member-session")
  local jwt = headers:get("x-stytch-member-sessionjwt")
  if not token and not jwt then return nil end
  local session
  for _, candidate in ipairs(state.member_sessions) do
    if (token and candidate.session_token == token)
        or (not token and candidate.session_jwt == jwt) then
      session = candidate
    end
  end
  if not session then
    return api_error(404, "session_not_found",
      "The member session could not be found.")
  end
  local allowed = session.organization_id == org.organization_id
  if allowed then
    allowed = false
    for _, granted in ipairs(session.sso_actions or {}) do
      if granted == action then allowed = true end
    end
  end
  if not allowed then
    return api_error(403, "unauthorized_action",
      "The member is not allowed to " .. action .. " SSO connections "
      .. "of this organization.")
  end
end

local function update_connection(request, org_key, connection_id)
  local ok, body = pcall(cjson.decode, request.body)
  if not ok or type(body) ~= "table" then
    return api_error(400, "bad_request", "The request body must be a JSON "
      .. "object.")
  end
  local org = find_organization(org_key)
  if not org then
    return api_error(404, "organization_not_found",
      "The organization could not be found.")
  end
  local conn = find_connection(org, connection_id)
  if not conn then
    return api_error(404, "oidc_connection_not_found",
      "The OIDC connection could not be found.")
  end
  local denied_status, denied = check_member(request.headers, org, "update")
  if denied_status then return denied_status, denied end
  local problem = invalid_field(body)
  if problem then return api_error(400, "bad_request", problem) end

  local warning
  if body.issuer and body.issuer ~= conn.issuer then
    local doc, why = fetch_discovery(body.issuer)
    if doc then
      for field, member in pairs(DISCOVERED) do
        if body[field] == nil and https_url(doc[member]) then
          conn[field] = doc[member]
        end
      end
    else
      warning = "OIDC discovery for the new issuer failed: " .. why
        .. ". The update was saved; set authorization_url, token_url, "
        .. "userinfo_url and jwks_url yourself."
    end
  end
  for name, value in pairs(body) do
    conn[name] = value
  end
  return 200, {
    status_code = 200,
    request_id = new_request_id(),
    connection = connection_view(conn),
    warning = warning,
  }
end

--- Decode each raw segment on its own, so %2F never splits one.
local function segments(path)
  local list = {}
  for raw in path:gmatch("[^/]+") do
    list[#list + 1] = http_util.decodeURIComponent(raw)
  end
  return list
end

--- Basic credentials, checked against the seeded project.
local function authorized(headers)
  local value = headers:get("authorization")
  local encoded = value and value:match("^Basic%s+(%S+)$")
  local ok, decoded = pcall(basexx.from_base64, encoded or "")
  if not ok or type(decoded) ~= "string" then return false end
  local user, password = decoded:match("^([^:]*):(.*)$")
  return user == seed.project_id and password == seed.secret
end

--- What was received, with every secret replaced.
local function remember(request, stream)
  local entry = { method = request.method, path = request.path, headers = {} }
  -- The client's port tells one kept-alive connection from a new one.
  local _, _, port = stream.connection:peername()
  entry.client_port = port
  for name, value in request.headers:each() do
    if name:sub(1, 1) ~= ":" then
      entry.headers[name] = SECRET_HEADERS[name] and REDACTED or value
    end
  end
  local ok, body = pcall(cjson.decode, request.body)
  if ok and type(body) == "table" then
    if body.client_secret ~= nil then body.client_secret = REDACTED end
    entry.body = body
  end
  entry.body_bytes = #request.body
  received[#received + 1] = entry
end

local function handle_api(request, path)
  local parts = segments(path)
  if request.method == "PUT" and #parts == 7 and parts[1] == "v1"
      and parts[2] == "b2b" and parts[3] == "sso" and parts[4] == "oidc"
      and parts[6] == "connections" then
    return update_connection(request, parts[5], parts[7])
  end
  return api_error(404, "route_not_found",
    "No such route: " .. request.method .. " " .. path)
end

local function handle(stream, headers)
  local request = {
    method = headers:get(":method"),
    path = headers:get(":path"):gsub("%?.*$", ""),
    headers = headers,
    body = stream:get_body_as_string() or "",
  }

  if request.path == "/_emulator/reset" and request.method == "POST" then
    reset()
    return common.respond(stream, 200, { reset = true })
  elseif request.path == "/_emulator/requests" then
    if request.method == "DELETE" then received = {} end
    -- cjson writes an empty list as {}; readers treat both alike.
    return common.respond(stream, 200, { requests = received })
  end

  remember(request, stream)
  local status, body
  local gateway_path = request.path:match("^/_gateway(/.*)$")
  if gateway_path then
    status, body = handle_api(request, gateway_path)
  elseif not authorized(headers) then
    status, body = api_error(401, "unauthorized_credentials",
      "Unauthorized credentials.")
  else
    status, body = handle_api(request, request.path)
  end
  common.respond(stream, status, body)
end

common.serve({
  name = "stytch emulator",
  host = args.host,
  port = args.port,
  port_file = args.port_file,
  ctx = args.cert and common.server_context(args.cert, args.key),
}, handle)

#!/usr/bin/env luajit
--- A local Stytch B2B SSO emulator, for tests, `make demo` and offline use.
--
-- It speaks the OIDC connection calls the way Stytch documents them:
--   POST   /v1/b2b/sso/oidc/{organization_id}                    create
--   PUT    /v1/b2b/sso/oidc/{organization_id}/connections/{id}   update
--   GET    /v1/b2b/sso/{organization_id}                         list
--   DELETE /v1/b2b/sso/{organization_id}/connections/{id}        delete
-- with Basic auth, organizations found by id, slug or external id, OIDC
-- discovery when the issuer changes (explicit values win, client
-- credentials never inferred, a `warning` when the document can't be had),
-- and `active` once the seven required fields are set.  Member-session
-- headers are checked against the seeded sessions.
--
-- Its own routes, for tests: POST /_emulator/reset (back to the seed),
-- GET and DELETE /_emulator/requests (what it received, secrets redacted).
-- Requests under /_gateway/ are treated as already authenticated, the way
-- a credential-injecting gateway in front of Stytch would make them.

package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path

local argparse = require "argparse"
local basexx = require "basexx"
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
local seed = assert(common.decode(seed_text))
for _, key in ipairs { "project_id", "secret" } do
  assert(type(seed[key]) == "string", "the seed has no " .. key)
end
assert(type(seed.organizations) == "table", "the seed has no organizations")
local state, received, request_count, created_count

local function reset()
  state = assert(common.decode(seed_text))
  state.oidc_connections = state.oidc_connections or {}
  state.member_sessions = state.member_sessions or {}
  received = common.array()
  request_count = 0
  created_count = 0
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
    attribute_mapping = conn.attribute_mapping or common.object(),
  }
  for _, name in ipairs { "display_name", "client_id", "client_secret",
      "issuer", "authorization_url", "token_url", "userinfo_url",
      "jwks_url", "identity_provider", "custom_scopes" } do
    view[name] = conn[name] or ""
  end
  return view
end

--- The parts of an absolute https URL we accept, or nil.
local function https_url(value)
  local parts = type(value) == "string" and whole_uri:match(value)
  if parts and parts.scheme == "https" and parts.host ~= nil
      and parts.host ~= "" and not parts.host:find("%%")
      and parts.userinfo == nil and parts.fragment == nil
      and parts.port ~= 0 then
    return parts
  end
end

--- An issuer: an https URL as above, and no query (OIDC Discovery, 2).
local function issuer_url(value)
  local parts = https_url(value)
  return parts ~= nil and parts.query == nil
end

local CREATE_FIELDS = { display_name = true, identity_provider = true }

--- The first thing wrong with a request body, or nil.  `allowed` limits
-- the fields (create takes only two); nil allows every updatable one.
local function invalid_field(body, allowed)
  for name, value in pairs(body) do
    if allowed and not allowed[name] then
      return name .. " is not a field of this request"
    elseif name == "issuer" then
      if not issuer_url(value) then
        return "issuer must be an absolute https URL without credentials, "
          .. "query or fragment"
      end
    elseif URL_FIELDS[name] then
      if not https_url(value) then
        return name .. " must be an absolute https URL"
      end
    elseif TEXT_FIELDS[name] then
      if type(value) ~= "string" then return name .. " must be a string" end
      if name == "identity_provider" and not PROVIDERS[value] then
        return "identity_provider is not a supported identity provider"
      end
    elseif name == "attribute_mapping" then
      if not common.is_object(value) then
        return "attribute_mapping must be an object"
      end
      for key, claim in pairs(value) do
        if type(key) ~= "string" or type(claim) ~= "string" then
          return "attribute_mapping must map names to claim names"
        end
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
  local doc = common.decode(body)
  if not common.is_object(doc) then
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

--- The JSON object in a request body, or nil with a 400.
local function object_body(request)
  local body = common.decode(request.body)
  if not common.is_object(body) then
    return nil, api_error(400, "bad_request",
      "The request body must be a JSON object.")
  end
  return body
end

--- The organization, or nil with a 404.
local function organization(key)
  local org = find_organization(key)
  if not org then
    return nil, api_error(404, "organization_not_found",
      "The organization could not be found.")
  end
  return org
end

--- The organization and the member's right to act on it, or nil and the
-- error to answer with.
local function authorize(request, org_key, action)
  local org, status, body = organization(org_key)
  if not org then return nil, status, body end
  status, body = check_member(request.headers, org, action)
  if status then return nil, status, body end
  return org
end

--- The request's JSON object and its organization, the member (if any)
-- being allowed the action; or nil, nil and the error to answer with.
local function body_and_organization(request, org_key, action)
  local body, status, err = object_body(request)
  if not body then return nil, nil, status, err end
  local org
  org, status, err = authorize(request, org_key, action)
  if not org then return nil, nil, status, err end
  return body, org
end

local function update_connection(request, org_key, connection_id)
  local body, org, status, err =
    body_and_organization(request, org_key, "update")
  if not body then return status, err end
  local conn = find_connection(org, connection_id)
  if not conn then
    return api_error(404, "oidc_connection_not_found",
      "The OIDC connection could not be found.")
  end
  local problem = invalid_field(body)
  if problem then return api_error(400, "bad_request", problem) end

  local warning
  if body.issuer and body.issuer ~= conn.issuer then
    local doc, why = fetch_discovery(body.issuer)
    -- The fetch yields: the connection may have been deleted meanwhile.
    if find_connection(org, connection_id) ~= conn then
      return api_error(404, "oidc_connection_not_found",
        "The OIDC connection was deleted during the update.")
    end
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

local function create_connection(request, org_key)
  local body, org, status, err =
    body_and_organization(request, org_key, "create")
  if not body then return status, err end
  local problem = invalid_field(body, CREATE_FIELDS)
  if problem then return api_error(400, "bad_request", problem) end

  created_count = created_count + 1
  local conn = {
    organization_id = org.organization_id,
    connection_id = ("oidc-connection-test-emulated-%08d")
      :format(created_count),
    display_name = body.display_name,
    identity_provider = body.identity_provider or "generic",
  }
  table.insert(state.oidc_connections, conn)
  return 200, {
    status_code = 200,
    request_id = new_request_id(),
    connection = connection_view(conn),
  }
end

local function get_connections(request, org_key)
  local org, status, err = authorize(request, org_key, "get")
  if not org then return status, err end
  local list = common.array()
  for _, conn in ipairs(state.oidc_connections) do
    if conn.organization_id == org.organization_id then
      list[#list + 1] = connection_view(conn)
    end
  end
  return 200, {
    status_code = 200,
    request_id = new_request_id(),
    oidc_connections = list,
    saml_connections = common.array(),
    external_connections = common.array(),
  }
end

local function delete_connection(request, org_key, connection_id)
  local org, status, err = authorize(request, org_key, "delete")
  if not org then return status, err end
  for i, conn in ipairs(state.oidc_connections) do
    if conn.organization_id == org.organization_id
        and conn.connection_id == connection_id then
      table.remove(state.oidc_connections, i)
      return 200, {
        status_code = 200,
        request_id = new_request_id(),
        connection_id = connection_id,
      }
    end
  end
  return api_error(404, "connection_not_found",
    "The SSO connection could not be found.")
end

--- Decode each raw segment on its own, so %2F never splits one.
local function segments(path)
  local list = {}
  -- Every segment counts, empty ones too: "//v1" is no route.
  for raw in (path:sub(2) .. "/"):gmatch("([^/]*)/") do
    list[#list + 1] = http_util.decodeURIComponent(raw)
  end
  return list
end

--- Basic credentials, checked against the seeded project.
local function authorized(headers)
  local value = headers:get("authorization")
  -- The scheme's name is case-insensitive (RFC 9110, 11.1).
  local scheme, encoded = (value or ""):match("^(%a+)%s+(%S+)$")
  if not scheme or scheme:lower() ~= "basic" then return false end
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
  local body = common.decode(request.body)
  if type(body) == "table" then
    if body.client_secret ~= nil then body.client_secret = REDACTED end
    entry.body = body
  end
  entry.body_bytes = #request.body
  received[#received + 1] = entry
end

--- Route /v1/b2b/sso/... to its call.
local function handle_api(request, path)
  local parts, method = segments(path), request.method
  local sso = parts[1] == "v1" and parts[2] == "b2b" and parts[3] == "sso"
  if sso and parts[4] == "oidc" then
    if method == "POST" and #parts == 5 then
      return create_connection(request, parts[5])
    elseif method == "PUT" and #parts == 7 and parts[6] == "connections" then
      return update_connection(request, parts[5], parts[7])
    end
  elseif sso and method == "GET" and #parts == 4 then
    return get_connections(request, parts[4])
  elseif sso and method == "DELETE" and #parts == 6
      and parts[5] == "connections" then
    return delete_connection(request, parts[4], parts[6])
  end
  return api_error(404, "route_not_found",
    "No such route: " .. method .. " " .. path)
end

local function handle(stream, headers, body)
  local request = {
    method = headers:get(":method"),
    path = headers:get(":path"):gsub("%?.*$", ""),
    headers = headers,
    body = body,
  }

  if request.path == "/_emulator/reset" and request.method == "POST" then
    reset()
    return common.respond(stream, 200, { reset = true })
  elseif request.path == "/_emulator/requests" then
    if request.method == "DELETE" then received = common.array() end
    return common.respond(stream, 200, { requests = received })
  end

  remember(request, stream)
  local status, answer
  local gateway_path = request.path:match("^/_gateway(/.*)$")
  if gateway_path then
    status, answer = handle_api(request, gateway_path)
  elseif not authorized(headers) then
    status, answer = api_error(401, "unauthorized_credentials",
      "Unauthorized credentials.")
  else
    status, answer = handle_api(request, request.path)
  end
  common.respond(stream, status, answer)
end

common.serve({
  name = "stytch emulator",
  host = args.host,
  port = args.port,
  port_file = args.port_file,
  ctx = args.cert and common.server_context(args.cert, args.key),
}, handle)

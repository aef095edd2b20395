--- Helpers for OIDC connections that need no Stytch call: why a
-- connection is still pending, and what Stytch would discover from an
-- issuer.
-- @module stytch.oidc

local core = require "stytch.core"
local errors = require "stytch.errors"
local version = require "stytch.version"

local oidc = {}

-- What a connection needs before Stytch makes it active, in the order the
-- docs give them.
local REQUIRED = {
  "issuer", "client_id", "client_secret", "authorization_url", "token_url",
  "userinfo_url", "jwks_url",
}

-- Connection field -> discovery document member (OIDC Discovery 1.0, 3).
local DISCOVERED = {
  { "authorization_url", "authorization_endpoint" },
  { "token_url", "token_endpoint" },
  { "userinfo_url", "userinfo_endpoint" },
  { "jwks_url", "jwks_uri" },
}

local WELL_KNOWN = "/.well-known/openid-configuration"
local REDIRECTS = { [301] = true, [302] = true, [303] = true, [307] = true,
                    [308] = true }

--- The fields a connection still lacks to become active.
-- @tparam table connection a connection (or a response holding one), or
-- the fields you are about to send
-- @treturn table the missing field names, in the documented order; empty
-- when nothing is missing
function oidc.missing_for_activation(connection)
  if type(connection) ~= "table" then
    return errors.invalid("connection", "must be a table, got "
      .. type(connection))
  end
  if type(connection.connection) == "table" then
    connection = connection.connection
  end
  local missing = {}
  for _, name in ipairs(REQUIRED) do
    local value = connection[name]
    if type(value) ~= "string" or value == "" then
      missing[#missing + 1] = name
    end
  end
  return missing
end

local function discovery_failed(error_type, message, extra)
  extra = extra or {}
  extra.error_type = error_type
  return errors.fail("invalid_response", message, extra)
end

local function options(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    return errors.invalid("opts", "must be a table or nil, got " .. type(opts))
  end
  for key in pairs(opts) do
    if key ~= "timeout" and key ~= "connect_timeout" and key ~= "cainfo" then
      return errors.invalid("opts", "has an unknown option (known: "
        .. "timeout, connect_timeout, cainfo)")
    end
  end
  return opts
end

--- Fetch the discovery document of an issuer, the way OpenID Connect
-- Discovery 1.0 says (section 4): one trailing "/" dropped before
-- "/.well-known/openid-configuration" is added; https only; no redirect
-- followed; JSON only; and the document's `issuer` must be exactly the
-- one asked for (4.3).
-- @tparam string issuer
-- @tparam[opt] table opts `timeout`, `connect_timeout`, `cainfo`
-- @treturn table `issuer`, the four URLs Stytch would infer
-- (`authorization_url`, `token_url`, `userinfo_url`, `jwks_url`; nil when
-- not advertised), `claims_supported`, `scopes_supported`, and the whole
-- `document`; or nil, err whose `error_type` names the rule that failed
function oidc.discover(issuer, opts)
  if type(issuer) ~= "string" then
    return errors.invalid("issuer", "must be a string, got " .. type(issuer))
  end
  local ok, rule = core.check_https_url(issuer)
  if not ok then return errors.invalid("issuer", rule) end
  local settings, err = options(opts)
  if not settings then return nil, err end

  -- The session drops one trailing "/", as OIDC Discovery 4.1 asks.
  local session
  session, err = core.session {
    base_url = issuer,
    timeout = settings.timeout,
    connect_timeout = settings.connect_timeout,
    cainfo = settings.cainfo,
    user_agent = version.user_agent,
  }
  if not session then
    if err.field == "base_url" then
      return errors.invalid("issuer", err.message:gsub("^base_url ", ""))
    end
    return errors.invalid("opts." .. err.field,
      err.message:gsub("^[%w_]+ ", ""))
  end
  local status, body, content_type, location =
    session:get_document(WELL_KNOWN)
  session:close()
  if not status then
    if body.kind == "invalid_response" then
      return discovery_failed("discovery_too_large", "the discovery "
        .. "document is larger than the response limit",
        { status_code = body.status_code })
    end
    return nil, body
  end

  if REDIRECTS[status] then
    return discovery_failed("discovery_redirect", ("the discovery document "
      .. "answered HTTP %d, a redirect, which discovery does not follow")
      :format(status), { status_code = status, location = location })
  elseif status ~= 200 then
    return discovery_failed("discovery_http_status", ("the discovery "
      .. "document answered HTTP %d"):format(status),
      { status_code = status })
  end
  local media = (content_type or ""):lower():match("^%s*([^;%s]+)")
  if media ~= "application/json" then
    return discovery_failed("discovery_not_json", "the discovery document "
      .. "is " .. (media or "of no stated type") .. ", not application/json",
      { status_code = status })
  end
  local document = core.parse_response(200, body)
  if not document then
    return discovery_failed("discovery_not_json", "the discovery document "
      .. "is not a JSON object", { status_code = status })
  end
  if document.issuer ~= issuer then
    return discovery_failed("discovery_issuer_mismatch", "the discovery "
      .. "document names another issuer than the one asked for",
      { expected = issuer, got = document.issuer })
  end

  local result = {
    issuer = issuer,
    claims_supported = document.claims_supported,
    scopes_supported = document.scopes_supported,
    document = document,
  }
  for _, pair in ipairs(DISCOVERED) do
    local field, member = pair[1], pair[2]
    local value = document[member]
    if value ~= nil and (type(value) ~= "string"
        or not core.check_https_url(value)) then
      return discovery_failed("discovery_invalid_endpoint", "the discovery "
        .. "document's " .. member .. " is not an absolute https URL")
    end
    result[field] = value
  end
  return result
end

return oidc

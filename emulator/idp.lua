#!/usr/bin/env luajit
--- A test OpenID Connect identity provider over https, for tests and the
-- demo.  It serves discovery documents only, for a few issuers under one
-- origin, including awkward ones:
--   /acme          a complete document
--   /no-userinfo   no userinfo_endpoint
--   /trailing/     an issuer that ends in "/"
--   /mismatch      a document naming another issuer
--   /html          HTML instead of JSON
--   /redirect      a 302 to /acme's document
--   /broken        HTTP 500
--   /http-endpoint a token_endpoint over plain http
-- Under /faults/<name>/ any request gets a misbehaving answer, so that a
-- client pointed there (as its base URL) meets it on the API's own path:
--   hang      never answers (until the client gives up)
--   html502   a proxy's HTML 502
--   empty500  a 500 with no body
--   oauth400  an OAuth 2.0 shaped error body
--   huge      a 200 whose JSON body is 10 MiB
--   reset, drip, truncated, deep, nan, infinity, hex, bad_utf8,
--   early_hints, gzip, chunked, redirect301/302/307/308: see FAULTS
--   once/<key>/<name>  that fault the first time, then a 200
--   flaky/<key>/<n>/<status>[/<retry-after>]
--             the first n requests under <key> get <status> (a Stytch
--             shaped error, with Retry-After when given: seconds, or
--             "date<seconds>" for an HTTP-date that far ahead), the rest
--             a 200 saying which request they were
--   count/<key>  how many requests came under <key>
--   barrier/<key>/<n>  holds each request until n have come under <key>
--             (or 5 seconds pass), then answers how many had come: two
--             calls that overlap both see 2, calls made one after the
--             other see 1 and 2
--   inflight/<key>/  holds each request 0.1 s, counting how many under
--             <key> are held at once; peak/<key> says the most there were
--   slowdown/<key>/  the first request gets a 429 with Retry-After: 1, the
--             rest a 200 after 0.2 s; arrivals/<key> lists when each came
--             (seconds after the first) and the status it got
-- Anything else is a 404.

package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path

local argparse = require "argparse"
local cqueues = require "cqueues"
local http_headers = require "http.headers"
local common = require "common"

local parser = argparse("idp.lua", "A test OIDC identity provider.")
parser:option("--host", "Address to listen on.", "127.0.0.1")
parser:option("--port", "Port to listen on (0: any free one).", "0")
  :convert(tonumber)
parser:option("--port-file", "Write the port here once listening.")
parser:option("--cert", "PEM certificate."):args(1):count(1)
parser:option("--key", "PEM private key."):args(1):count(1)
local args = parser:parse()

local WELL_KNOWN = "/.well-known/openid-configuration"

--- A discovery document for the issuer at origin .. path.
local function document(origin, path, overrides)
  local base = origin .. path:gsub("/$", "")
  local doc = {
    issuer = origin .. path,
    authorization_endpoint = base .. "/oauth2/authorize",
    token_endpoint = base .. "/oauth2/token",
    userinfo_endpoint = base .. "/oauth2/userinfo",
    jwks_uri = base .. "/oauth2/keys",
    response_types_supported = { "code" },
    subject_types_supported = { "public" },
    id_token_signing_alg_values_supported = { "RS256" },
    scopes_supported = { "openid", "email", "profile", "groups" },
    claims_supported = { "sub", "email", "email_verified", "name",
      "given_name", "family_name", "groups" },
  }
  for key, value in pairs(overrides or {}) do
    doc[key] = value ~= false and value or nil
  end
  return doc
end

local OK_BODY = '{"status_code":200,"request_id":"request-id-idp-ok"}'

--- Send headers, then body bytes as given, without ending the body.
local function begin(stream, status, headers)
  local h = http_headers.new()
  h:append(":status", tostring(status))
  for name, value in pairs(headers or {}) do h:append(name, value) end
  assert(stream:write_headers(h, false))
end

--- Drop the connection where it stands, mid-response.
local function cut(stream)
  local socket = stream.connection.socket
  socket:flush()
  socket:shutdown("rw")
  stream.connection:close()
end

--- A gzip-compressed copy of text, made by the system's gzip.
local function gzip(text)
  local path = os.tmpname()
  local file = assert(io.open(path, "wb"))
  file:write(text)
  file:close()
  local pipe = assert(io.popen("gzip -c -n < " .. path))
  local packed = pipe:read("*a")
  pipe:close()
  os.remove(path)
  return packed
end

local GZIPPED_OK = gzip(OK_BODY)

local FAULTS = {
  hang = function()
    cqueues.sleep(60)
  end,
  html502 = function(stream)
    common.respond(stream, 502, "<html><body>Bad gateway</body></html>",
      "text/html")
  end,
  empty500 = function(stream)
    common.respond(stream, 500, "", "text/plain")
  end,
  huge = function(stream)
    common.respond(stream, 200,
      '{"pad":"' .. ("x"):rep(10 * 1024 * 1024) .. '"}')
  end,
  oauth400 = function(stream)
    common.respond(stream, 400, {
      error = "invalid_client",
      error_description = "Client authentication failed.",
      error_uri = "https://idp.example/errors/invalid_client",
    })
  end,
  -- Headers and half a body, then the connection is dropped.
  reset = function(stream)
    begin(stream, 200, { ["content-type"] = "application/json",
                         ["content-length"] = "200" })
    assert(stream:write_chunk('{"status_code":200,', false))
    cut(stream)
  end,
  -- Headers, then one byte every three seconds.
  drip = function(stream)
    begin(stream, 200, { ["content-type"] = "application/json",
                         ["content-length"] = "100" })
    for _ = 1, 30 do
      assert(stream:write_chunk(" ", false))
      cqueues.sleep(3)
    end
    cut(stream)
  end,
  -- A whole response whose JSON stops half way.
  truncated = function(stream)
    common.respond(stream, 200, '{"status_code":200,"connection":{"conn')
  end,
  deep = function(stream)
    common.respond(stream, 200, ('{"a":'):rep(5000) .. "1"
      .. ("}"):rep(5000))
  end,
  nan = function(stream)
    common.respond(stream, 200, '{"status_code":200,"n":NaN}')
  end,
  infinity = function(stream)
    common.respond(stream, 200, '{"status_code":200,"n":-Infinity}')
  end,
  hex = function(stream)
    common.respond(stream, 200, '{"status_code":0x1F}')
  end,
  bad_utf8 = function(stream)
    common.respond(stream, 200,
      '{"status_code":200,"request_id":"\255\254 not text"}')
  end,
  -- An informational 103 before the final answer.
  early_hints = function(stream)
    begin(stream, 103, { link = "</style.css>; rel=preload" })
    common.respond(stream, 200, OK_BODY)
  end,
  gzip = function(stream)
    common.respond(stream, 200, GZIPPED_OK, "application/json",
      { ["content-encoding"] = "gzip" })
  end,
  -- The body in many small chunks.
  chunked = function(stream)
    begin(stream, 200, { ["content-type"] = "application/json" })
    for i = 1, #OK_BODY, 3 do
      assert(stream:write_chunk(OK_BODY:sub(i, i + 2), false))
    end
    assert(stream:write_chunk("", true))
  end,
}

-- Redirects to another port: none may be followed.
for _, code in ipairs { 301, 302, 307, 308 } do
  FAULTS["redirect" .. code] = function(stream)
    common.respond(stream, code, "", "text/plain",
      { location = "https://127.0.0.1:1/elsewhere" })
  end
end

local seen = {}  -- requests per flaky key
local held, peak = {}, {}  -- inflight: held now, most held at once
local arrivals = {}  -- slowdown: { at, status } per request

local function retry_after_value(spec)
  local ahead = spec and spec:match("^date(%d+)$")
  if ahead then
    return os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + ahead)
  end
  return spec
end

local function flaky(stream, key, failures, status, retry_after)
  seen[key] = (seen[key] or 0) + 1
  if seen[key] > tonumber(failures) then
    return common.respond(stream, 200, {
      status_code = 200, request_id = "request-id-idp-" .. seen[key],
      request_number = seen[key],
    })
  end
  local value = retry_after_value(retry_after)
  common.respond(stream, tonumber(status), {
    status_code = tonumber(status),
    request_id = "request-id-idp-" .. seen[key],
    error_type = tonumber(status) == 429 and "too_many_requests"
      or "internal_server_error",
    error_message = "Scripted failure " .. seen[key] .. " of " .. failures,
  }, nil, value and { ["retry-after"] = value } or nil)
end

local function handle(stream, headers)
  local origin = "https://" .. headers:get(":authority")
  local path = headers:get(":path"):gsub("%?.*$", "")
  local fault = FAULTS[path:match("^/faults/([%w_]+)/") or ""]
  if fault then return fault(stream) end
  -- /faults/once/<key>/<name>/: the fault the first time, then a 200.
  local once_key, name = path:match("^/faults/once/([%w_-]+)/([%w_]+)/")
  if FAULTS[name or ""] then
    seen[once_key] = (seen[once_key] or 0) + 1
    if seen[once_key] == 1 then return FAULTS[name](stream) end
    return common.respond(stream, 200, OK_BODY)
  end
  local key, failures, status, after =
    path:match("^/faults/flaky/([%w_-]+)/(%d+)/(%d+)/([%w]+)/")
  if not key then
    key, failures, status = path:match("^/faults/flaky/([%w_-]+)/(%d+)/(%d+)/")
  end
  if key then
    return flaky(stream, key, failures, status, after)
  end
  local wanted
  key, wanted = path:match("^/faults/barrier/([%w_-]+)/(%d+)/")
  if key then
    seen[key] = (seen[key] or 0) + 1
    for _ = 1, 100 do
      if seen[key] >= tonumber(wanted) then break end
      cqueues.sleep(0.05)
    end
    return common.respond(stream, 200, { status_code = 200,
      request_id = "request-id-idp-barrier", together = seen[key] })
  end
  key = path:match("^/faults/inflight/([%w_-]+)/")
  if key then
    held[key] = (held[key] or 0) + 1
    peak[key] = math.max(peak[key] or 0, held[key])
    cqueues.sleep(0.1)
    held[key] = held[key] - 1
    return common.respond(stream, 200, { status_code = 200,
      request_id = "request-id-idp-inflight" })
  end
  key = path:match("^/faults/peak/([%w_-]+)$")
  if key then
    return common.respond(stream, 200, { peak = peak[key] or 0 })
  end
  key = path:match("^/faults/slowdown/([%w_-]+)/")
  if key then
    local list = arrivals[key] or { start = cqueues.monotime() }
    arrivals[key] = list
    local entry = { at = cqueues.monotime() - list.start }
    list[#list + 1] = entry
    if #list == 1 then
      entry.status = 429
      return common.respond(stream, 429, { status_code = 429,
        request_id = "request-id-idp-slowdown",
        error_type = "too_many_requests",
        error_message = "Slow down" }, nil, { ["retry-after"] = "1" })
    end
    entry.status = 200
    cqueues.sleep(0.2)
    return common.respond(stream, 200, { status_code = 200,
      request_id = "request-id-idp-slowdown" })
  end
  key = path:match("^/faults/arrivals/([%w_-]+)$")
  if key then
    local list = {}
    for i, entry in ipairs(arrivals[key] or {}) do list[i] = entry end
    return common.respond(stream, 200, { arrivals = list })
  end
  key = path:match("^/faults/count/([%w_-]+)$")
  if key then
    return common.respond(stream, 200, { count = seen[key] or 0 })
  end
  local tenant = path:sub(1, -#WELL_KNOWN - 1)
  if path:sub(-#WELL_KNOWN) ~= WELL_KNOWN then tenant = nil end

  if tenant == "/acme" then
    common.respond(stream, 200, document(origin, "/acme"))
  elseif tenant == "/no-userinfo" then
    common.respond(stream, 200, document(origin, "/no-userinfo",
      { userinfo_endpoint = false }))
  elseif tenant == "/trailing" then
    common.respond(stream, 200, document(origin, "/trailing/"))
  elseif tenant == "/mismatch" then
    common.respond(stream, 200, document(origin, "/mismatch",
      { issuer = origin .. "/someone-else" }))
  elseif tenant == "/html" then
    common.respond(stream, 200, "<html><body>Sign in</body></html>",
      "text/html")
  elseif tenant == "/redirect" then
    common.respond(stream, 302, "", "text/plain",
      { location = origin .. "/acme" .. WELL_KNOWN })
  elseif tenant == "/http-endpoint" then
    common.respond(stream, 200, document(origin, "/http-endpoint",
      { token_endpoint = "http://127.0.0.1/oauth2/token" }))
  elseif tenant == "/broken" then
    common.respond(stream, 500, "internal error", "text/plain")
  else
    common.respond(stream, 404, { error = "not_found" })
  end
end

common.serve({
  name = "test identity provider",
  host = args.host,
  port = args.port,
  port_file = args.port_file,
  ctx = common.server_context(args.cert, args.key),
}, handle)

--- What the emulator and the test identity provider share: listening on
-- loopback (http, or https with a certificate), answering JSON, and
-- announcing the port they got.  Built on lua-http.

local http_server = require "http.server"
local http_headers = require "http.headers"
local http_tls = require "http.tls"
local x509 = require "openssl.x509"
local pkey = require "openssl.pkey"
local json = require "dkjson"

local common = {}

local OBJECT = { __jsontype = "object" }
local ARRAY = { __jsontype = "array" }

--- Mark a table to be written as a JSON object (or array) even when empty.
function common.object(t) return setmetatable(t or {}, OBJECT) end
function common.array(t) return setmetatable(t or {}, ARRAY) end

--- Decode JSON text: the value, or nil and why.  JSON null is nil.
-- Nesting too deep for dkjson's recursion is a failure, not a crash.
function common.decode(text)
  local ok, value, _, err = pcall(json.decode, text or "")
  if not ok then return nil, "too deeply nested" end
  if err then return nil, err end
  return value
end

--- Whether a decoded value was a JSON object (dkjson marks them).
function common.is_object(value)
  local meta = type(value) == "table" and getmetatable(value)
  return meta and meta.__jsontype == "object" or false
end

function common.read_file(path)
  local file = assert(io.open(path, "rb"))
  local data = file:read("*a")
  file:close()
  return data
end

--- A TLS server context from PEM files.
function common.server_context(cert_path, key_path)
  local ctx = http_tls.new_server_context()
  assert(ctx:setCertificate(x509.new(common.read_file(cert_path))))
  assert(ctx:setPrivateKey(pkey.new(common.read_file(key_path))))
  return ctx
end

--- Answer a stream; a table body is sent as JSON.
function common.respond(stream, status, body, content_type, extra_headers)
  local headers = http_headers.new()
  headers:append(":status", tostring(status))
  headers:append("content-type", content_type or "application/json")
  for name, value in pairs(extra_headers or {}) do
    headers:append(name, value)
  end
  if type(body) == "table" then body = json.encode(body) end
  assert(stream:write_headers(headers, false))
  assert(stream:write_chunk(body or "", true))
end

--- Write the port where a waiting script will find it, all at once.
local function announce(port_file, port)
  local partial = port_file .. ".partial"
  local file = assert(io.open(partial, "w"))
  file:write(tostring(port), "\n")
  file:close()
  assert(os.rename(partial, port_file))
end

common.MAX_BODY = 4 * 1024 * 1024
local BODY_TIMEOUT = 10

--- Read a request's whole body: the body, or nil and why.  A body with a
-- Content-Length is read here chunk by chunk.  When the client goes away
-- mid-body, lua-http 0.4 reads empty chunks without end, in its reader and
-- in the drain at the end of a stream, so such a stream is closed before
-- it gets there (see common.serve).
function common.read_body(stream, headers)
  local declared = headers:get("content-length")
  if not declared then
    if not headers:has("transfer-encoding") then return "" end
    local body, err = stream:get_body_as_string(BODY_TIMEOUT)
    if not body then return nil, tostring(err) end
    if #body > common.MAX_BODY then return nil, "too large" end
    return body
  end
  local length = tonumber(declared)
  if not (length and length >= 0 and length % 1 == 0) then
    return nil, "bad content-length"
  elseif length > common.MAX_BODY then
    return nil, "too large"
  end
  local parts, total = {}, 0
  while total < length do
    local chunk, err = stream:get_next_chunk(BODY_TIMEOUT)
    if chunk == nil and err == nil then break end
    if chunk == nil then return nil, tostring(err) end
    if chunk == "" then return nil, "cut short" end
    parts[#parts + 1] = chunk
    total = total + #chunk
  end
  if total ~= length then return nil, "cut short" end
  return table.concat(parts)
end

--- Listen and serve forever.  `handle(stream, headers, body)` answers a
-- request; if it raises, the caller gets a 500 and the error goes to
-- stderr.  A request whose body can't be read whole is answered 400 (or
-- 413) where the client is still there, and its connection is closed.
function common.serve(options, handle)
  local function onstream(_, stream)
    local headers = stream:get_headers()
    if not headers then return end
    local body, why = common.read_body(stream, headers)
    if not body then
      pcall(common.respond, stream, why == "too large" and 413 or 400, {
        status_code = why == "too large" and 413 or 400,
        error_type = why == "too large" and "request_too_large"
          or "bad_request",
        error_message = "The request body could not be read: " .. why,
      })
      -- Closed, so that lua-http does not try to drain the rest.
      stream:set_state("closed")
      stream.connection:close()
      return
    end
    local ok, err = pcall(handle, stream, headers, body)
    if not ok then
      io.stderr:write("error answering ", tostring(headers:get(":path")),
        ": ", tostring(err), "\n")
      local answered = pcall(common.respond, stream, 500, {
        status_code = 500, error_type = "internal_server_error",
        error_message = "The emulator failed to answer this request.",
      })
      if not answered then stream.connection:close() end
    end
  end

  local server = assert(http_server.listen {
    host = options.host,
    port = options.port,
    tls = options.ctx ~= nil,
    ctx = options.ctx,
    onstream = onstream,
    onerror = function(_, _, op, err)
      io.stderr:write(options.name, ": ", tostring(op), ": ",
        tostring(err), "\n")
    end,
  })
  assert(server:listen())
  local _, host, port = server:localname()
  if options.port_file then announce(options.port_file, port) end
  io.stdout:write(options.name, " listening on ",
    options.ctx and "https" or "http", "://", host, ":", port, "\n")
  io.stdout:flush()
  assert(server:loop())
end

--- The directory of the running script, for finding files beside it.
function common.script_dir()
  return (arg and arg[0] or ""):match("^(.*/)") or "./"
end

return common

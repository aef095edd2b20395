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
function common.decode(text)
  local value, _, err = json.decode(text or "")
  if err then return nil, err end
  return value
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

--- Listen and serve forever.  `handle(stream, headers)` answers a request;
-- if it raises, the caller gets a 500 and the error goes to stderr.
function common.serve(options, handle)
  local function onstream(_, stream)
    local headers = stream:get_headers()
    if not headers then return end
    local ok, err = pcall(handle, stream, headers)
    if not ok then
      io.stderr:write("error answering ", tostring(headers:get(":path")),
        ": ", tostring(err), "\n")
      pcall(common.respond, stream, 500, {
        status_code = 500, error_type = "internal_server_error",
        error_message = "The emulator failed to answer this request.",
      })
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

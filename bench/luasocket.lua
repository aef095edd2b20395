-- What a Lua user writes by hand today: luasocket (luasec for https) and
-- cjson, one request after another.  Prints "<rate> <peak RSS in KiB>".
local measure = require "measure"
local http = require "socket.http"
local https = require "ssl.https"
local ltn12 = require "ltn12"
local mime = require "mime"
local cjson = require "cjson"

local url, n, cainfo = arg[1], tonumber(arg[2]), arg[3]
local request = url:find("^https:") and https.request or http.request
local body = cjson.encode { display_name = "Bench",
  issuer = "https://idp.example", client_id = "bench-client",
  client_secret = "bench-secret" }
local auth = "Basic " .. mime.b64("project-test-bench:bench")

measure.loop(n, function()
  local out = {}
  local ok, status = request {
    url = url, method = "PUT", source = ltn12.source.string(body),
    sink = ltn12.sink.table(out), cafile = cainfo, verify = "peer",
    headers = { ["content-type"] = "application/json",
                ["content-length"] = #body, authorization = auth },
  }
  if not ok or status ~= 200 then
    error("request failed: " .. tostring(status))
  end
  assert(cjson.decode(table.concat(out)).connection)
end)

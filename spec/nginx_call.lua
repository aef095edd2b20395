--- The nginx of the specs runs this for /test/call: the JSON body names a
-- call, its arguments and the client's config; the answer is the result
-- and the error, as JSON, and tostring(err).
local cjson = require "cjson"
local stytch_ngx = require "stytch.ngx"

local nginx_call = {}

local unpack = table.unpack or unpack

function nginx_call.run()
  ngx.req.read_body()
  local job = cjson.decode(ngx.req.get_body_data())
  local args = {}
  for i = 1, job.n do
    if job.args[i] ~= cjson.null then args[i] = job.args[i] end
  end
  local client = stytch_ngx.client(job.config)
  local home = job.place and client.sso[job.place] or client.sso
  -- job.progress: an on_progress for a batch that raises or yields.
  if job.progress then
    args[2] = args[2] or {}
    args[2].on_progress = job.progress == "error"
      and function() error("on_progress fails") end
      or function() coroutine.yield() end
  end
  local ok, res, err = pcall(home[job.call], unpack(args, 1, job.n))
  if not ok then
    ngx.header.content_type = "application/json"
    return ngx.say(cjson.encode { raised = tostring(res) })
  end
  local plain_err = err  -- update_connections: the number that failed
  if type(err) == "table" then
    plain_err = {}
    for key, value in pairs(err) do plain_err[key] = value end
  end
  ngx.header.content_type = "application/json"
  ngx.say(cjson.encode {
    res = res or cjson.null, err = plain_err or cjson.null,
    text = type(err) == "table" and tostring(err) or cjson.null,
  })
end

return nginx_call

--- What the Lua benchmark clients share: time a loop of n calls and print
-- "<requests per second> <peak RSS in KiB>", as bench/run reads it.
local socket = require "socket"

local measure = {}

--- Run call() n times and print the rate and the peak RSS.
function measure.loop(n, call)
  local start = socket.gettime()
  for _ = 1, n do call() end
  local elapsed = socket.gettime() - start
  local rss = 0
  for line in io.lines("/proc/self/status") do
    rss = tonumber(line:match("^VmHWM:%s*(%d+)")) or rss
  end
  print(("%.0f %d"):format(n / elapsed, rss))
end

return measure

--- What the Lua benchmark clients share: time a loop of n calls and print
-- "<requests per second> <peak RSS in KiB>", as bench/run reads it.
local socket = require "socket"

local measure = {}

--- Run call() n times and print the rate and the peak RSS; `requests`
-- (default n) is how many requests those calls make in all.
function measure.loop(n, call, requests)
  local start = socket.gettime()
  for _ = 1, n do call() end
  local elapsed = socket.gettime() - start
  n = requests or n
  local rss = 0
  for line in io.lines("/proc/self/status") do
    rss = tonumber(line:match("^VmHWM:%s*(%d+)")) or rss
  end
  print(("%.0f %d"):format(n / elapsed, rss))
end

return measure

std = "max"
max_line_length = 79
files["spec"] = { std = "+busted" }
files["emulator"] = { std = "luajit" }
files["lua/stytch/ngx.lua"] = { std = "max+ngx_lua" }
files["lua/stytch/gateway.lua"] = { std = "max+ngx_lua" }
files["spec/nginx_call.lua"] = { std = "max+ngx_lua" }

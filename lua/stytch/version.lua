--- Who we are on the wire.
-- @module stytch.version

local core = require "stytch.core"

local VERSION = "0.1.0"
local runtime = type(jit) == "table" and jit.version or _VERSION

return {
  version = VERSION,
  user_agent = ("lua-stytch/%s (%s; libcurl/%s)"):format(VERSION, runtime,
    core.libcurl_version),
}

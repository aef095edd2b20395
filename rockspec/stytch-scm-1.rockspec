rockspec_format = "3.0"
package = "stytch"
version = "scm-1"

source = {
  url = "git+https://github.com/lua-stytch/lua-stytch.git",
}

description = {
  summary = "Stytch B2B SSO connections from Lua, in C on libcurl",
  detailed = [[
    Create, update and inspect Stytch B2B OIDC SSO connections from Lua 5.1
    to 5.4 and LuaJIT: strict validation before anything is sent, typed
    errors, connection reuse, and a local emulator for offline tests.
  ]],
  license = "MIT",
  labels = { "stytch", "sso", "oidc", "libcurl" },
}

dependencies = {
  "lua >= 5.1, < 5.5",
  "lua-cjson >= 2.1",
}

external_dependencies = {
  -- Only the library: Debian keeps curl.h in a multiarch include
  -- directory that luarocks 3.8 does not search but compilers do.
  CURL = { library = "curl" },
}

build = {
  type = "builtin",
  modules = {
    ["stytch"] = "lua/stytch/init.lua",
    ["stytch.attribute_mapping"] = "lua/stytch/attribute_mapping.lua",
    ["stytch.bulk"] = "lua/stytch/bulk.lua",
    ["stytch.calls"] = "lua/stytch/calls.lua",
    ["stytch.errors"] = "lua/stytch/errors.lua",
    ["stytch.gateway"] = "lua/stytch/gateway.lua",
    ["stytch.ngx"] = "lua/stytch/ngx.lua",
    ["stytch.oidc"] = "lua/stytch/oidc.lua",
    ["stytch.retry"] = "lua/stytch/retry.lua",
    ["stytch.scopes"] = "lua/stytch/scopes.lua",
    ["stytch.version"] = "lua/stytch/version.lua",
    ["stytch.core"] = {
      sources = {
        "csrc/compat.c", "csrc/core.c", "csrc/error.c", "csrc/json.c",
        "csrc/request.c", "csrc/response.c", "csrc/session.c",
        "csrc/validate.c",
      },
      libraries = { "curl", "m" },
      incdirs = { "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
  },
}

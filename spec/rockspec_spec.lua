local helper = require "helper"

local function run(command)
  local pipe = assert(helper.popen(command .. " 2>&1"))
  local out = pipe:read("*a")
  local ok = pipe:close()
  return ok, out
end

describe("the LuaRocks spec", function()
  it("installs with luarocks make and loads from the installed tree",
     function()
    local lua_version = _VERSION:match("%d+%.%d+")
    local work = os.tmpname()
    os.remove(work)
    local tree = work .. "/tree"
    assert(run("mkdir -p " .. work .. " && cp -r csrc lua rockspec " .. work))

    local ok, out = run("cd " .. work .. " && luarocks make"
      .. " rockspec/stytch-scm-1.rockspec --deps-mode=none --tree " .. tree
      .. " --lua-version=" .. lua_version)
    assert(ok, out)

    local probe = [[
      local stytch = require "stytch"
      local client = stytch.client { project_id = "project-live-x",
                                     secret = "s" }
      print(package.searchpath
        and package.searchpath("stytch.core", package.cpath)
        or "(no package.searchpath)", client.base_url)
    ]]
    ok, out = run("cd " .. work .. " && env"
      .. " LUA_PATH='" .. tree .. "/share/lua/" .. lua_version .. "/?.lua;"
      .. tree .. "/share/lua/" .. lua_version .. "/?/init.lua;;'"
      .. " LUA_CPATH='" .. tree .. "/lib/lua/" .. lua_version .. "/?.so;;'"
      .. " " .. helper.lua .. " -e '" .. probe .. "'")
    run("rm -rf " .. work)
    assert(ok, out)
    assert.matches("https://api.stytch.com", out)
    -- Lua 5.1 has no package.searchpath; there LUA_CPATH, which names
    -- no build directory of ours, has to be proof enough.
    assert.is_truthy(out:find(tree .. "/lib/lua/", 1, true)
      or out:find("(no package.searchpath)", 1, true), out)
  end)
end)

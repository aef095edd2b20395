-- The README's examples are the files in examples/: each must run
-- against the emulator, print what it promises, and stand in the README
-- word for word.
local helper = require "helper"

local EXPECTED = {
  ["lifecycle.lua"] = { "updated\tactive", "connections\t3" },
  ["attribute_mapping.lua"] = { "not advertised: costCenter",
                                "attribute_mapping.email" },
  ["scopes.lua"] = { "openid%20groups\nopenid%20groups\nopenid%20groups",
                     "openid,groups" },
  ["readiness.lua"] = { "pending\nclient_secret, userinfo_url" },
  ["discover.lua"] = { "/acme/oauth2/token", "discovery_issuer_mismatch" },
  ["rotate.lua"] = { "2/2 done", "oidc-connection-test-acme-okta\trotated",
                     "oidc-connection-test-acme-spare\trotated",
                     "failed\t0" },
}

local function read(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

describe("the README's examples", function()
  local readme = read("README.md")

  for name, expected in pairs(EXPECTED) do
    it("runs examples/" .. name .. " as the README shows it", function()
      helper.reset()
      local source = read("examples/" .. name)
      assert.is_truthy(readme:find(source, 1, true),
        "README.md does not quote examples/" .. name .. " as it is")
      local pipe = assert(helper.popen(helper.lua .. " examples/" .. name
        .. " 2>&1; echo \"exit $?\"", true))
      local out = pipe:read("*a")
      pipe:close()
      assert.matches("exit 0\n$", out)
      for _, text in ipairs(expected) do
        assert.is_truthy(out:find(text, 1, true), out)
      end
    end)
  end
end)

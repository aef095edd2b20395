local helper = require "helper"
local stytch = require "stytch"

local quote = helper.quote

-- Run Lua code in a fresh interpreter with the given environment; return
-- what it printed.  The module-level default client reads the environment.
local function run_with_env(env, code)
  local assignments = {}
  for name, value in pairs(env) do
    assignments[#assignments + 1] = name .. "=" .. quote(value)
  end
  local command = "env -u STYTCH_PROJECT_ID -u STYTCH_SECRET "
    .. "-u STYTCH_BASE_URL " .. table.concat(assignments, " ") .. " "
    .. helper.lua .. " -e " .. quote(code) .. " 2>&1"
  local pipe = assert(helper.popen(command, true))
  local out = pipe:read("*a")
  pipe:close()
  return out
end

describe("making a client", function()
  it("talks to test.stytch.com for a test project", function()
    local client = stytch.client { project_id = "project-test-abc",
                                   secret = "s" }
    assert.are.equal("https://test.stytch.com", client.base_url)
    client.close()
  end)

  it("talks to api.stytch.com for a live project", function()
    local client = stytch.client { project_id = "project-live-abc",
                                   secret = "s" }
    assert.are.equal("https://api.stytch.com", client.base_url)
    client.close()
  end)

  it("takes credentials and STYTCH_BASE_URL from the environment",
     function()
    local out = run_with_env({
      STYTCH_PROJECT_ID = "project-live-x", STYTCH_SECRET = "s",
      STYTCH_BASE_URL = "https://stytch.internal.example",
    }, [[print(require("stytch").client().base_url)]])
    assert.are.equal("https://stytch.internal.example\n", out)
  end)

  it("lets an explicit base_url beat STYTCH_BASE_URL", function()
    local out = run_with_env({
      STYTCH_PROJECT_ID = "project-test-x", STYTCH_SECRET = "s",
      STYTCH_BASE_URL = "https://from-env.example",
    }, [[print(require("stytch").client{
           base_url = "https://explicit.example" }.base_url)]])
    assert.are.equal("https://explicit.example\n", out)
  end)

  it("refuses a plain-http base URL that is not loopback", function()
    assert.has_error(function()
      stytch.client { project_id = "p", secret = "s",
                      base_url = "http://api.example.com" }
    end, "stytch invalid_argument: base_url must be https (http is allowed "
      .. "only for loopback hosts)")
  end)

  for _, url in ipairs { "http://127.0.0.1:9", "http://127.8.9.10",
      "http://localhost:8080", "http://[::1]:9" } do
    it("allows http for the loopback host of " .. url, function()
      local client = stytch.client { project_id = "p", secret = "s",
                                     base_url = url }
      client.close()
    end)
  end

  for _, case in ipairs {
    { { project_id = "p" }, "secret is required" },
    { { secret = "s" }, "project_id is required" },
    { { project_id = "p", secret = "s", timeout = 0 }, "timeout must be" },
    { { project_id = "p", secret = "s", connect_timeout = "5" },
      "connect_timeout must be" },
    { { project_id = "p", secret = "s", base_url = "https://x.example/?a" },
      "base_url must not have a query" },
    { { project_id = "p", secret = "s", base_url = "https://u:pw@x.example" },
      "base_url must not carry credentials" },
    { { project_id = "p", secret = "s", cainfo = "/no/such/ca.pem" },
      "cainfo must name a readable CA bundle file" },
    { { project_id = "p", secret = "s", retry = 3 },
      "config.retry is not an option" },
    { { project_id = "p", secret = "s", retries = 3 },
      "retries must be false or a table" },
    { { project_id = "p", secret = "s", retries = { max = 1.5 } },
      "retries.max must be a number from 0 to 10, whole" },
    { { project_id = "p", secret = "s", retries = { tries = 1 } },
      "retries has an unknown key" },
    { { project_id = "p", secret = "s", on_retry = "log" },
      "on_retry must be a function" },
    { { project_id = "p", secret = "s", max_response_bytes = 0 },
      "max_response_bytes must be a number of bytes above 0" },
    { { project_id = "p", secret = "s", stall_timeout = -1 },
      "stall_timeout must be a number of seconds above 0" },
    { { project_id = "p", secret = "s",
        dangerously_skip_tls_verification = "yes" },
      "dangerously_skip_tls_verification must be true or false" },
    { { project_id = 5, secret = "s" },
      "project_id must be a string, got number" },
    { { project_id = "p", secret = "s", base_url = false },
      "base_url must be a string, got boolean" },
    { { gateway = "https://gw.example", secret = "s" },
      "gateway takes no project_id, secret or base_url" },
    { { gateway = "http://gw.example" }, "gateway must be https" },
  } do
    it("refuses a config with " .. case[2], function()
      local ok, message = pcall(stytch.client, case[1])
      assert.is_false(ok)
      assert.is_truthy(message:find(case[2], 1, true), message)
    end)
  end

  it("keeps the secret out of the client table and its tostring", function()
    local secret = "secret-value-to-hide"
    local client = stytch.client { project_id = "project-test-abc",
                                   secret = secret }
    local seen = tostring(client)
    for key, value in pairs(client) do
      seen = seen .. tostring(key) .. tostring(value)
    end
    client.close()
    assert.is_falsy(seen:find(secret, 1, true), "the client shows its secret")
  end)

  if _VERSION == "Lua 5.4" then
    it("closes a client bound with <close> when its scope ends", function()
      -- Compiled at run time: LuaJIT and older Lua can't parse <close>.
      local chunk = assert(load([[
        local helper = ...
        local kept
        do
          local client <close> = helper.client()
          kept = client
        end
        return kept
      ]]))
      local client = chunk(helper)
      assert.has_error(function()
        client.sso.oidc.update_connection(helper.org, helper.pending, {})
      end, "stytch: the client is closed")
    end)
  end

  it("closes idempotently", function()
    local client = helper.client()
    client.close()
    client.close()
  end)
end)

describe("the module-level default client", function()
  local code = [[
    local stytch = require "stytch"
    local res, err = stytch.sso.oidc.update_connection(
      "organization-test-acme-0001", "oidc-connection-test-acme-okta", {})
    print(res and res.connection.connection_id or tostring(err))
  ]]

  it("is built from the environment on first use", function()
    helper.reset()
    local out = run_with_env({ STYTCH_PROJECT_ID = helper.project_id,
      STYTCH_SECRET = helper.secret, STYTCH_BASE_URL = helper.emulator },
      code)
    assert.are.equal("oidc-connection-test-acme-okta\n", out)
  end)

  it("returns invalid_argument, not an error, without credentials",
     function()
    local out = run_with_env({}, code)
    assert.are.equal("stytch invalid_argument: project_id is required "
      .. "(or set STYTCH_PROJECT_ID)\n", out)
  end)

  it("is replaced by stytch.configure", function()
    helper.reset()
    local out = run_with_env({}, ([[
      require("stytch").configure { project_id = %q, secret = %q,
                                    base_url = %q }
    ]]):format(helper.project_id, helper.secret, helper.emulator) .. code)
    assert.are.equal("oidc-connection-test-acme-okta\n", out)
  end)
end)

-- Inputs and events chosen to break the module: finalizers that meddle
-- during a call, NUL bytes, URLs that parsers read differently, a proxy in
-- the environment, limits at their edges.
local helper = require "helper"
local stytch = require "stytch"
local core = require "stytch.core"
local show = helper.show

local quote = helper.quote

-- Garbage whose finalizer runs fn, made often so that it runs mid-call.
local function finalizers(count, fn)
  for _ = 1, count do
    if _VERSION == "Lua 5.1" then
      local proxy = newproxy(true)
      getmetatable(proxy).__gc = fn
    else
      setmetatable({}, { __gc = fn })
    end
  end
end

describe("a client under finalizers that meddle", function()
  before_each(helper.reset)

  it("finishes a call cleanly when a finalizer closes the client in it",
     function()
    for _ = 1, 60 do
      local client = helper.client()
      finalizers(20, function() client.close() end)
      local ok, res, err = pcall(client.sso.oidc.update_connection,
        helper.org, helper.pending, { display_name = "x" },
        { session_token = helper.admin.session_token })
      if ok then
        assert(res, show(err))
      else
        assert.matches("the client is closed", res)
      end
      collectgarbage()
      assert.is_true(client.is_closed())
    end
  end)

  it("refuses a second call made by a finalizer during the first",
     function()
    local client = helper.client()
    local nested = {}
    for _ = 1, 30 do
      finalizers(10, function()
        local ok, message = pcall(client.sso.get_connections, helper.org)
        nested[#nested + 1] = ok and "ran" or message
      end)
      assert(client.sso.oidc.update_connection(helper.org, helper.pending,
        { display_name = ("y"):rep(5000) }))
    end
    -- The finalizers still pending run now, before the client is closed.
    collectgarbage()
    collectgarbage()
    client.close()
    for _, outcome in ipairs(nested) do
      if outcome ~= "ran" then
        assert.matches("already in a call", outcome)
      end
    end
  end)

  it("sends the session token it checked, whatever opts becomes", function()
    local client = helper.client()
    local scope = ("s"):rep(300000)
    for _ = 1, 20 do
      local opts = { session_token = helper.admin.session_token }
      finalizers(5, function() opts.session_token = nil end)
      local res, err = client.sso.oidc.update_connection(helper.org,
        helper.pending, { custom_scopes = { scope } }, opts)
      assert(res, show(err))
    end
    client.close()
  end)

  it("never sends a scope a finalizer swapped in after the check",
     function()
    local scopes = {}
    for i = 1, 3000 do scopes[i] = ("scope-%d-"):format(i) .. ("x"):rep(40) end
    collectgarbage("setpause", 1)
    for _ = 1, 5 do
      finalizers(50, function()
        for i = 1, #scopes do scopes[i] = "evil\r\nscope%" end
      end)
      local res, err = core.build_update_connection("o", "c",
        { custom_scopes = scopes })
      if res then
        assert.is_falsy(res.body:find("\r", 1, true), "an unchecked scope")
      else
        assert.are.equal("fields.custom_scopes", err.field)
      end
    end
    collectgarbage("setpause", 200)
  end)

  it("formats an error whose request_id is a number", function()
    local body = '{"error_type":"x","error_message":"' .. ("m"):rep(990)
      .. '","request_id":987654321987}'
    for _ = 1, 50 do
      local _, err = core.parse_response(400, body)
      finalizers(10, function() end)
      assert.are.equal("stytch api 400 x: " .. ("m"):rep(990)
        .. " (request_id 987654321987)", tostring(err))
    end
  end)

  it("stays usable when a finalizer's error escapes mid-call", function()
    -- Lua 5.1 to 5.3 let a finalizer's error out where it ran: inside a
    -- call, it must not leave the client marked busy.
    local client = helper.client()
    local list = {}
    for i, id in ipairs(helper.new_connections(8)) do
      list[i] = { "acme", id, { display_name = "x" } }
    end
    local armed = true
    for _ = 1, 20 do
      pcall(client.sso.oidc.update_connections, list, { concurrency = 4,
        on_progress = function()
          finalizers(20, function()
            if armed then error("a finalizer fails") end
          end)
        end })
      pcall(client.sso.oidc.update_connection, helper.org, helper.pending,
        { display_name = "x" })
    end
    armed = false
    collectgarbage()
    collectgarbage()
    local res, err = client.sso.oidc.update_connection(helper.org,
      helper.pending, { display_name = "after" })
    assert(res, show(err))
    local results, failed = client.sso.oidc.update_connections(list)
    assert.are.equal(0, failed, show(results))
  end)

  it("only marks a session closed when its __gc is reached mid-call",
     function()
    local session = core.session { base_url = helper.emulator }
    local meta, reached = getmetatable(session), false
    -- A collector in a hurry, so that finalizers run inside the calls.
    local pause, stepmul
    if _VERSION == "Lua 5.4" then
      -- Each minor collection calls every pending finalizer.
      collectgarbage("generational", 1, 100)
    else
      pause = collectgarbage("setpause", 0)
      stepmul = collectgarbage("setstepmul", 1000)
    end
    for _ = 1, 200 do
      for i = 1, 40 do
        if reached then break end  -- reached inside a submit
        session:submit(i, { method = "GET", path = "/v1/b2b/sso/acme" })
      end
      while session:in_flight() > 0 do
        finalizers(200, function()
          -- cancel() raises only while the session is in a call.
          if not reached and not pcall(session.cancel, session) then
            reached = true
            meta.__gc(session)
          end
        end)
        session:poll(1)
      end
      if reached then break end
    end
    if _VERSION == "Lua 5.4" then
      collectgarbage("incremental", 200, 100)
    else
      collectgarbage("setpause", pause)
      collectgarbage("setstepmul", stepmul)
    end
    assert.is_true(reached, "no finalizer ran during a call")
    assert.are.equal("stytch.session (closed)", tostring(session))
  end)
end)

describe("NUL bytes", function()
  local function build(fields, opts)
    return core.build_update_connection("o", "c", fields, opts)
  end

  it("can't smuggle a field name past the check", function()
    local res, err = build { ["client_id\0junk"] = "x" }
    assert.is_nil(res)
    assert.are.equal("fields", err.field)
  end)

  it("can't make one field appear twice", function()
    local res, err = build { ["display_name\0"] = "x", display_name = "y" }
    assert.is_nil(res)
    assert.are.equal("invalid_argument", err.kind)
  end)

  it("can't smuggle an option name", function()
    local _, err = build({}, { ["session_token\0x"] = "tok" })
    assert.are.equal("opts", err.field)
  end)

  it("can't extend an identity provider", function()
    local _, err = build { identity_provider = "okta\0evil" }
    assert.are.equal("fields.identity_provider", err.field)
  end)

  it("is named in an id before the dot rule", function()
    local _, err = core.build_update_connection(".\0", "c", {})
    assert.matches("NUL", err.message)
  end)

  for _, key in ipairs { "secret", "project_id", "base_url" } do
    it("is refused inside the " .. key .. " of a config", function()
      local config = { project_id = "p", secret = "s",
                       base_url = "https://api.example.com" }
      config[key] = config[key] .. "\0tail"
      local ok, message = pcall(stytch.client, config)
      assert.is_false(ok)
      assert.matches(key .. " must not contain a NUL byte", message)
    end)
  end
end)

describe("URLs that parsers read differently", function()
  for _, url in ipairs {
    "https:/idp.example", "https://user:pw@idp.example",
    "https://:pw@idp.example", "https://x\\@evil.example",
    "https://idp.example/#frag", "https://idp.example#",
    "https://idp.example:0/", "https://.", "https://-", "https://_",
    "https://idp\239\188\142example", "https://[fe80::1%25eth0]/",
    "https://idp.example/a\"b", "https://idp-.example", "https://a..b",
    "https://" .. ("a"):rep(8200) .. ".example",
  } do
    it("refuses the URL field " .. url:sub(1, 40), function()
      local res, err = core.build_update_connection("o", "c",
        { token_url = url })
      assert.is_nil(res, url)
      assert.are.equal("fields.token_url", err.field, show(err))
    end)
  end

  it("accepts a query in an endpoint URL, as some providers use", function()
    assert(core.build_update_connection("o", "c",
      { authorization_url = "https://login.example/authorize?p=b2c_1" }))
  end)

  it("refuses a query in the issuer", function()
    local _, err = core.build_update_connection("o", "c",
      { issuer = "https://login.example/?tenant=1" })
    assert.are.equal("fields.issuer", err.field)
    assert.matches("must not have a query", err.message)
  end)

  for _, url in ipairs {
    "http://127.256.0.1", "http://127.0.0.1.2", "http://127.0.0.1.",
    "http://127..1", "http://127.1.2.3.4.5", "http://127.0.0.1.evil.example",
    "http://localhost.evil.example", "http://[::ffff:7f00:1]",
  } do
    it("refuses plain http to the not-quite-loopback " .. url, function()
      local ok, message = pcall(stytch.client,
        { project_id = "p", secret = "s", base_url = url })
      assert.is_false(ok, url)
      assert.matches("base_url must", message)
    end)
  end

  for _, url in ipairs {
    "http://:pw@127.0.0.1:9", "https://:pw@api.stytch.com",
    "http://127.0.0.1:9?", "http://127.0.0.1:9#", "http://127.0.0.1:9/x?",
  } do
    it("refuses the base URL " .. url, function()
      local ok = pcall(stytch.client,
        { project_id = "p", secret = "s", base_url = url })
      assert.is_false(ok, url)
    end)
  end

  it("refuses credentials in a gateway URL, naming the gateway", function()
    local ok, message = pcall(stytch.client,
      { gateway = "http://:pw@127.0.0.1:9/_gateway" })
    assert.is_false(ok)
    assert.matches("gateway must not carry credentials", message)
  end)
end)

describe("limits", function()
  it("refuses an id over 1024 bytes without raising", function()
    local res, err = core.build_update_connection(("/"):rep(9000000), "c",
      {})
    assert.is_nil(res)
    assert.are.equal("organization_id", err.field)
    assert.matches("at most 1024 bytes", err.message)
  end)

  it("times out even with a timeout far below a millisecond", function()
    local client = stytch.client {
      project_id = "p", secret = "s", cainfo = helper.ca, timeout = 0.0004,
      base_url = helper.idp .. "/faults/hang", retries = false,
    }
    local res, err = client.sso.get_connections("o")
    client.close()
    assert.is_nil(res)
    assert.are.equal("timeout", err.kind, show(err))
  end)

  it("keeps the status of a response too large to read, and says the "
     .. "request may have taken effect", function()
    local client = stytch.client {
      project_id = "p", secret = "s", cainfo = helper.ca,
      base_url = helper.idp .. "/faults/huge",
    }
    local res, err = client.sso.get_connections("o")
    assert.is_nil(res)
    assert.are.equal("invalid_response", err.kind, show(err))
    assert.are.equal(200, err.status_code)
    assert.matches("may have taken effect", err.message)
    -- and the client goes on working
    res = client.sso.get_connections("o")
    client.close()
    assert.is_nil(res)
  end)

  it("says why nested JSON was refused", function()
    local _, err = core.parse_response(200,
      ('{"a":'):rep(100) .. "1" .. ("}"):rep(100))
    assert.matches("too many nested", err.message)
    _, err = core.parse_response(200, "[{}]")
    assert.matches("not a JSON object", err.message)
  end)
end)

describe("the environment and the caller", function()
  it("keeps plain-http loopback traffic away from an http_proxy", function()
    helper.reset()
    local code = ([[
      local c = require("stytch").client { project_id = %q, secret = %q,
                                           base_url = %q }
      local res, err = c.sso.get_connections("acme")
      print(res and "direct" or tostring(err))
    ]]):format(helper.project_id, helper.secret, helper.emulator)
    local pipe = assert(helper.popen("env http_proxy=http://127.0.0.1:1 "
      .. "HTTP_PROXY=http://127.0.0.1:1 all_proxy=http://127.0.0.1:1 "
      .. helper.lua .. " -e " .. quote(code) .. " 2>&1", true))
    local out = pipe:read("*a")
    pipe:close()
    assert.are.equal("direct\n", out)
  end)

  it("keeps https loopback traffic (discovery too) away from a proxy",
     function()
    local code = ([[
      local found, err = require("stytch").sso.oidc.discover(%q,
        { cainfo = %q })
      print(found and "direct" or tostring(err))
    ]]):format(helper.idp .. "/acme", helper.ca)
    local pipe = assert(helper.popen("env https_proxy=http://127.0.0.1:1 "
      .. "HTTPS_PROXY=http://127.0.0.1:1 " .. helper.lua .. " -e "
      .. quote(code) .. " 2>&1", true))
    local out = pipe:read("*a")
    pipe:close()
    assert.are.equal("direct\n", out)
  end)

  it("sends its own User-Agent whatever stytch.user_agent is set to",
     function()
    helper.reset()
    local saved = stytch.user_agent
    stytch.user_agent = "ua\r\nX-Injected: yes"
    local client = helper.client()
    stytch.user_agent = saved
    assert(client.sso.get_connections(helper.org))
    client.close()
    local sent = helper.received()[1]
    assert.is_nil(sent.headers["x-injected"])
    assert.matches("^lua%-stytch/", sent.headers["user-agent"])
  end)

  it("tells a caller who used a colon to use a dot", function()
    local client = helper.client()
    local ok, message = pcall(function()
      client.sso.oidc:update_connection(helper.org, helper.pending, {})
    end)
    client.close()
    assert.is_false(ok)
    assert.matches("call client%.sso%.oidc%.update_connection with a dot",
      message)
  end)

  it("shows a closed client as closed", function()
    local client = helper.client()
    client.close()
    assert.matches(", closed%)$", tostring(client))
  end)

  it("refuses a directory as cainfo", function()
    local ok, message = pcall(stytch.client,
      { project_id = "p", secret = "s", cainfo = "/tmp" })
    assert.is_false(ok)
    assert.matches("cainfo must name a readable CA bundle file", message)
  end)

  it("does not repeat an unknown key that looks like a secret", function()
    local _, err = core.build_update_connection("o", "c",
      { ["sk-live-abcdef"] = true })
    assert.are.equal("fields", err.field)
    assert.is_falsy(err.message:find("sk-live", 1, true))
  end)
end)

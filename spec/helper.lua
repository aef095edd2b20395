--- Shared by the specs: the servers that `make test` started, the seeded
-- data, and a way to show values in failure messages with secrets hidden.

local cjson = require "cjson"

local helper = {}

helper.emulator = assert(os.getenv("STYTCH_EMULATOR_URL"),
  "run the specs through `make test` (it starts the emulator)")
helper.idp = assert(os.getenv("STYTCH_TEST_IDP"))
helper.ca = assert(os.getenv("STYTCH_TEST_CA"))
helper.idp_wrong_name = assert(os.getenv("STYTCH_TEST_IDP_WRONG_NAME"))
helper.lua = os.getenv("STYTCH_SPEC_LUA") or "lua5.4"

local seed_file = assert(io.open("emulator/seed.json"))
helper.seed = cjson.decode(seed_file:read("*a"))
seed_file:close()

helper.project_id = helper.seed.project_id
helper.secret = helper.seed.secret
helper.org = "organization-test-acme-0001"
helper.pending = "oidc-connection-test-acme-okta"
helper.spare = "oidc-connection-test-acme-spare"
helper.admin = helper.seed.member_sessions[1]
helper.viewer = helper.seed.member_sessions[2]
helper.globex_admin = helper.seed.member_sessions[3]

--- A client of the module on the emulator.
function helper.client(extra)
  local stytch = require "stytch"
  local config = {
    project_id = helper.project_id,
    secret = helper.secret,
    base_url = helper.emulator,
  }
  for key, value in pairs(extra or {}) do config[key] = value end
  return stytch.client(config)
end

--- io.popen for the specs.  A sanitizer run preloads its runtime into the
-- Lua under test; tools such as curl(1) must not get it (they deadlock
-- under it), while a child Lua loading the sanitized core needs it.
function helper.popen(command, lua_child)
  if lua_child then return io.popen(command) end
  return io.popen("unset LD_PRELOAD; " .. command)
end

local function curl(args)
  local pipe = assert(helper.popen("curl -s --noproxy '*' " .. args))
  local body = pipe:read("*a")
  pipe:close()
  return body
end

--- s quoted for sh.
function helper.quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
local quote = helper.quote

--- Put the emulator back to its seed and forget what it received.
function helper.reset()
  curl("-X POST " .. quote(helper.emulator .. "/_emulator/reset"))
end

--- The requests the emulator received since the last reset.
function helper.received()
  local body = curl(quote(helper.emulator .. "/_emulator/requests"))
  return cjson.decode(body).requests
end

--- Send a raw request to the emulator: status and decoded body.
function helper.raw(method, path, body, credentials)
  local auth = credentials and ("-u " .. quote(credentials) .. " ") or ""
  local out = curl(auth .. "-w '\\n%{http_code}' -X " .. method
    .. " -H 'Content-Type: application/json' --data-binary "
    .. quote(body or "") .. " " .. quote(helper.emulator .. path))
  local text, status = out:match("^(.*)\n(%d+)$")
  local ok, decoded = pcall(cjson.decode, text)
  return tonumber(status), ok and decoded or text
end

--- The Basic credentials of the seeded project, as curl's -u takes them.
function helper.credentials()
  return helper.project_id .. ":" .. helper.secret
end

--- The same credentials base64-encoded, as an Authorization header has
-- them (by coreutils' base64: the specs have no encoder of their own).
function helper.basic_credentials()
  local pipe = assert(helper.popen("printf %s " .. quote(helper.credentials())
    .. " | base64 -w0"))
  local encoded = pipe:read("*a")
  pipe:close()
  return encoded
end

local SECRET_KEYS = {
  secret = true, client_secret = true, session_token = true,
  session_jwt = true, authorization = true,
}

--- A readable dump of a value, with every secret-bearing field hidden.
function helper.show(value, indent)
  indent = indent or ""
  if type(value) ~= "table" then
    return type(value) == "string" and ("%q"):format(value) or tostring(value)
  end
  local meta = getmetatable(value)
  local lines = { (meta and meta.__tostring) and
    ("-- " .. tostring(value) .. "\n" .. indent .. "{") or "{" }
  local keys = {}
  for key in pairs(value) do keys[#keys + 1] = key end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, key in ipairs(keys) do
    local shown = SECRET_KEYS[key] and "[redacted]"
      or helper.show(value[key], indent .. "  ")
    lines[#lines + 1] = indent .. "  " .. tostring(key) .. " = " .. shown
  end
  lines[#lines + 1] = indent .. "}"
  return table.concat(lines, "\n")
end

-- busted prints the values an assertion was given when it fails; show
-- tables the same redacted way, so no failure message holds a secret.
local luassert = require "luassert"
luassert:add_formatter(function(value)
  if type(value) == "table" then return helper.show(value) end
end)

--- "sent ... / got ..." for a failure message.
function helper.exchange(sent, res, err)
  return "sent: " .. helper.show(sent) .. "\ngot: " .. helper.show(res)
    .. "\nerr: " .. helper.show(err)
end

--- The ids of n new connections in acme, made on the emulator.
function helper.new_connections(n)
  local client = helper.client { retries = false }
  local ids = {}
  for i = 1, n do
    local res = assert(client.sso.oidc.create_connection("acme",
      { display_name = "New " .. i }))
    ids[i] = res.connection.connection_id
  end
  client.close()
  return ids
end

--- The PUTs the emulator received since the last reset.
function helper.received_puts()
  local puts = {}
  for _, request in ipairs(helper.received()) do
    if request.method == "PUT" then puts[#puts + 1] = request end
  end
  return puts
end

return helper

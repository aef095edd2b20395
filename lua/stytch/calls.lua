--- The calls of a client, for every dispatcher: where each lives
-- (`client.sso.oidc.x` or `client.sso.x`), its name, its HTTP method (for
-- the retry rules) and the position of its opts argument.
--
-- `sso.oidc.update_connection(organization_id, connection_id, fields
-- [, opts])` changes the fields given and leaves the others alone;
-- `sso.oidc.create_connection(organization_id, fields [, opts])` makes a
-- connection (`display_name`, `identity_provider`);
-- `sso.get_connections(organization_id [, opts])` lists the
-- organization's `oidc_connections`, `saml_connections` and
-- `external_connections`; `sso.delete_connection(organization_id,
-- connection_id [, opts])` deletes one.  `organization_id` may be an id, a
-- slug or an external id; `opts` may hold a member's `session_token` or
-- `session_jwt`, and `retries`.  Each returns the decoded response, or
-- nil, err.
-- @module stytch.calls

local errors = require "stytch.errors"
local retry = require "stytch.retry"

local unpack = table.unpack or unpack

local calls = {
  { place = "oidc", name = "update_connection", method = "PUT", opts = 4 },
  { place = "oidc", name = "create_connection", method = "POST", opts = 3 },
  { place = false, name = "get_connections", method = "GET", opts = 2 },
  { place = false, name = "delete_connection", method = "DELETE", opts = 3 },
}

--- The lists of a get_connections response, empty tables where the
-- server sent null or nothing; anything else there is no list.
function calls.complete_lists(res)
  for _, name in ipairs { "oidc_connections", "saml_connections",
                          "external_connections" } do
    if res[name] == nil then
      res[name] = {}
    elseif type(res[name]) ~= "table" then
      return errors.fail("invalid_response", "the response's " .. name
        .. " is not a list", { status_code = res.status_code })
    end
  end
  return res
end

--- Raise, at the line that called the client function which calls this,
-- when the client is closed (`closed()` says so) or when `first`, the
-- call's first argument, is `home`: a colon call of `where.name`.
function calls.refuse_misuse(first, home, where, name, closed)
  if closed and closed() then
    error("stytch: the client is closed", 3)
  end
  if first == home then
    error(("stytch: call %s.%s with a dot, not a colon"):format(where, name),
      3)
  end
end

--- A client function for one call.  It refuses a colon call and a
-- closed client (raising, at the caller's line), merges a per-call
-- `retries` option over `policy`, makes attempts through `attempt(...)`
-- under the retry rules, waiting with `sleep`, and completes the lists of
-- get_connections.  The first attempt gets the arguments as they came:
-- they are packed into a table only when there is a retry to make.
function calls.wrap(call, home, where, options)
  local attempt, closed = options.attempt, options.closed
  local lists = call.name == "get_connections"
  return function(...)
    calls.refuse_misuse((...), home, where, call.name, closed)
    local policy = options.policy
    local opts = select(call.opts, ...)
    if type(opts) == "table" and opts.retries ~= nil then
      local err
      policy, err = retry.policy(opts.retries, "opts.retries", policy)
      if policy == nil then return nil, err end
    end
    local res, err = attempt(call, ...)
    if not res then
      local args = { n = select("#", ...), ... }
      res, err = retry.after(err, call.name, call.method, policy, function()
        return attempt(call, unpack(args, 1, args.n))
      end, options.sleep, options.on_retry)
    end
    if res and lists then
      return calls.complete_lists(res)
    end
    return res, err
  end
end

--- Put every call into `sso` (a table with an `oidc` table), each made
-- by `bind(call, home, where)`.
function calls.install(sso, prefix, bind)
  for _, call in ipairs(calls) do
    local home = call.place and sso[call.place] or sso
    local where = prefix .. (call.place and "." .. call.place or "")
    home[call.name] = bind(call, home, where)
  end
end

return calls

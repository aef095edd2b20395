--- Many updates at once: `update_connections(list [, opts])` runs a list of
-- update_connection calls with several in flight, under the same retry
-- rules as single calls, and returns one result per input, in order.
--
-- This module decides what to send and when; a runner sends.  The plain
-- client's runner is its C session (a libcurl multi handle), stytch.ngx's
-- runs nginx light threads.  A runner has `submit(tag, request)`,
-- `poll(seconds)` (a list of `{ tag, res }` or `{ tag, err }` that ended),
-- `in_flight()`, `cancel()`, `now()`, `sleep(seconds)` and `closed()`.
--
-- Pacing: a retry waits as a single call's would (full jitter, or
-- Retry-After).  A 429 holds the whole batch: no request starts until its
-- wait is over, and the number in flight is halved, growing back by one
-- with each success of a request started after the halving.
-- @module stytch.bulk

local calls = require "stytch.calls"
local core = require "stytch.core"
local errors = require "stytch.errors"
local retry = require "stytch.retry"

local bulk = {}

bulk.DEFAULT_CONCURRENCY = 16

local OPTIONS = { "concurrency", "on_progress", "retries" }

local NAMED = { organization_id = 1, connection_id = 2, fields = 3,
                opts = 4 }

--- The item's three arguments and its opts, by name or by position; or
-- nil and the rule it breaks.
local function arguments(item)
  local named, positional = false, false
  for key in pairs(item) do
    if NAMED[key] then
      named = true
    elseif key == 1 or key == 2 or key == 3 or key == 4 then
      positional = true
    else
      return nil, "has a key that is none of organization_id, "
        .. "connection_id, fields, opts (or 1 to 4)"
    end
  end
  if named and positional then
    return nil, "must give its arguments by name or by position, not both"
  end
  if named then
    return true, item.organization_id, item.connection_id, item.fields,
      item.opts
  end
  return true, item[1], item[2], item[3], item[4]
end

--- Build every request before any is sent: one bad item, and nothing is.
-- Two updates of one connection are refused too: in flight together,
-- which one lands last would be chance.
local function build_all(list)
  if type(list) ~= "table" then
    return errors.invalid("list", "must be a list of updates, got "
      .. type(list))
  end
  local requests, first, count = {}, {}, 0
  for _ in pairs(list) do count = count + 1 end
  if count ~= #list then
    return errors.invalid("list", "must be a sequence: list[1] to list[n], "
      .. "with no holes and no other keys")
  end
  for i = 1, #list do
    local item, where = list[i], ("list[%d]"):format(i)
    if type(item) ~= "table" then
      return errors.invalid(where, "must be a table { organization_id, "
        .. "connection_id, fields [, opts] }, got " .. type(item))
    end
    local ok, org, conn, fields, opts = arguments(item)
    if not ok then return errors.invalid(where, org) end
    if type(opts) == "table" and opts.retries ~= nil then
      return errors.invalid(where .. ".opts.retries", "is not an option "
        .. "of one update in a batch (give retries for the whole batch)")
    end
    local request, err = core.build_update_connection(org, conn, fields,
      opts)
    if not request then
      err.field = where .. "." .. err.field
      err.message = where .. "." .. err.message
      return nil, err
    end
    if first[request.path] then
      return errors.invalid(where, ("updates the same connection as "
        .. "list[%d] (merge the two, or make them in two batches)")
        :format(first[request.path]))
    end
    first[request.path] = i
    requests[i] = request
  end
  return requests
end

--- Check the batch's options; the retry policy in force, or nil, err.
local function check_options(opts, policy)
  if opts == nil then return policy, bulk.DEFAULT_CONCURRENCY end
  if type(opts) ~= "table" then
    return errors.invalid("opts", "must be a table or nil, got "
      .. type(opts))
  end
  local _, unknown = errors.unknown_option(opts, OPTIONS, "opts")
  if unknown then return nil, unknown end
  local concurrency = opts.concurrency or bulk.DEFAULT_CONCURRENCY
  if type(concurrency) ~= "number" or concurrency % 1 ~= 0
      or concurrency < 1 or concurrency > core.max_batch then
    return errors.invalid("opts.concurrency", ("must be a whole number "
      .. "from 1 to %d"):format(core.max_batch))
  end
  if opts.on_progress ~= nil and type(opts.on_progress) ~= "function" then
    return errors.invalid("opts.on_progress", "must be a function, got "
      .. type(opts.on_progress))
  end
  local err
  policy, err = retry.policy(opts.retries, "opts.retries", policy)
  if policy == nil then return nil, err end
  return policy, concurrency
end

--- What an update that had not ended gets when the client is closed:
-- `sent` when a request of it left (it may have taken effect), with the
-- last error it met, if any.
local function closed_error(sent, attempts, last)
  local _, err = errors.fail("network", sent
    and "the client was closed before this update's answer came; it may "
      .. "or may not have taken effect"
    or "the client was closed before this update was sent",
    { error_type = "client_closed", request_sent = sent,
      attempts = attempts, last_error = last })
  return err
end

-- Waits shorter than this are rounded up to it: the clocks' resolution.
local TICK = 0.001

--- Call a user's callback in a coroutine of its own: one that yields is
-- refused (a batch left suspended would hold the client), and the batch
-- itself never runs inside a coroutine it did not make.  Its errors go
-- on as they are.
local function call_back(fn, event)
  local callback = coroutine.create(fn)
  local ok, why = coroutine.resume(callback, event)
  if not ok then error(why, 0) end
  if coroutine.status(callback) ~= "dead" then
    error("stytch: on_progress and on_retry must not yield", 0)
  end
end

--- Send the requests through runner; return the results and the number
-- that failed.
local function run(requests, runner, policy, concurrency, on_progress,
                   on_retry)
  local total = #requests
  local results, attempts, last_error = {}, {}, {}
  local started = {}    -- the pace (epoch) each request in flight began in
  local reached = {}    -- a request of the update may have taken effect
  local fresh, done, failures = 1, 0, 0
  local waiting = {}    -- retries, each { index, at }
  local resume_at = 0   -- after a 429: no request starts before this
  local limit = concurrency
  local epoch = 0       -- how many 429s have halved the limit

  -- The next request that may start at `now`: a due retry, else a new one.
  local function next_due(now)
    for k, entry in ipairs(waiting) do
      if entry.at <= now then
        table.remove(waiting, k)
        return entry.index
      end
    end
    if fresh <= total then
      fresh = fresh + 1
      return fresh - 1
    end
  end

  -- When a request may next start, or nil when only an answer can help.
  local function next_wake()
    if runner.in_flight() >= limit then return nil end
    local at = fresh <= total and resume_at or nil
    for _, entry in ipairs(waiting) do
      if not at or entry.at < at then at = entry.at end
    end
    return at and math.max(at, resume_at)
  end

  local function settle(i, res, err)
    results[i] = res and { res = res } or { err = err }
    if err then failures = failures + 1 end
    done = done + 1
    if on_progress then
      call_back(on_progress, { index = i, done = done, total = total,
        res = res, err = err })
    end
  end

  -- A 429 holds the batch for `wait` and slows it, retried or not; 429s
  -- of requests that began before the last slowdown don't slow it again.
  local function slow_down(wait, began, now)
    resume_at = math.max(resume_at, now + wait)
    if began == epoch then
      limit = math.max(1, math.floor(limit / 2))
      epoch = epoch + 1
    end
  end

  local function answered(i, res, err)
    local began = started[i]
    started[i] = nil
    if res then
      reached[i] = true
      -- Only requests started at the present pace may speed it up again.
      if began == epoch and limit < concurrency then limit = limit + 1 end
      return settle(i, res)
    end
    err.attempts = attempts[i]
    last_error[i] = err
    if err.request_sent ~= false then reached[i] = true end
    local now = runner.now()
    local wait = retry.delay(policy or retry.DEFAULT, attempts[i], err,
      math.random)
    if err.status_code == 429 then slow_down(wait, began, now) end
    if runner.closed() or not (policy and attempts[i] <= policy.max
                               and retry.retryable("PUT", err)) then
      return settle(i, nil, err)
    end
    waiting[#waiting + 1] = { index = i, at = now + wait }
    if on_retry then
      call_back(on_retry, { call = "update_connections", index = i,
        attempt = attempts[i], delay = wait, error = err })
    end
  end

  while done < total do
    if runner.closed() then
      for i = 1, total do
        if not results[i] then
          settle(i, nil, closed_error(reached[i] or started[i] ~= nil,
            attempts[i], last_error[i]))
        end
      end
      break
    end
    local now = runner.now()
    while runner.in_flight() < limit and now >= resume_at do
      local i = next_due(now)
      if not i then break end
      -- A finalizer may have closed the client since the check above.
      local ok, why = pcall(runner.submit, i, requests[i])
      if not ok and not runner.closed() then error(why, 0) end
      if not ok then break end
      attempts[i] = (attempts[i] or 0) + 1
      started[i] = epoch
    end
    local wake = next_wake()
    if runner.closed() then  -- luacheck: ignore 542
      -- Round again: the top of the loop settles what is left.
    elseif runner.in_flight() == 0 then
      if not wake then
        error("stytch: update_connections lost track of its requests "
          .. "(were they cancelled from outside?)")
      end
      runner.sleep(math.max(TICK, wake - now))
    else
      local timeout = wake and math.max(TICK, wake - now) or 60
      for _, answer in ipairs(runner.poll(timeout)) do
        answered(answer.tag, answer.res, answer.err)
      end
    end
  end
  return results, failures
end

--- The function a client offers as `<where>.update_connections`: it
-- refuses a colon call, a closed client (when `closed()` says so) and a
-- batch started while one of the same client runs (from its
-- on_progress), raising at the caller's line; then calls
-- `run_batch(list, opts)`.
function bulk.method(home, where, run_batch, closed)
  local running = false
  local function finish(ok, ...)
    running = false
    if not ok then error((...), 0) end
    return ...
  end
  return function(list, opts)
    calls.refuse_misuse(list, home, where, "update_connections", closed)
    if running then
      error("stytch: this client is already running update_connections "
        .. "(one batch at a time)", 2)
    end
    running = true
    return finish(pcall(run_batch, list, opts))
  end
end

--- update_connections(list [, opts]) for a client whose calls run under
-- `policy` (its retries), through `runner`.
-- @param list updates, each `{ organization_id, connection_id, fields
-- [, opts] }` by position or by those names; opts may hold a member's
-- session_token or session_jwt
-- @param opts `concurrency` (1 to core.max_batch, default 16),
-- `on_progress` (told `{ index, done, total, res, err }` as each update
-- ends), `retries` (as for one call)
-- @return a list of `{ res = ... }` or `{ err = ... }`, one per update in
-- input order, and the number that failed; or nil, err when the input is
-- wrong, and then nothing was sent
function bulk.update_connections(list, opts, runner, policy, on_retry)
  local concurrency
  policy, concurrency = check_options(opts, policy)
  if policy == nil then return nil, concurrency end
  local requests, err = build_all(list)
  if not requests then return nil, err end
  local on_progress = opts and opts.on_progress
  local ok, results, failures = pcall(run, requests, runner, policy,
    concurrency, on_progress, on_retry)
  if not ok then
    -- An on_progress or on_retry that raised or yielded: stop what is in
    -- flight, then let the error go on.
    runner.cancel()
    error(results, 0)
  end
  return results, failures
end

return bulk

--- Retries: which failed attempts may be tried again, and after how long.
--
-- PUT, GET and DELETE are idempotent: they are tried again after a
-- connection failure, a timeout, a 429 or a 5xx.  POST (create) is tried
-- again only when not a byte of it was sent, since a second create could
-- make a second connection.  Nothing else is retried: a 4xx other than
-- 429, a TLS verification failure and bad input fail at once.
--
-- The wait is exponential with full jitter (a random time up to
-- base_delay * 2^(n-1), at most max_delay), or what the server asked for
-- in Retry-After, at most max_delay.  This module only decides; the
-- dispatcher sleeps, so a non-blocking one can wait its own way.
-- @module stytch.retry

local errors = require "stytch.errors"

local retry = {}

retry.DEFAULT = { max = 3, base_delay = 0.2, max_delay = 5 }

local LIMITS = { max = 10, base_delay = 60, max_delay = 300 }

-- Transport failures that a retry can't mend.
local PERMANENT = {
  tls_verification_failed = true, tls_ca_file_unreadable = true,
}

--- Check a `retries` option and merge it over `base`.
-- @param value false, nil, or a table with `max`, `base_delay`, `max_delay`
-- @tparam string field the option's name, for errors
-- @param base the policy in force (false: retries are off)
-- @return the policy (false: no retries), or nil, err
function retry.policy(value, field, base)
  if value == nil then return base end
  if value == false then return false end
  if type(value) ~= "table" then
    return errors.invalid(field, "must be false or a table "
      .. "{ max = 3, base_delay = 0.2, max_delay = 5 }")
  end
  local policy = {}
  for key, default in pairs(retry.DEFAULT) do
    policy[key] = (base and base[key]) or default
  end
  for key, given in pairs(value) do
    local limit = LIMITS[key]
    if not limit then
      return errors.invalid(field, "has an unknown key (known: max, "
        .. "base_delay, max_delay)")
    end
    if type(given) ~= "number" or not (given >= 0 and given <= limit)
        or (key == "max" and given % 1 ~= 0) then
      return errors.invalid(field .. "." .. key, ("must be a number from "
        .. "0 to %d%s"):format(limit, key == "max" and ", whole" or ""))
    end
    policy[key] = given
  end
  return policy
end

--- Whether a call that failed with err may be tried again.
-- @tparam string method "PUT", "GET", "DELETE" or "POST"
-- @tparam table err the attempt's error
function retry.retryable(method, err)
  if err.kind == "network" or err.kind == "timeout" then
    if PERMANENT[err.error_type] then return false end
    return method ~= "POST" or err.request_sent == false
  end
  local status = err.status_code
  if status == 429 or (status and status >= 500 and status <= 599) then
    return method ~= "POST"
  end
  return false
end

--- Seconds to wait after `failed` failed attempts.
-- @tparam table policy
-- @tparam number failed attempts so far, 1 or more
-- @tparam table err the last attempt's error
-- @tparam function random a function returning a number in [0, 1)
function retry.delay(policy, failed, err, random)
  if err.retry_after then
    return math.min(err.retry_after, policy.max_delay)
  end
  local ceiling = math.min(policy.max_delay,
    policy.base_delay * 2 ^ (failed - 1))
  return random() * ceiling
end

--- Go on after a first attempt failed with err: try attempt() again
-- until it succeeds, fails for good, or the policy says stop;
-- `err.attempts` says how many were made.  on_retry, when given, is told
-- of each retry before its wait: { call, attempt, delay, error }.
function retry.after(err, call, method, policy, attempt, sleep, on_retry)
  local made = 1
  while true do
    if not policy or made > policy.max or not retry.retryable(method, err)
    then
      err.attempts = made
      return nil, err
    end
    local wait = retry.delay(policy, made, err, math.random)
    if on_retry then
      on_retry { call = call, attempt = made, delay = wait, error = err }
    end
    sleep(wait)
    made = made + 1
    local res
    res, err = attempt()
    if res then return res end
  end
end

--- Run attempt() under the retry rules, as `retry.after` does.
function retry.run(call, method, policy, attempt, sleep, on_retry)
  local res, err = attempt()
  if res then return res end
  return retry.after(err, call, method, policy, attempt, sleep, on_retry)
end

return retry

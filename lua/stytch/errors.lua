--- Error tables made on the Lua side, shaped like the C core's: the same
-- metatable, so `tostring(err)` reads the same wherever err came from.
-- @module stytch.errors

local core = require "stytch.core"

local errors = {}

--- `nil, err` for a caller's argument that breaks a rule.
-- @tparam string field the argument, e.g. "attribute_mapping.email"
-- @tparam string rule what it must be, e.g. "must be a string"
function errors.invalid(field, rule)
  return nil, setmetatable({
    kind = "invalid_argument", field = field, message = field .. " " .. rule,
  }, core.error_metatable)
end

--- `nil, err` of any kind, with extra fields.
function errors.fail(kind, message, extra)
  local err = { kind = kind, message = message }
  for key, value in pairs(extra or {}) do err[key] = value end
  return nil, setmetatable(err, core.error_metatable)
end

--- `nil, err` for the first key of `config` that is not in `known` (a
-- list, shown in its order), or nothing when all are known.  `where`
-- names the table in the error (default "config").
function errors.unknown_option(config, known, where)
  where = where or "config"
  local allowed = {}
  for _, name in ipairs(known) do allowed[name] = true end
  for key in pairs(config) do
    if not allowed[key] then
      local named = errors.printable(key)
      return errors.invalid(named and where .. "." .. named or where,
        "is not an option (known: " .. table.concat(known, ", ") .. ")")
    end
  end
end

--- A name fit to show in a message: short and plain, or nil.
function errors.printable(name)
  if type(name) == "string" and #name <= 32 and name:find("^[%w_]+$") then
    return name
  end
end

return errors

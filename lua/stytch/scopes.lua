--- custom_scopes in the form Stytch documents: scopes separated by "%20".
--
--     scopes.encode { "openid", "groups" }   --> "openid%20groups"
--     scopes.encode "openid groups"          --> "openid%20groups"
--     scopes.decode "openid%20groups"        --> { "openid", "groups" }
--
-- A string may separate its scopes with spaces, "%20", or both; whichever
-- it uses, the result is encoded exactly once.  Each scope must be an
-- RFC 6749 scope token without "%".  `update_connection` applies the same
-- rule to its `custom_scopes` field, so passing either form there is fine.
-- @module stytch.scopes

local core = require "stytch.core"
local errors = require "stytch.errors"

local scopes = {}

--- The documented form of a list or string of scopes.
-- @param list an array of scopes, or a string of them
-- @treturn string e.g. "openid%20groups", or nil, err
function scopes.encode(list)
  return core.encode_scopes(list)
end

--- The scopes in a custom_scopes string, as an array.
-- @tparam string text as Stytch returns it, or space-separated
-- @treturn table the scopes, in order, or nil, err
function scopes.decode(text)
  if type(text) ~= "string" then
    return errors.invalid("custom_scopes", "must be a string, got "
      .. type(text))
  end
  local encoded, err = core.encode_scopes(text)
  if not encoded then return nil, err end
  local list = {}
  for scope in (encoded .. "%20"):gmatch("(.-)%%20") do
    if scope ~= "" then list[#list + 1] = scope end
  end
  return list
end

return scopes

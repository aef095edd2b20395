-- custom_scopes as Stytch documents them: separated by %20, encoded once.
local scopes = require("stytch").scopes

print(scopes.encode { "openid", "groups" })       -- openid%20groups
print(scopes.encode "openid groups")              -- openid%20groups
print(scopes.encode "openid%20groups")            -- openid%20groups
print(table.concat(scopes.decode "openid%20groups", ","))
print(select(2, scopes.encode { "open id" }).message)

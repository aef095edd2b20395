-- Preview what Stytch will infer from an issuer, before updating.
local stytch = require "stytch"

local found, err = stytch.sso.oidc.discover(
  os.getenv("STYTCH_TEST_IDP") .. "/acme",
  { cainfo = os.getenv("STYTCH_TEST_CA"), timeout = 5 })
if not found then error(tostring(err)) end
print(found.token_url)
print(found.jwks_url)

-- Each broken rule has its own error_type.
local _, mismatch = stytch.sso.oidc.discover(
  os.getenv("STYTCH_TEST_IDP") .. "/mismatch",
  { cainfo = os.getenv("STYTCH_TEST_CA") })
print(mismatch.error_type)

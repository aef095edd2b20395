-- Map IdP claims to member attributes, starting from a provider preset.
local stytch = require "stytch"
local mapping = stytch.attribute_mapping

local okta = assert(mapping.preset("okta", { cost_center = "costCenter" }))
print(okta.email, okta.first_name, okta.groups, okta.cost_center)

-- Which of those claims does the provider not advertise?
local found = assert(stytch.sso.oidc.discover(
  os.getenv("STYTCH_TEST_IDP") .. "/acme",
  { cainfo = os.getenv("STYTCH_TEST_CA") }))
print("not advertised: " .. table.concat(
  assert(mapping.unadvertised(okta, found)), ", "))

-- A bad entry is named.
local _, err = mapping.build { email = "" }
print(err.field)

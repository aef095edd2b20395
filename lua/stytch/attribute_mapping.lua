--- attribute_mapping: which claim of the identity provider fills which
-- member attribute on the Stytch side.  Keys are Stytch's names (`email`,
-- `first_name`, `last_name`, `full_name`, `groups`, or any custom key,
-- which lands in the member's trusted metadata); values are claim names.
--
--     local mapping = require "stytch.attribute_mapping"
--     local m = assert(mapping.preset("okta", { department = "dept" }))
--     client.sso.oidc.update_connection(org, conn, { attribute_mapping = m })
-- @module stytch.attribute_mapping

local core = require "stytch.core"
local errors = require "stytch.errors"

local mapping = {}

-- The standard claims of OpenID Connect Core 1.0, section 5.1; most
-- providers send them under these names.
local STANDARD = {
  email = "email", first_name = "given_name", last_name = "family_name",
  full_name = "name",
}

--- The standard claims plus a groups claim under the given name.
local function standard_with_groups(groups_claim)
  local preset = {}
  for key, claim in pairs(STANDARD) do preset[key] = claim end
  preset.groups = groups_claim
  return preset
end

--- Presets by `identity_provider`, each from the provider's own docs.
local PRESETS = {
  -- Okta, "Customize tokens returned from Okta with a Groups claim": the
  -- groups claim is named "groups" by default; profile and email scopes
  -- give the standard claims.
  okta = standard_with_groups("groups"),
  -- Microsoft identity platform, "ID token claims reference" and
  -- "Provide optional claims": given_name, family_name and email are
  -- optional claims to turn on; group membership comes in "groups".
  ["microsoft-entra"] = standard_with_groups("groups"),
  -- Google Identity, "OpenID Connect": the ID token carries email, name,
  -- given_name and family_name; Google sends no groups claim.
  ["google-workspace"] = standard_with_groups(nil),
  -- Keycloak Server Administration Guide, client scopes "profile" and
  -- "email"; the built-in "microprofile-jwt" scope adds "groups".
  keycloak = standard_with_groups("groups"),
  -- OneLogin developers, "OpenID Connect: Scopes": profile and email give
  -- the standard claims; groups are configured per app, so not assumed.
  onelogin = standard_with_groups(nil),
  -- JumpCloud, "OIDC Attributes (Claims)": the profile scope gives
  -- given_name and family_name, email gives email; the group attribute's
  -- name is the admin's choice, so it is not assumed.
  jumpcloud = standard_with_groups(nil),
  -- Any provider that follows OpenID Connect Core 1.0, section 5.1.
  generic = standard_with_groups(nil),
}

--- Check a mapping and return a copy of it.  The rules are the ones
-- `update_connection` applies to its `attribute_mapping` field: names and
-- claims are non-empty UTF-8 strings, claims without spaces.
-- @tparam table entries Stytch name -> claim name
-- @treturn table the mapping, or nil, err naming the bad entry
function mapping.build(entries)
  return core.check_attribute_mapping(entries)
end

--- Merge mappings; later ones win.
-- @param ... mappings
-- @treturn table the merged mapping, or nil, err
function mapping.merge(...)
  local merged = {}
  for i = 1, select("#", ...) do
    local entries, err = mapping.build((select(i, ...)))
    if not entries then return nil, err end
    for key, claim in pairs(entries) do merged[key] = claim end
  end
  return merged
end

--- The providers that have a preset, sorted.
function mapping.presets()
  local names = {}
  for name in pairs(PRESETS) do names[#names + 1] = name end
  table.sort(names)
  return names
end

--- The preset for a provider, with overrides merged over it.
-- @tparam string provider an `identity_provider` value, e.g. "okta"
-- @tparam[opt] table overrides entries to add or replace
-- @treturn table the mapping, or nil, err
function mapping.preset(provider, overrides)
  if overrides ~= nil and type(overrides) ~= "table" then
    return errors.invalid("overrides", "must be a table or nil, got "
      .. type(overrides))
  end
  local preset = PRESETS[provider]
  if not preset then
    return errors.invalid("identity_provider", "has no preset (presets: "
      .. table.concat(mapping.presets(), ", ") .. ")")
  end
  return mapping.merge(preset, overrides or {})
end

--- The claims a mapping uses that a provider does not advertise.
-- @tparam table entries a mapping
-- @param discovery what `stytch.sso.oidc.discover` returned, a discovery
-- document, or a list of claim names (possibly empty)
-- @treturn table the unadvertised claim names, sorted (empty when all
-- are advertised), or nil, err when there is no list to check against
function mapping.unadvertised(entries, discovery)
  local checked, err = mapping.build(entries)
  if not checked then return nil, err end
  if type(discovery) ~= "table" then
    return errors.invalid("discovery", "must be a table, got "
      .. type(discovery))
  end
  -- A document (or discover's result) has string keys; a list has none.
  local claims = discovery.claims_supported
  if claims == nil and (next(discovery) == nil or discovery[1] ~= nil) then
    claims = discovery
  end
  if type(claims) ~= "table" then
    return errors.invalid("discovery", "has no claims_supported list to "
      .. "check against")
  end
  local advertised = {}
  for key, claim in pairs(claims) do
    if type(key) ~= "number" then
      return errors.invalid("discovery", "has a claims_supported that "
        .. "is not a list")
    end
    if type(claim) == "string" then advertised[claim] = true end
  end
  local missing, seen = {}, {}
  for _, claim in pairs(checked) do
    if not advertised[claim] and not seen[claim] then
      missing[#missing + 1] = claim
      seen[claim] = true
    end
  end
  table.sort(missing)
  return missing
end

return mapping

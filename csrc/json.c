/*
 * json.c: encode and decode through a private lua-cjson instance.
 *
 * Caveats:
 * - A JSON null inside an array becomes a hole in the Lua sequence; none of
 *   the Stytch responses we handle put nulls in arrays.
 * - Nesting is capped at STC_JSON_DEPTH both ways: deeper responses are
 *   rejected by cjson rather than walked.
 */
#include <math.h>

#include "json.h"

#define STC_JSON_KEY   "stytch.json"
#define STC_JSON_DEPTH 64

/* Call instance[name](value) during open, with the instance on top. */
static void configure(lua_State *L, const char *name, int value, int boolean)
{
	lua_getfield(L, -1, name);
	if (boolean)
		lua_pushboolean(L, value);
	else
		lua_pushinteger(L, value);
	lua_call(L, 1, 0);
}

void stc_json_open(lua_State *L)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "cjson");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "new");
	lua_call(L, 0, 1);
	lua_remove(L, -2);

	/* Reject what JSON can't say rather than guessing. */
	configure(L, "encode_invalid_numbers", 0, 1);
	configure(L, "decode_invalid_numbers", 0, 1);
	configure(L, "encode_max_depth", STC_JSON_DEPTH, 0);
	configure(L, "decode_max_depth", STC_JSON_DEPTH, 0);

	lua_setfield(L, LUA_REGISTRYINDEX, STC_JSON_KEY);
}

/* Push instance[name]. */
static void push_method(lua_State *L, const char *name)
{
	lua_getfield(L, LUA_REGISTRYINDEX, STC_JSON_KEY);
	lua_getfield(L, -1, name);
	lua_remove(L, -2);
}

int stc_json_encode(lua_State *L, int idx)
{
	idx = stc_absindex(L, idx);
	push_method(L, "encode");
	lua_pushvalue(L, idx);
	return lua_pcall(L, 1, 1, 0) == 0;
}

/*
 * Walk a freshly decoded value at the top of the stack: drop nulls, turn
 * integral floats into integers.  Only existing fields are assigned, which
 * lua_next allows during a traversal.
 */
static void normalise(lua_State *L, int null_idx, int depth)
{
	int t = lua_gettop(L);

	if (!lua_istable(L, t))
		return;
	luaL_checkstack(L, 4, "decoding JSON");
	lua_pushnil(L);
	while (lua_next(L, t)) {
		if (lua_rawequal(L, -1, null_idx)) {
			lua_pushvalue(L, -2);
			lua_pushnil(L);
			lua_rawset(L, t);
		}
#if STC_HAS_INTEGERS
		else if (lua_type(L, -1) == LUA_TNUMBER
			 && !lua_isinteger(L, -1)) {
			lua_Number n = lua_tonumber(L, -1);
			lua_Integer i;

			if (n == floor(n) && lua_numbertointeger(n, &i)) {
				lua_pushvalue(L, -2);
				lua_pushinteger(L, i);
				lua_rawset(L, t);
			}
		}
#endif
		else if (lua_istable(L, -1) && depth < STC_JSON_DEPTH) {
			normalise(L, null_idx, depth + 1);
		}
		lua_pop(L, 1);
	}
}

int stc_json_decode(lua_State *L, const char *s, size_t len)
{
	int null_idx;

	lua_getfield(L, LUA_REGISTRYINDEX, STC_JSON_KEY);
	lua_getfield(L, -1, "null");
	lua_remove(L, -2);
	null_idx = lua_gettop(L);

	push_method(L, "decode");
	lua_pushlstring(L, s, len);
	if (lua_pcall(L, 1, 1, 0) != 0) {
		lua_remove(L, null_idx);
		return 0;
	}
	if (lua_rawequal(L, -1, null_idx)) {
		lua_pop(L, 1);
		lua_pushnil(L);
	}
	normalise(L, null_idx, 0);
	lua_remove(L, null_idx);
	return 1;
}

/* error.c: error tables and their one-line __tostring. */
#include <stdarg.h>

#include "error.h"

static void push_error(lua_State *L, const char *kind)
{
	lua_createtable(L, 0, 8);
	lua_pushstring(L, kind);
	lua_setfield(L, -2, "kind");
	stc_setmetatable(L, STC_ERROR_MT);
}

void stc_error_push(lua_State *L, const char *kind, const char *fmt, ...)
{
	va_list ap;

	push_error(L, kind);
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_setfield(L, -2, "message");
}

int stc_fail(lua_State *L, const char *kind, const char *fmt, ...)
{
	va_list ap;

	lua_pushnil(L);
	push_error(L, kind);
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_setfield(L, -2, "message");
	return 2;
}

void stc_error_push_argument(lua_State *L, const char *field,
	const char *rule)
{
	push_error(L, STC_INVALID_ARGUMENT);
	lua_pushstring(L, field);
	lua_setfield(L, -2, "field");
	lua_pushfstring(L, "%s %s", field, rule);
	lua_setfield(L, -2, "message");
}

/* Append err[key] to the buffer as " <value>" if it is a string or number. */
static void add_field(lua_State *L, luaL_Buffer *b, const char *prefix,
	const char *key, const char *suffix)
{
	lua_getfield(L, 1, key);
	if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
		const char *s = lua_tostring(L, -1);

		lua_pop(L, 1);
		luaL_addstring(b, prefix);
		luaL_addstring(b, s);
		luaL_addstring(b, suffix);
	} else {
		lua_pop(L, 1);
	}
}

/*
 * "stytch api 404 organization_not_found: <message> (request_id <id>)".
 * Fields are fetched one at a time so the buffer only ever holds strings
 * that are already anchored in the error table.
 */
static int error_tostring(lua_State *L)
{
	luaL_Buffer b;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	luaL_buffinit(L, &b);
	luaL_addstring(&b, "stytch");
	add_field(L, &b, " ", "kind", "");
	add_field(L, &b, " ", "status_code", "");
	add_field(L, &b, " ", "error_type", "");
	add_field(L, &b, ": ", "message", "");
	add_field(L, &b, " (request_id ", "request_id", ")");
	luaL_pushresult(&b);
	return 1;
}

void stc_error_open(lua_State *L)
{
	if (luaL_newmetatable(L, STC_ERROR_MT)) {
		lua_pushcfunction(L, error_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushliteral(L, "stytch.error");
		lua_setfield(L, -2, "__name");
	}
	lua_pop(L, 1);
}

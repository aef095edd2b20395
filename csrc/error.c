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

static void push_message(lua_State *L, const char *kind, const char *fmt,
	va_list ap)
{
	push_error(L, kind);
	lua_pushvfstring(L, fmt, ap);
	lua_setfield(L, -2, "message");
}

void stc_error_push(lua_State *L, const char *kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	push_message(L, kind, fmt, ap);
	va_end(ap);
}

int stc_fail(lua_State *L, const char *kind, const char *fmt, ...)
{
	va_list ap;

	lua_pushnil(L);
	va_start(ap, fmt);
	push_message(L, kind, fmt, ap);
	va_end(ap);
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

/*
 * Push prefix, err[key], suffix when err[key] is a string or a number, and
 * return how many values were pushed.  Everything stays on the stack
 * until lua_concat joins it, so no piece can be collected on the way.
 */
static int push_field(lua_State *L, const char *prefix, const char *key,
	const char *suffix)
{
	int type;

	lua_getfield(L, 1, key);
	type = lua_type(L, -1);
	if (type != LUA_TSTRING && type != LUA_TNUMBER) {
		lua_pop(L, 1);
		return 0;
	}
	lua_pushstring(L, prefix);
	lua_insert(L, -2);
	lua_pushstring(L, suffix);
	return 3;
}

/* "stytch api 404 organization_not_found: <message> (request_id <id>)" */
static int error_tostring(lua_State *L)
{
	int n = 1;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	luaL_checkstack(L, 16, "formatting an error");
	lua_pushliteral(L, "stytch");
	n += push_field(L, " ", "kind", "");
	n += push_field(L, " ", "status_code", "");
	n += push_field(L, " ", "error_type", "");
	n += push_field(L, ": ", "message", "");
	n += push_field(L, " (request_id ", "request_id", ")");
	lua_concat(L, n);
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

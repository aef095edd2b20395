/*
 * compat.h: every difference between Lua 5.1 (and LuaJIT), 5.2, 5.3 and 5.4
 * that the core cares about, in one place.  Names carry our `stc_` prefix so
 * they never collide with what LuaJIT 2.1 already backports.
 */
#ifndef STYTCH_COMPAT_H
#define STYTCH_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM == 501

#define stc_rawlen(L, i)      lua_objlen((L), (i))
#define stc_absindex(L, i) \
	((i) > 0 || (i) <= LUA_REGISTRYINDEX ? (i) : lua_gettop(L) + (i) + 1)

void stc_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
void stc_setmetatable(lua_State *L, const char *tname);
void *stc_testudata(lua_State *L, int i, const char *tname);

#else

#define stc_rawlen(L, i)      lua_rawlen((L), (i))
#define stc_absindex(L, i)    lua_absindex((L), (i))
#define stc_setfuncs          luaL_setfuncs
#define stc_setmetatable      luaL_setmetatable
#define stc_testudata         luaL_testudata

#endif

/* Lua 5.3 and later have an integer subtype; JSON integers map to it. */
#if LUA_VERSION_NUM >= 503
#define STC_HAS_INTEGERS 1
#else
#define STC_HAS_INTEGERS 0
#endif

#endif

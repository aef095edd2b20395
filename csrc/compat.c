/* compat.c: the Lua 5.2 auxiliary functions that Lua 5.1 lacks. */
#include "compat.h"

#if LUA_VERSION_NUM == 501

void stc_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
	luaL_checkstack(L, nup, "too many upvalues");
	for (; l->name != NULL; l++) {
		int i;

		for (i = 0; i < nup; i++)
			lua_pushvalue(L, -nup);
		lua_pushcclosure(L, l->func, nup);
		lua_setfield(L, -(nup + 2), l->name);
	}
	lua_pop(L, nup);
}

void stc_setmetatable(lua_State *L, const char *tname)
{
	luaL_getmetatable(L, tname);
	lua_setmetatable(L, -2);
}

void *stc_testudata(lua_State *L, int i, const char *tname)
{
	void *p = lua_touserdata(L, i);

	if (p == NULL || !lua_getmetatable(L, i))
		return NULL;
	luaL_getmetatable(L, tname);
	if (!lua_rawequal(L, -1, -2))
		p = NULL;
	lua_pop(L, 2);
	return p;
}

#else

/* Keep ISO C happy: a translation unit must not be empty. */
typedef int stc_compat_unused;

#endif

/*
 * fuzz.h: what the libFuzzer targets share.  One Lua 5.4 state with the
 * core loaded, kept across inputs, and a way to run a step protected: a
 * Lua error from the core is a finding (the core raises only for misuse
 * and memory exhaustion, and the targets commit neither).
 */
#ifndef STYTCH_FUZZ_H
#define STYTCH_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_stytch_core(lua_State *L);

/* The input as a NUL-terminated string, as the core's C API expects. */
struct fuzz_input {
	const char *data;
	size_t size;
};

static lua_State *fuzz_state(void)
{
	static lua_State *L;
	static unsigned runs;

	if (L == NULL) {
		L = luaL_newstate();
		luaL_openlibs(L);
		luaL_requiref(L, "stytch.core", luaopen_stytch_core, 0);
	}
	lua_settop(L, 0);
	if (++runs % 512 == 0)
		lua_gc(L, LUA_GCCOLLECT, 0);
	return L;
}

/* Run step(L) with the input as a light userdata; abort on a Lua error. */
static void fuzz_run(lua_State *L, lua_CFunction step, const uint8_t *data,
	size_t size)
{
	struct fuzz_input input;
	char *copy = malloc(size + 1);

	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	input.data = copy;
	input.size = size;
	lua_pushcfunction(L, step);
	lua_pushlightuserdata(L, &input);
	if (lua_pcall(L, 1, 0, 0) != 0) {
		fprintf(stderr, "the core raised: %s\n", lua_tostring(L, -1));
		abort();
	}
	free(copy);
}

static const struct fuzz_input *fuzz_input(lua_State *L)
{
	return lua_touserdata(L, 1);
}

#endif

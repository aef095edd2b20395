/*
 * fuzz_response: bytes from a server.  The first two bytes pick an HTTP
 * status, the rest is the body; a result must be a table, an error must
 * be an error table with a kind and a one-line tostring.  The input is
 * also read as a Retry-After value.
 */
#include "fuzz.h"
#include "response.h"

static int step(lua_State *L)
{
	const struct fuzz_input *in = fuzz_input(L);
	stc_response_meta meta;
	int results;

	if (in->size < 2)
		return 0;
	meta.status = 100 + ((unsigned char)in->data[0] * 256
		+ (unsigned char)in->data[1]) % 500;
	meta.retry_after = -1;
	meta.location = NULL;
	results = stc_response_push(L, &meta, in->data + 2, in->size - 2);
	if (results == 1 && !lua_istable(L, -1))
		abort();
	if (results == 2) {
		if (!lua_isnil(L, -2) || !lua_istable(L, -1))
			abort();
		lua_getfield(L, -1, "kind");
		if (lua_type(L, -1) != LUA_TSTRING)
			abort();
		lua_pop(L, 1);
		luaL_tolstring(L, -1, NULL);  /* __tostring must cope */
	}
	(void)stc_retry_after(in->data);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(fuzz_state(), step, data, size);
	return 0;
}

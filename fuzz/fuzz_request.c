/*
 * fuzz_request: bytes as the arguments of a call.  The first byte picks
 * the call and whether opts carry a session token; the rest is split at
 * newlines into organization id, connection id and fields (JSON, or a
 * display name when it is not).  A built request must have the call's
 * path prefix, a path of unreserved characters and escapes only, and a
 * body that is a JSON object.  The fields are also fed to the scopes and
 * attribute_mapping rules.
 */
#include "fuzz.h"
#include "json.h"
#include "request.h"

/* Push the next newline-separated part of the input. */
static const char *push_part(lua_State *L, const char *at, const char *end)
{
	const char *stop = memchr(at, '\n', (size_t)(end - at));

	if (stop == NULL)
		stop = end;
	lua_pushlstring(L, at, (size_t)(stop - at));
	return stop < end ? stop + 1 : end;
}

static void check_request(const stc_operation *op, const stc_request *req,
	lua_State *L)
{
	const char *p;

	if (strncmp(req->path, op->prefix, strlen(op->prefix)) != 0)
		abort();
	for (p = req->path; *p != '\0'; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789-._~%/", *p))
			abort();
	if (req->body != NULL) {
		if (!stc_json_decode(L, req->body, req->body_len)
		    || !lua_istable(L, -1))
			abort();
		lua_pop(L, 1);
	}
}

static int step(lua_State *L)
{
	const struct fuzz_input *in = fuzz_input(L);
	const char *at = in->data + 1, *end = in->data + in->size;
	const stc_operation *op;
	stc_request req;
	int count = 0, first;

	if (in->size < 1)
		return 0;
	while (stc_operations[count].name != NULL)
		count++;
	op = &stc_operations[(unsigned char)in->data[0] % count];

	first = lua_gettop(L) + 1;
	at = push_part(L, at, end);                       /* organization */
	if (op->with_connection)
		at = push_part(L, at, end);               /* connection */
	if (op->fields != NULL) {
		push_part(L, at, end);                    /* fields */
		if (!stc_json_decode(L, lua_tostring(L, -1),
				lua_rawlen(L, -1)) || !lua_istable(L, -1)) {
			lua_pop(L, 1);
			lua_createtable(L, 0, 1);
			lua_insert(L, -2);
			lua_setfield(L, -2, "display_name");
		} else {
			lua_remove(L, -2);
		}
	}
	if (in->data[0] & 0x80) {                         /* opts */
		lua_createtable(L, 0, 1);
		lua_pushvalue(L, first);
		lua_setfield(L, -2, "session_token");
	} else {
		lua_pushnil(L);
	}

	if (stc_build(L, op, first, &req))
		check_request(op, &req, L);
	lua_settop(L, first - 1);

	push_part(L, in->data + 1, end);
	(void)stc_push_scopes(L, -1);
	lua_settop(L, first - 1);
	if (stc_json_decode(L, in->data + 1, in->size - 1))
		(void)stc_push_mapping(L, -1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(fuzz_state(), step, data, size);
	return 0;
}

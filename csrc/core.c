/*
 * core.c: the `stytch.core` module, which the Lua side wraps into clients.
 *
 *   core.session(config)                 -> session | nil, err
 *   session:update_connection(org, conn, fields [, opts])
 *   session:create_connection(org, fields [, opts])
 *   session:get_connections(org [, opts])
 *   session:delete_connection(org, conn [, opts])
 *                                        -> res | nil, err
 *   session:get_document(path)          -> status, body, content_type,
 *                                           location | nil, err
 *   session:close()
 *   core.build_<call>(same arguments)    -> request | nil, err  (no I/O)
 *   core.parse_response(status, body [, retry_after [, location]])
 *                                        -> res | nil, err
 *   core.sleep(seconds), core.monotonic() -> seconds
 *   session:submit(tag, request), session:poll(seconds) -> list,
 *   session:in_flight(), session:cancel()   (batches: see session.c)
 *   core.encode_scopes(scopes)           -> "a%20b" | nil, err
 *   core.check_attribute_mapping(t)      -> copy | nil, err
 *   core.error_metatable, core.libcurl_version
 */
#include <errno.h>
#include <time.h>

#include <curl/curl.h>

#include "compat.h"
#include "error.h"
#include "json.h"
#include "request.h"
#include "response.h"
#include "session.h"
#include "validate.h"

/* session:<operation>(...): build, then dispatch; the upvalue is the op. */
static int session_call(lua_State *L)
{
	const stc_operation *op = lua_touserdata(L, lua_upvalueindex(1));
	stc_request req;

	stc_session_check(L, 1);
	lua_settop(L, 5);
	if (!stc_build(L, op, 2, &req)) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	return stc_session_perform(L, 1, &req);
}

/* core.build_<operation>(...): the request a dispatcher would send. */
static int build_call(lua_State *L)
{
	const stc_operation *op = lua_touserdata(L, lua_upvalueindex(1));
	stc_request req;

	lua_settop(L, 4);
	if (!stc_build(L, op, 1, &req)) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	stc_request_push(L, &req);
	return 1;
}

/* Set t[prefix .. op.name] = closure(fn, op) for every operation. */
static void set_operations(lua_State *L, const char *prefix,
	lua_CFunction fn)
{
	const stc_operation *op;

	for (op = stc_operations; op->name != NULL; op++) {
		lua_pushfstring(L, "%s%s", prefix, op->name);
		lua_pushlightuserdata(L, (void *)op);
		lua_pushcclosure(L, fn, 1);
		lua_rawset(L, -3);
	}
}

/* Call check(L, 1) on the one argument: its result, or nil, err. */
static int checked(lua_State *L, int (*check)(lua_State *, int))
{
	lua_settop(L, 1);
	if (!check(L, 1)) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	return 1;
}

static int encode_scopes(lua_State *L)
{
	return checked(L, stc_push_scopes);
}

static int check_attribute_mapping(lua_State *L)
{
	return checked(L, stc_push_mapping);
}

/* core.check_https_url(s) -> true | nil, rule */
static int check_https_url(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	const char *rule = stc_check_https_url(s, len);

	if (rule == NULL) {
		lua_pushboolean(L, 1);
		return 1;
	}
	lua_pushnil(L);
	lua_pushstring(L, rule);
	return 2;
}

/* core.parse_response(status, body [, retry_after [, location]]) */
static int parse_response(lua_State *L)
{
	stc_response_meta meta;
	size_t len;
	const char *body = luaL_optlstring(L, 2, "", &len);

	meta.status = (long)luaL_checkinteger(L, 1);
	meta.retry_after = stc_retry_after(luaL_optstring(L, 3, NULL));
	meta.location = luaL_optstring(L, 4, NULL);
	return stc_response_push(L, &meta, body, len);
}

/* core.monotonic() -> seconds on a clock that never jumps. */
static int monotonic(lua_State *L)
{
	lua_pushnumber(L, stc_monotonic());
	return 1;
}

/* core.sleep(seconds): block the thread, for the blocking dispatcher. */
static int sleep_seconds(lua_State *L)
{
	double seconds = luaL_checknumber(L, 1);
	struct timespec ts;

	if (seconds > 0) {
		ts.tv_sec = (time_t)seconds;
		ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
		/* A signal cuts a sleep short: sleep what is left. */
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	return 0;
}

LUALIB_API int luaopen_stytch_core(lua_State *L);

LUALIB_API int luaopen_stytch_core(lua_State *L)
{
	static int curl_ready = 0;
	const luaL_Reg functions[] = {
		{ "session", stc_session_new },
		{ "parse_response", parse_response },
		{ "encode_scopes", encode_scopes },
		{ "check_attribute_mapping", check_attribute_mapping },
		{ "check_https_url", check_https_url },
		{ "sleep", sleep_seconds },
		{ "monotonic", monotonic },
		{ NULL, NULL }
	};

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return luaL_error(L,
				"stytch: libcurl failed to start");
		curl_ready = 1;
	}
	stc_json_open(L);
	stc_error_open(L);
	stc_session_open(L);
	luaL_getmetatable(L, STC_SESSION_MT);
	lua_getfield(L, -1, "__index");
	set_operations(L, "", session_call);
	lua_pop(L, 2);

	lua_newtable(L);
	stc_setfuncs(L, functions, 0);
	set_operations(L, "build_", build_call);
	luaL_getmetatable(L, STC_ERROR_MT);
	lua_setfield(L, -2, "error_metatable");
	lua_pushinteger(L, STC_MAX_BATCH);
	lua_setfield(L, -2, "max_batch");
	lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
	lua_setfield(L, -2, "libcurl_version");
	return 1;
}

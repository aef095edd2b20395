/*
 * core.c: the `stytch.core` module, which the Lua side wraps into clients.
 *
 *   core.session(config)                 -> session | nil, err
 *   session:update_connection(org, conn, fields [, opts]) -> res | nil, err
 *   session:close()
 *   core.build_update_connection(org, conn, fields [, opts])
 *                                        -> request | nil, err   (no I/O)
 *   core.parse_response(status, body)    -> res | nil, err
 *   core.error_metatable, core.libcurl_version
 */
#include <curl/curl.h>

#include "compat.h"
#include "error.h"
#include "json.h"
#include "request.h"
#include "response.h"
#include "session.h"

static int session_update_connection(lua_State *L)
{
	stc_request req;

	stc_session_check(L, 1);
	lua_settop(L, 5);
	if (!stc_build_update_connection(L, 2, 3, 4, 5, &req)) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	return stc_session_perform(L, 1, &req);
}

static int build_update_connection(lua_State *L)
{
	stc_request req;

	lua_settop(L, 4);
	if (!stc_build_update_connection(L, 1, 2, 3, 4, &req)) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	stc_request_push(L, &req);
	return 1;
}

static int parse_response(lua_State *L)
{
	lua_Integer status = luaL_checkinteger(L, 1);
	size_t len;
	const char *body = luaL_optlstring(L, 2, "", &len);

	return stc_response_push(L, (long)status, body, len);
}

LUALIB_API int luaopen_stytch_core(lua_State *L);

LUALIB_API int luaopen_stytch_core(lua_State *L)
{
	static int curl_ready = 0;
	const luaL_Reg session_methods[] = {
		{ "update_connection", session_update_connection },
		{ NULL, NULL }
	};
	const luaL_Reg functions[] = {
		{ "session", stc_session_new },
		{ "build_update_connection", build_update_connection },
		{ "parse_response", parse_response },
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
	stc_session_open(L, session_methods);

	lua_newtable(L);
	stc_setfuncs(L, functions, 0);
	luaL_getmetatable(L, STC_ERROR_MT);
	lua_setfield(L, -2, "error_metatable");
	lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
	lua_setfield(L, -2, "libcurl_version");
	return 1;
}

/* response.c: turn an HTTP status and body into a result or an error. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "response.h"
#include "error.h"
#include "json.h"
#include "validate.h"

/* Copy body[from] into err[to] when it is present. */
static void copy_field(lua_State *L, int body, int err, const char *from,
	const char *to)
{
	lua_getfield(L, body, from);
	if (!lua_isnil(L, -1))
		lua_setfield(L, err, to);
	else
		lua_pop(L, 1);
}

static void set_status(lua_State *L, int err, long status)
{
	lua_pushinteger(L, (lua_Integer)status);
	lua_setfield(L, err, "status_code");
}

/* Build an "api" error from a decoded error body at the top of the stack. */
static int fail_api(lua_State *L, long status)
{
	int body = lua_gettop(L);
	int err;

	lua_pushnil(L);
	stc_error_push(L, STC_API, "HTTP %d", (int)status);
	err = lua_gettop(L);
	set_status(L, err, status);

	/* OAuth 2.0's shape first, so Stytch's own fields win over it. */
	copy_field(L, body, err, "error", "error_type");
	copy_field(L, body, err, "error_description", "error_message");
	copy_field(L, body, err, "error_uri", "error_url");
	copy_field(L, body, err, "error_type", "error_type");
	copy_field(L, body, err, "error_message", "error_message");
	copy_field(L, body, err, "error_url", "error_url");
	copy_field(L, body, err, "error_details", "error_details");
	copy_field(L, body, err, "request_id", "request_id");

	/* The one-line message is the server's own, when it gave one. */
	lua_getfield(L, err, "error_message");
	if (lua_type(L, -1) == LUA_TSTRING)
		lua_setfield(L, err, "message");
	else
		lua_pop(L, 1);

	lua_remove(L, body);
	return 2;
}

/*
 * Whether a JSON text is an object: its first non-blank byte is "{".  An
 * array decodes to a Lua table too, and must not pass for one.
 */
static int starts_object(const char *body, size_t len)
{
	size_t i = 0;

	while (i < len && (body[i] == ' ' || body[i] == '\t'
			   || body[i] == '\r' || body[i] == '\n'))
		i++;
	return i < len && body[i] == '{';
}

/* Read the body of a non-redirect response into a result or an error. */
static int read_body(lua_State *L, long status, const char *body, size_t len)
{
	int ok;

	/* JSON is UTF-8 (RFC 8259, 8.1); cjson would pass any bytes on. */
	if (stc_check_utf8(body, len) != NULL) {
		stc_fail(L, STC_INVALID_RESPONSE,
			"HTTP %d with a body that is not valid UTF-8",
			(int)status);
		set_status(L, lua_gettop(L), status);
		return 2;
	}
	if (len > 0 && !starts_object(body, len)) {
		stc_fail(L, STC_INVALID_RESPONSE,
			"HTTP %d with a body that is not a JSON object",
			(int)status);
		set_status(L, lua_gettop(L), status);
		return 2;
	}
	ok = stc_json_decode(L, body, len);

	if (!ok) {
		/* cjson says what and where, never quoting the body. */
		const char *why = lua_tostring(L, -1);

		stc_fail(L, STC_INVALID_RESPONSE, len == 0
			? "HTTP %d with an empty body"
			: "HTTP %d with a body that is not valid JSON (%s)",
			(int)status, why ? why : "?");
		lua_remove(L, -3);
		set_status(L, lua_gettop(L), status);
		return 2;
	}
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		stc_fail(L, STC_INVALID_RESPONSE,
			"HTTP %d with a body that is not a JSON object",
			(int)status);
		set_status(L, lua_gettop(L), status);
		return 2;
	}
	if (status >= 200 && status < 300)
		return 1;
	return fail_api(L, status);
}

int stc_response_push(lua_State *L, const stc_response_meta *meta,
	const char *body, size_t len)
{
	int results;

	if (meta->status >= 300 && meta->status < 400) {
		stc_fail(L, STC_INVALID_RESPONSE, "HTTP %d: a redirect, which "
			"is never followed", (int)meta->status);
		set_status(L, lua_gettop(L), meta->status);
		lua_pushliteral(L, "redirect");
		lua_setfield(L, -2, "error_type");
		lua_pushstring(L, meta->location);
		lua_setfield(L, -2, "location");
		return 2;
	}
	results = read_body(L, meta->status, body, len);
	if (results == 2 && meta->retry_after >= 0) {
		lua_pushnumber(L, meta->retry_after);
		lua_setfield(L, -2, "retry_after");
	}
	return results;
}

double stc_retry_after(const char *value)
{
	char *end;
	double seconds;
	time_t when;

	if (value == NULL)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (*value >= '0' && *value <= '9') {
		seconds = strtod(value, &end);
		return *end == '\0' || *end == ' ' ? seconds : -1;
	}
	when = curl_getdate(value, NULL);
	if (when == -1)
		return -1;
	seconds = difftime(when, time(NULL));
	return seconds > 0 ? seconds : 0;
}

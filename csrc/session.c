/*
 * session.c: the libcurl dispatcher.
 *
 * Caveats:
 * - A call blocks the calling thread for up to `timeout` seconds; inside
 *   nginx, stytch.ngx sends the same requests through nginx instead.
 * - Response bodies larger than max_response_bytes (8 MiB unless set) are
 *   refused, not truncated; headers are held to libcurl's own limit.
 * - Only libcurl's own C callbacks run during a transfer; no Lua code runs
 *   inside curl_easy_perform, so no Lua error can unwind through libcurl.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "session.h"
#include "error.h"
#include "response.h"
#include "validate.h"

#define STC_MAX_BODY    (8 * 1024 * 1024)
#define STC_BODY_LIMIT  (1024.0 * 1024 * 1024)
#define STC_KEEP_BUFFER (64 * 1024)

typedef struct stc_session {
	CURL *easy;                       /* NULL once closed */
	struct curl_slist *with_body;     /* headers for a request with JSON */
	struct curl_slist *without_body;  /* headers for GET and DELETE */
	char *base_url;                   /* without a trailing "/" */
	char *data;                       /* the response body being read */
	size_t len, cap;
	size_t max_body;                  /* refuse bodies longer than this */
	int overflow;
	int busy;                         /* a call is under way */
	int close_pending;                /* close() came during that call */
	char errbuf[CURL_ERROR_SIZE];
} stc_session;

/* libcurl's write callback: collect the body, refuse past the cap. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	stc_session *s = ud;
	size_t len = size * n;

	if (len > s->max_body - s->len) {
		s->overflow = 1;
		return 0;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *grown;

		while (cap < s->len + len)
			cap *= 2;
		grown = realloc(s->data, cap);
		if (grown == NULL)
			return 0;
		s->data = grown;
		s->cap = cap;
	}
	memcpy(s->data + s->len, p, len);
	s->len += len;
	return len;
}

static void session_close(stc_session *s)
{
	if (s->easy != NULL) {
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->with_body);
	curl_slist_free_all(s->without_body);
	s->with_body = s->without_body = NULL;
	free(s->base_url);
	free(s->data);
	s->base_url = s->data = NULL;
	s->len = s->cap = 0;
}

/*
 * Push config[key] and return it as a string, or NULL when it is absent.
 * The value stays on the stack, so a finalizer that changes the config
 * table can't free it while the session is made.  *rule is set when it
 * is there but no string, or holds a NUL byte.
 */
static const char *opt_string(lua_State *L, const char *key,
	const char **rule)
{
	size_t len;
	const char *s;

	lua_getfield(L, 1, key);
	if (lua_isnil(L, -1))
		return NULL;
	if (lua_type(L, -1) != LUA_TSTRING) {
		*rule = "must be a string";
		return NULL;
	}
	s = lua_tolstring(L, -1, &len);
	if (strlen(s) != len)
		*rule = "must not contain a NUL byte";
	return s;
}

/*
 * Seconds as whole milliseconds, rounded up: libcurl reads 0 as "no
 * limit", so a tiny timeout must not round down to it.
 */
static long millis(double seconds)
{
	return (long)ceil(seconds * 1000);
}

/* A file we can read a byte of: not missing, not a directory, not empty. */
static int readable_file(const char *path)
{
	FILE *file = fopen(path, "rb");
	int readable = file != NULL && fgetc(file) != EOF;

	if (file != NULL)
		fclose(file);
	return readable;
}

static int fail_config(lua_State *L, const char *field, const char *rule)
{
	lua_pushnil(L);
	stc_error_push_argument(L, field, rule);
	return 2;
}

/* Append a line, or note that memory ran out and keep the list as it was. */
static struct curl_slist *append(struct curl_slist *list, const char *line,
	int *oom)
{
	struct curl_slist *next = curl_slist_append(list, line);

	if (next == NULL)
		*oom = 1;
	return next != NULL ? next : list;
}

static struct curl_slist *header_list(int with_body)
{
	struct curl_slist *list = NULL;
	int oom = 0;

	list = append(list, "Accept: application/json", &oom);
	/* An empty Expect: never wait for a 100 Continue. */
	list = append(list, "Expect:", &oom);
	if (with_body)
		list = append(list, "Content-Type: application/json", &oom);
	if (oom) {
		curl_slist_free_all(list);
		return NULL;
	}
	return list;
}

/* A session's settings, read from the config table. */
struct settings {
	const char *base_url, *user, *password, *agent, *cainfo, *proxy;
	long timeout, connect, stall;     /* milliseconds; stall in seconds */
	double max_body;
	int insecure;                     /* TLS verification switched off */
};

/* Options that hold for every request on the session. */
static int setup_easy(stc_session *s, const struct settings *o)
{
	CURL *e = s->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) \
	do { \
		if (rc == CURLE_OK) \
			rc = curl_easy_setopt(e, opt, val); \
	} while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, (void *)s);
	SET(CURLOPT_TIMEOUT_MS, o->timeout);
	SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect);
	/* Give up on less than a byte a second for `stall` seconds. */
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, o->stall);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_USERAGENT, o->agent);
	if (o->cainfo != NULL)
		SET(CURLOPT_CAINFO, o->cainfo);
	/*
	 * A loopback host is on this machine: a proxy, from the config or the
	 * environment, could not reach it, and would carry plain http off it.
	 */
	if (stc_is_loopback_url(s->base_url))
		SET(CURLOPT_PROXY, "");
	else if (o->proxy != NULL)
		SET(CURLOPT_PROXY, o->proxy);
	if (o->user != NULL) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, o->user);
		SET(CURLOPT_PASSWORD, o->password);
	}
#undef SET
	return rc == CURLE_OK;
}

/* config[key] as a number in (0, limit], or fallback; *bad when not. */
static double opt_number(lua_State *L, const char *key, double fallback,
	double limit, int *bad)
{
	double value = fallback;

	lua_getfield(L, 1, key);
	if (lua_type(L, -1) == LUA_TNUMBER)
		value = lua_tonumber(L, -1);
	else if (!lua_isnil(L, -1))
		*bad = 1;
	lua_pop(L, 1);
	if (!(value > 0 && value <= limit))
		*bad = 1;
	return value;
}

int stc_session_new(lua_State *L)
{
	static const char *const names[] = {
		"base_url", "project_id", "secret", "user_agent", "cainfo",
		"proxy"
	};
	static const struct {
		const char *key, *unit;
		double fallback, limit;
	} numbers[] = {
		{ "timeout", "seconds", 30, 86400 },
		{ "connect_timeout", "seconds", 10, 86400 },
		{ "stall_timeout", "seconds", 10, 86400 },
		{ "max_response_bytes", "bytes", STC_MAX_BODY,
		  STC_BODY_LIMIT },
	};
	const char *value[6], *rule = NULL;
	double number[4];
	int i;
	struct settings o;
	size_t base_len;
	stc_session *s;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	for (i = 0; i < 6; i++) {
		value[i] = opt_string(L, names[i], &rule);
		if (rule != NULL)
			return fail_config(L, names[i], rule);
	}
	o.base_url = value[0];
	o.user = value[1];
	o.password = value[2];
	o.agent = value[3] ? value[3] : "lua-stytch";
	o.cainfo = value[4];
	o.proxy = value[5];
	for (i = 0; i < 4; i++) {
		int bad = 0;

		number[i] = opt_number(L, numbers[i].key, numbers[i].fallback,
			numbers[i].limit, &bad);
		if (bad) {
			lua_pushfstring(L, "must be a number of %s above 0 "
				"and at most %d", numbers[i].unit,
				(int)numbers[i].limit);
			return fail_config(L, numbers[i].key,
				lua_tostring(L, -1));
		}
	}
	o.timeout = millis(number[0]);
	o.connect = millis(number[1]);
	o.stall = (long)ceil(number[2]);
	o.max_body = number[3];
	lua_getfield(L, 1, "dangerously_skip_tls_verification");
	o.insecure = lua_toboolean(L, -1);
	if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
		return fail_config(L, "dangerously_skip_tls_verification",
			"must be true or false");

	if (o.base_url == NULL)
		return fail_config(L, "base_url", "is required");
	rule = stc_check_base_url(o.base_url, strlen(o.base_url));
	if (rule != NULL)
		return fail_config(L, "base_url", rule);
	if ((o.user == NULL) != (o.password == NULL))
		return fail_config(L, "secret", "and project_id go together");
	rule = stc_check_user_agent(o.agent, strlen(o.agent));
	if (rule != NULL)
		return fail_config(L, "user_agent", rule);
	if (o.cainfo != NULL && !readable_file(o.cainfo))
		return fail_config(L, "cainfo",
			"must name a readable CA bundle file");

	/* A safe, closed state first; __gc copes with any step failing. */
	s = lua_newuserdata(L, sizeof *s);
	memset(s, 0, sizeof *s);
	stc_setmetatable(L, STC_SESSION_MT);

	/* One trailing "/" goes: every path we add begins with one. */
	base_len = strlen(o.base_url);
	if (base_len > 0 && o.base_url[base_len - 1] == '/')
		base_len--;
	s->max_body = (size_t)o.max_body;
	s->base_url = malloc(base_len + 1);
	s->easy = curl_easy_init();
	s->with_body = header_list(1);
	s->without_body = header_list(0);
	if (s->base_url == NULL || s->easy == NULL || s->with_body == NULL
	    || s->without_body == NULL) {
		session_close(s);
		return luaL_error(L,
			"stytch: out of memory creating a session");
	}
	memcpy(s->base_url, o.base_url, base_len);
	s->base_url[base_len] = '\0';
	if (!setup_easy(s, &o)) {
		session_close(s);
		return luaL_error(L, "stytch: libcurl refused an option "
			"(is it older than 7.85?)");
	}
	return 1;
}

stc_session *stc_session_check(lua_State *L, int idx)
{
	stc_session *s = luaL_checkudata(L, idx, STC_SESSION_MT);

	if (s->easy == NULL || s->close_pending)
		luaL_error(L, "stytch: the client is closed");
	return s;
}

/*
 * A call may allocate, so a finalizer may run in the middle of it.  One
 * that calls close() only marks the session, and the call closes it as it
 * ends; one that makes another call on the same session is refused, as
 * the two would share the handle and the body buffer.
 */
static stc_session *begin_call(lua_State *L, int idx)
{
	stc_session *s = stc_session_check(L, idx);

	if (s->busy)
		luaL_error(L, "stytch: the client is already in a call "
			"(one client serves one call at a time)");
	s->busy = 1;
	return s;
}

static void end_call(stc_session *s)
{
	s->busy = 0;
	if (s->close_pending)
		session_close(s);
}

/*
 * The headers for req: the session's fixed list when no member session is
 * given, else a copy of it plus the session headers, returned in *extra
 * for the caller to free.  NULL when memory ran out.
 */
static struct curl_slist *request_headers(lua_State *L, stc_session *s,
	const stc_request *req, struct curl_slist **extra)
{
	struct curl_slist *base = req->body ? s->with_body : s->without_body;
	struct curl_slist *list = NULL, *item;
	const char *names[2] = { STC_HEADER_SESSION, STC_HEADER_SESSION_JWT };
	const char *values[2];
	int i, oom = 0;

	*extra = NULL;
	values[0] = req->session_token;
	values[1] = req->session_jwt;
	if (values[0] == NULL && values[1] == NULL)
		return base;

	for (item = base; item != NULL; item = item->next)
		list = append(list, item->data, &oom);
	for (i = 0; i < 2; i++) {
		if (values[i] == NULL)
			continue;
		lua_pushfstring(L, "%s: %s", names[i], values[i]);
		list = append(list, lua_tostring(L, -1), &oom);
		lua_pop(L, 1);
	}
	if (oom) {
		curl_slist_free_all(list);
		return NULL;
	}
	*extra = list;
	return list;
}

static const struct {
	CURLcode code;
	const char *type;
} curl_types[] = {
	{ CURLE_COULDNT_RESOLVE_HOST, "couldnt_resolve_host" },
	{ CURLE_COULDNT_RESOLVE_PROXY, "couldnt_resolve_proxy" },
	{ CURLE_COULDNT_CONNECT, "couldnt_connect" },
	{ CURLE_OPERATION_TIMEDOUT, "timeout" },
	{ CURLE_PEER_FAILED_VERIFICATION, "tls_verification_failed" },
	{ CURLE_SSL_CACERT, "tls_verification_failed" },
	{ CURLE_SSL_CONNECT_ERROR, "tls_connect_failed" },
	{ CURLE_SSL_CACERT_BADFILE, "tls_ca_file_unreadable" },
	{ CURLE_GOT_NOTHING, "empty_reply" },
	{ CURLE_SEND_ERROR, "send_failed" },
	{ CURLE_RECV_ERROR, "receive_failed" },
	{ CURLE_PARTIAL_FILE, "partial_response" },
	{ CURLE_WEIRD_SERVER_REPLY, "weird_server_reply" },
	{ CURLE_BAD_CONTENT_ENCODING, "bad_content_encoding" },
	{ CURLE_OK, NULL }
};

/* Whether any byte of the request left: if not, a retry is always safe. */
static int request_sent(stc_session *s)
{
	long bytes = 0;

	curl_easy_getinfo(s->easy, CURLINFO_REQUEST_SIZE, &bytes);
	return bytes > 0;
}

static int fail_transport(lua_State *L, stc_session *s, CURLcode rc)
{
	const char *type = "transport_error";
	int i;

	for (i = 0; curl_types[i].type != NULL; i++)
		if (curl_types[i].code == rc)
			type = curl_types[i].type;
	stc_fail(L, rc == CURLE_OPERATION_TIMEDOUT ? STC_TIMEOUT : STC_NETWORK,
		"%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
	lua_pushstring(L, type);
	lua_setfield(L, -2, "error_type");
	lua_pushinteger(L, (lua_Integer)rc);
	lua_setfield(L, -2, "curl_code");
	lua_pushboolean(L, request_sent(s));
	lua_setfield(L, -2, "request_sent");
	return 2;
}

/* Forget the last body, keeping a small buffer for the next call. */
static void reset_body(stc_session *s)
{
	if (s->cap > STC_KEEP_BUFFER) {
		free(s->data);
		s->data = NULL;
		s->cap = 0;
	}
	s->len = 0;
	s->overflow = 0;
}

/*
 * Send req and read the whole answer into s->data.  Return 1 with the
 * HTTP status in *status, or push nil, err and return 0.
 */
static int transfer(lua_State *L, stc_session *s, const stc_request *req,
	stc_response_meta *meta)
{
	struct curl_header *retry_after = NULL;
	char *location = NULL;
	struct curl_slist *extra, *headers;
	CURL *e = s->easy;
	CURLcode rc;

	headers = request_headers(L, s, req, &extra);
	if (headers == NULL)
		return luaL_error(L, "stytch: out of memory building headers");
	lua_pushfstring(L, "%s%s", s->base_url, req->path);
	curl_easy_setopt(e, CURLOPT_URL, lua_tostring(L, -1));
	lua_pop(L, 1);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	if (req->body != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
		strcmp(req->method, "GET") == 0 ? NULL : req->method);

	s->errbuf[0] = '\0';
	reset_body(s);
	rc = curl_easy_perform(e);

	/* Leave the handle pointing at nothing of this call's. */
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_slist_free_all(extra);

	meta->status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &meta->status);
	if (s->overflow) {
		reset_body(s);
		stc_fail(L, STC_INVALID_RESPONSE, "the response body "
			"exceeds %d bytes and was not read; the request may "
			"have taken effect", (int)s->max_body);
		lua_pushinteger(L, (lua_Integer)meta->status);
		lua_setfield(L, -2, "status_code");
		return 0;
	}
	if (rc != CURLE_OK) {
		reset_body(s);
		fail_transport(L, s, rc);
		return 0;
	}
	/* Both stay valid until the handle's next transfer. */
	meta->retry_after = -1;
	if (curl_easy_header(e, "Retry-After", 0, CURLH_HEADER, -1,
			&retry_after) == CURLHE_OK)
		meta->retry_after = stc_retry_after(retry_after->value);
	curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &location);
	meta->location = location;
	return 1;
}

int stc_session_perform(lua_State *L, int idx, const stc_request *req)
{
	stc_session *s = begin_call(L, idx);
	stc_response_meta meta;
	int results = 2;

	if (transfer(L, s, req, &meta)) {
		results = stc_response_push(L, &meta,
			s->data ? s->data : "", s->len);
		reset_body(s);
	}
	end_call(s);
	return results;
}

/*
 * session:get_document(path) -> status, body, content_type, location
 * A plain GET of base_url .. path, for documents that are not Stytch's
 * (OIDC discovery): nothing is read into the body but its bytes.
 */
static int session_get_document(lua_State *L)
{
	const char *path = luaL_checkstring(L, 2);
	stc_request req = { "GET", NULL, NULL, 0, NULL, NULL };
	char *content_type = NULL;
	stc_response_meta meta;
	stc_session *s;

	luaL_argcheck(L, path[0] == '/', 2, "must begin with \"/\"");
	req.path = path;
	s = begin_call(L, 1);
	if (!transfer(L, s, &req, &meta)) {
		end_call(s);
		return 2;
	}
	lua_pushinteger(L, (lua_Integer)meta.status);
	lua_pushlstring(L, s->data ? s->data : "", s->len);
	reset_body(s);
	curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &content_type);
	lua_pushstring(L, content_type);  /* nil for NULL */
	lua_pushstring(L, meta.location);
	end_call(s);
	return 4;
}

/* __gc and __close: the session is going, close it now. */
static int session_gc(lua_State *L)
{
	session_close(luaL_checkudata(L, 1, STC_SESSION_MT));
	return 0;
}

/* close(): idempotent; during a call, at the end of that call. */
static int session_close_method(lua_State *L)
{
	stc_session *s = luaL_checkudata(L, 1, STC_SESSION_MT);

	if (s->busy)
		s->close_pending = 1;
	else
		session_close(s);
	return 0;
}

static int session_tostring(lua_State *L)
{
	stc_session *s = luaL_checkudata(L, 1, STC_SESSION_MT);

	if (s->easy == NULL)
		lua_pushliteral(L, "stytch.session (closed)");
	else
		lua_pushfstring(L, "stytch.session (%s)", s->base_url);
	return 1;
}

void stc_session_open(lua_State *L)
{
	const luaL_Reg meta[] = {
		{ "__gc", session_gc },
		{ "__close", session_gc },
		{ "__tostring", session_tostring },
		{ NULL, NULL }
	};

	luaL_newmetatable(L, STC_SESSION_MT);
	stc_setfuncs(L, meta, 0);
	lua_newtable(L);
	lua_pushcfunction(L, session_close_method);
	lua_setfield(L, -2, "close");
	lua_pushcfunction(L, session_get_document);
	lua_setfield(L, -2, "get_document");
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

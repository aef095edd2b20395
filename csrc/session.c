/*
 * session.c: the libcurl dispatcher, for one call at a time (an easy
 * handle) and for batches (a multi handle over a pool of easy handles that
 * share its connections).
 *
 * Caveats:
 * - A call blocks the calling thread for up to `timeout` seconds; inside
 *   nginx, stytch.ngx sends the same requests through nginx instead.
 * - Response bodies larger than max_response_bytes (8 MiB unless set) are
 *   refused, not truncated; headers are held to libcurl's own limit.
 * - Only libcurl's own C callbacks run during a transfer; no Lua code runs
 *   inside curl_easy_perform or curl_multi_perform, so no Lua error can
 *   unwind through libcurl.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "session.h"
#include "error.h"
#include "response.h"
#include "validate.h"

#define STC_MAX_BODY    (8 * 1024 * 1024)
#define STC_BODY_LIMIT  (1024.0 * 1024 * 1024)
#define STC_KEEP_BUFFER (64 * 1024)

/* One easy handle, and what a transfer on it holds. */
struct transfer {
	CURL *easy;
	struct curl_slist *extra;         /* this request's own header list */
	char *data;                       /* the response body being read */
	size_t len, cap;
	size_t max_body;                  /* refuse bodies longer than this */
	int overflow;
	int in_flight;                    /* added to the multi handle */
	lua_Integer tag;                  /* the batch's name for it */
	char errbuf[CURL_ERROR_SIZE];
};

typedef struct stc_session {
	struct transfer one;              /* single calls; easy NULL: closed */
	struct transfer *pool;            /* batch transfers, STC_MAX_BATCH */
	CURLM *multi;                     /* made at a batch's first request */
	int in_flight;
	struct curl_slist *with_body;     /* headers for a request with JSON */
	struct curl_slist *without_body;  /* headers for GET and DELETE */
	char *base_url;                   /* without a trailing "/" */
	int busy;                         /* a call is under way */
	int close_pending;                /* close() came during that call */
} stc_session;

/* libcurl's write callback: collect the body, refuse past the cap. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;
	size_t len = size * n;

	if (len > t->max_body - t->len) {
		t->overflow = 1;
		return 0;
	}
	if (t->len + len > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *grown;

		while (cap < t->len + len)
			cap *= 2;
		grown = realloc(t->data, cap);
		if (grown == NULL)
			return 0;
		t->data = grown;
		t->cap = cap;
	}
	memcpy(t->data + t->len, p, len);
	t->len += len;
	return len;
}

static void transfer_close(struct transfer *t)
{
	if (t->easy != NULL) {
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	curl_slist_free_all(t->extra);
	t->extra = NULL;
	free(t->data);
	t->data = NULL;
	t->len = t->cap = 0;
}

/* Stop every transfer of a batch; their connections go with them. */
static void batch_cancel(stc_session *s)
{
	int i;

	for (i = 0; s->pool != NULL && i < STC_MAX_BATCH; i++) {
		struct transfer *t = &s->pool[i];

		if (t->in_flight) {
			curl_multi_remove_handle(s->multi, t->easy);
			t->in_flight = 0;
		}
		curl_slist_free_all(t->extra);
		t->extra = NULL;
	}
	s->in_flight = 0;
}

static void session_close(stc_session *s)
{
	int i;

	batch_cancel(s);
	for (i = 0; s->pool != NULL && i < STC_MAX_BATCH; i++)
		transfer_close(&s->pool[i]);
	free(s->pool);
	s->pool = NULL;
	if (s->multi != NULL) {
		curl_multi_cleanup(s->multi);
		s->multi = NULL;
	}
	transfer_close(&s->one);
	curl_slist_free_all(s->with_body);
	curl_slist_free_all(s->without_body);
	s->with_body = s->without_body = NULL;
	free(s->base_url);
	s->base_url = NULL;
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
	CURL *e = s->one.easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) \
	do { \
		if (rc == CURLE_OK) \
			rc = curl_easy_setopt(e, opt, val); \
	} while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, s->one.errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, (void *)&s->one);
	SET(CURLOPT_PRIVATE, (void *)&s->one);
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
	s->one.max_body = (size_t)o.max_body;
	s->base_url = malloc(base_len + 1);
	s->one.easy = curl_easy_init();
	s->with_body = header_list(1);
	s->without_body = header_list(0);
	if (s->base_url == NULL || s->one.easy == NULL || s->with_body == NULL
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

	if (s->one.easy == NULL || s->close_pending)
		luaL_error(L, "stytch: the client is closed");
	return s;
}

/*
 * A call may allocate, so a finalizer may run in the middle of it.  One
 * that calls close() only marks the session, and the call closes it as it
 * ends; one that makes another call on the same session is refused, as
 * the two would share the handle and the body buffer.  Between the two,
 * guarded() runs the call's work in protected mode, so that an error (out
 * of memory, or a finalizer's on Lua 5.1 to 5.3) can't leave the session
 * marked busy for ever.
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

/* What a guarded step works on: its session, and what its caller gives. */
struct step {
	stc_session *s;
	const stc_request *req;
	lua_Integer tag;
	double wait;
};

/*
 * Mark the session at idx busy, run body(step) in protected mode, end the
 * call whatever happened, then return body's results or raise its error.
 * The function is pushed before the session is marked, since pushing may
 * allocate.
 */
static int guarded(lua_State *L, int idx, lua_CFunction body,
	struct step *step)
{
	int top, status;

	lua_pushcfunction(L, body);
	lua_pushlightuserdata(L, step);
	top = lua_gettop(L) - 2;
	step->s = begin_call(L, idx);
	status = lua_pcall(L, 1, LUA_MULTRET, 0);
	end_call(step->s);
	if (status != 0)
		return lua_error(L);
	return lua_gettop(L) - top;
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
static int request_sent(struct transfer *t)
{
	long bytes = 0;

	curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &bytes);
	return bytes > 0;
}

static int fail_transport(lua_State *L, struct transfer *t, CURLcode rc)
{
	const char *type = "transport_error";
	int i;

	for (i = 0; curl_types[i].type != NULL; i++)
		if (curl_types[i].code == rc)
			type = curl_types[i].type;
	stc_fail(L, rc == CURLE_OPERATION_TIMEDOUT ? STC_TIMEOUT : STC_NETWORK,
		"%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
	lua_pushstring(L, type);
	lua_setfield(L, -2, "error_type");
	lua_pushinteger(L, (lua_Integer)rc);
	lua_setfield(L, -2, "curl_code");
	lua_pushboolean(L, request_sent(t));
	lua_setfield(L, -2, "request_sent");
	return 2;
}

/* Forget the last body, keeping a small buffer for the next call. */
static void reset_body(struct transfer *t)
{
	if (t->cap > STC_KEEP_BUFFER) {
		free(t->data);
		t->data = NULL;
		t->cap = 0;
	}
	t->len = 0;
	t->overflow = 0;
}

/*
 * Point t's handle at req, ready for a transfer.  libcurl copies the URL,
 * and the body when `copy` says it won't outlive this call (a batch's);
 * the header list stays in t->extra until finish().  0 when memory ran
 * out.
 */
static int prepare(lua_State *L, stc_session *s, struct transfer *t,
	const stc_request *req, int copy)
{
	struct curl_slist *headers;
	CURL *e = t->easy;

	headers = request_headers(L, s, req, &t->extra);
	if (headers == NULL)
		return 0;
	lua_pushfstring(L, "%s%s", s->base_url, req->path);
	curl_easy_setopt(e, CURLOPT_URL, lua_tostring(L, -1));
	lua_pop(L, 1);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	if (req->body != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)req->body_len);
		curl_easy_setopt(e, copy ? CURLOPT_COPYPOSTFIELDS
			: CURLOPT_POSTFIELDS, req->body);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
		strcmp(req->method, "GET") == 0 ? NULL : req->method);
	t->errbuf[0] = '\0';
	reset_body(t);
	return 1;
}

/*
 * After a transfer ended with rc: return 1 with the answer's meta, its
 * body in t->data, or push nil, err and return 0.
 */
static int finish(lua_State *L, struct transfer *t, CURLcode rc,
	stc_response_meta *meta)
{
	struct curl_header *retry_after = NULL;
	char *location = NULL;
	CURL *e = t->easy;

	/* Leave the handle pointing at nothing of this call's. */
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_slist_free_all(t->extra);
	t->extra = NULL;

	meta->status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &meta->status);
	if (t->overflow) {
		reset_body(t);
		stc_fail(L, STC_INVALID_RESPONSE, "the response body "
			"exceeds %d bytes and was not read; the request may "
			"have taken effect", (int)t->max_body);
		lua_pushinteger(L, (lua_Integer)meta->status);
		lua_setfield(L, -2, "status_code");
		return 0;
	}
	if (rc != CURLE_OK) {
		reset_body(t);
		fail_transport(L, t, rc);
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

/* Push the decoded answer of a finished transfer: res, or nil, err. */
static int push_answer(lua_State *L, struct transfer *t, CURLcode rc)
{
	stc_response_meta meta;
	int results = 2;

	if (finish(L, t, rc, &meta)) {
		results = stc_response_push(L, &meta,
			t->data ? t->data : "", t->len);
		reset_body(t);
	}
	return results;
}

static int out_of_memory(lua_State *L)
{
	return luaL_error(L, "stytch: out of memory building headers");
}

static int perform_step(lua_State *L)
{
	struct step *step = lua_touserdata(L, 1);
	struct transfer *t = &step->s->one;

	if (!prepare(L, step->s, t, step->req, 0))
		return out_of_memory(L);
	return push_answer(L, t, curl_easy_perform(t->easy));
}

int stc_session_perform(lua_State *L, int idx, const stc_request *req)
{
	struct step step = { NULL, NULL, 0, 0 };

	step.req = req;
	return guarded(L, idx, perform_step, &step);
}

/*
 * session:get_document(path) -> status, body, content_type, location
 * A plain GET of base_url .. path, for documents that are not Stytch's
 * (OIDC discovery): nothing is read into the body but its bytes.
 */
static int document_step(lua_State *L)
{
	struct step *step = lua_touserdata(L, 1);
	struct transfer *t = &step->s->one;
	char *content_type = NULL;
	stc_response_meta meta;

	if (!prepare(L, step->s, t, step->req, 0))
		return out_of_memory(L);
	if (!finish(L, t, curl_easy_perform(t->easy), &meta))
		return 2;
	lua_pushinteger(L, (lua_Integer)meta.status);
	lua_pushlstring(L, t->data ? t->data : "", t->len);
	reset_body(t);
	curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &content_type);
	lua_pushstring(L, content_type);  /* nil for NULL */
	lua_pushstring(L, meta.location);
	return 4;
}

static int session_get_document(lua_State *L)
{
	const char *path = luaL_checkstring(L, 2);
	stc_request req = { "GET", NULL, NULL, 0, NULL, NULL };
	struct step step = { NULL, NULL, 0, 0 };

	luaL_argcheck(L, path[0] == '/', 2, "must begin with \"/\"");
	req.path = path;
	step.req = &req;
	return guarded(L, 1, document_step, &step);
}

/*
 * Batches.  The Lua side (stytch.bulk) decides what to send and when;
 * here, session:submit(tag, request) starts a request that core.build_*
 * made, and session:poll(seconds) waits for answers.  Each transfer has
 * an easy handle of the pool, a copy of the session's own made with
 * curl_easy_duphandle, so it has every option of the client.
 */

/* A free transfer of the pool, its handle made on first use; or NULL. */
static struct transfer *free_transfer(stc_session *s)
{
	struct transfer *t;
	int i;

	if (s->multi == NULL && (s->multi = curl_multi_init()) == NULL)
		return NULL;
	if (s->pool == NULL
	    && (s->pool = calloc(STC_MAX_BATCH, sizeof *s->pool)) == NULL)
		return NULL;
	for (i = 0; i < STC_MAX_BATCH; i++) {
		t = &s->pool[i];
		if (t->in_flight)
			continue;
		if (t->easy == NULL) {
			t->easy = curl_easy_duphandle(s->one.easy);
			if (t->easy == NULL)
				return NULL;
			t->max_body = s->one.max_body;
			curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER,
				t->errbuf);
			curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
			curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (void *)t);
		}
		return t;
	}
	return NULL;
}

/* request[key] as a string, NULL when nil; it stays on the stack. */
static const char *request_string(lua_State *L, int request,
	const char *key, size_t *len)
{
	lua_getfield(L, request, key);
	if (lua_isnil(L, -1))
		return NULL;
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_argerror(L, 3, "has a value that is not a string");
	return lua_tolstring(L, -1, len);
}

/*
 * A path as core.build_* makes them: "/" then non-empty segments of
 * visible ASCII, none of them "." or "..", nor "?", "#", "\\" or an
 * escaped dot (libcurl or a server would act on those), which an escaped
 * id never holds.
 */
static int plain_path(const char *p, size_t len)
{
	size_t i, start = 1;

	if (len == 0 || p[0] != '/' || stc_check_header_value(p, len) != NULL)
		return 0;
	for (i = 1; i <= len; i++) {
		if (i < len && (p[i] == ' ' || p[i] == '?' || p[i] == '#'
				|| p[i] == '\\'))
			return 0;
		if (i + 2 < len && p[i] == '%' && p[i + 1] == '2'
		    && (p[i + 2] == 'e' || p[i + 2] == 'E'))
			return 0;
		if (i == len || p[i] == '/') {
			const char *seg = p + start;
			size_t n = i - start;

			if (n == 0 || (n == 1 && seg[0] == '.')
			    || (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

/* Read back a request of core.build_*, checking what libcurl will use. */
static void read_request(lua_State *L, int request, stc_request *req)
{
	static const char *const methods[] = {
		"GET", "PUT", "POST", "DELETE", NULL
	};
	const char **value[2];
	const char *name[2] = { STC_HEADER_SESSION, STC_HEADER_SESSION_JWT };
	size_t len;
	int i, headers, with_body;

	luaL_checktype(L, request, LUA_TTABLE);
	req->method = request_string(L, request, "method", &len);
	for (i = 0; req->method != NULL && methods[i] != NULL; i++)
		if (strlen(methods[i]) == len
		    && memcmp(req->method, methods[i], len) == 0)
			break;
	luaL_argcheck(L, req->method != NULL && methods[i] != NULL, 3,
		"has no known method");
	req->method = methods[i];
	req->path = request_string(L, request, "path", &len);
	luaL_argcheck(L, req->path != NULL && plain_path(req->path, len), 3,
		"has no plain path");
	req->body = request_string(L, request, "body", &req->body_len);
	with_body = strcmp(req->method, "PUT") == 0
		|| strcmp(req->method, "POST") == 0;
	luaL_argcheck(L, (req->body != NULL) == with_body, 3,
		"has a body with GET or DELETE, or none with PUT or POST");
	value[0] = &req->session_token;
	value[1] = &req->session_jwt;
	lua_getfield(L, request, "headers");
	headers = lua_gettop(L);
	luaL_argcheck(L, lua_isnil(L, headers) || lua_istable(L, headers), 3,
		"has headers that are not a table");
	for (i = 0; i < 2; i++) {
		*value[i] = NULL;
		if (!lua_istable(L, headers))
			continue;
		*value[i] = request_string(L, headers, name[i], &len);
		luaL_argcheck(L, *value[i] == NULL
			|| stc_check_header_value(*value[i], len) == NULL,
			3, "has a header value that can't be sent");
	}
}

static int submit_step(lua_State *L)
{
	struct step *step = lua_touserdata(L, 1);
	stc_session *s = step->s;
	struct transfer *t = free_transfer(s);

	if (t == NULL)
		return luaL_error(L, "stytch: no free transfer for a batch "
			"(at most %d in flight, or out of memory)",
			STC_MAX_BATCH);
	if (!prepare(L, s, t, step->req, 1))
		return out_of_memory(L);
	if (curl_multi_add_handle(s->multi, t->easy) != CURLM_OK) {
		curl_slist_free_all(t->extra);
		t->extra = NULL;
		return luaL_error(L, "stytch: libcurl could not start a "
			"request of a batch");
	}
	t->tag = step->tag;
	t->in_flight = 1;
	s->in_flight++;
	lua_pushboolean(L, 1);
	return 1;
}

/* session:submit(tag, request) -> true: start a request of a batch. */
static int session_submit(lua_State *L)
{
	struct step step = { NULL, NULL, 0, 0 };
	stc_request req;

	step.tag = luaL_checkinteger(L, 2);
	stc_session_check(L, 1);
	read_request(L, 3, &req);
	step.req = &req;
	return guarded(L, 1, submit_step, &step);
}

double stc_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Append { tag = , res = } or { tag = , err = } to the list at `list`
 * (n long) for each finished transfer; return the new length.
 */
static int collect_done(lua_State *L, stc_session *s, int list, int n)
{
	struct transfer *t;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		void *ud = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &ud);
		t = ud;
		curl_multi_remove_handle(s->multi, t->easy);
		t->in_flight = 0;
		s->in_flight--;
		lua_createtable(L, 0, 2);
		lua_pushinteger(L, t->tag);
		lua_setfield(L, -2, "tag");
		if (push_answer(L, t, msg->data.result) == 1) {
			lua_setfield(L, -2, "res");
		} else {
			lua_setfield(L, -3, "err");
			lua_pop(L, 1);
		}
		lua_rawseti(L, list, ++n);
	}
	return n;
}

/*
 * session:poll(seconds) -> list: run the batch's transfers until one or
 * more end, or `seconds` pass; each ended one as { tag, res } or
 * { tag, err }.  The list is empty when none ended in time.
 */
static int poll_step(lua_State *L)
{
	struct step *step = lua_touserdata(L, 1);
	stc_session *s = step->s;
	double deadline = stc_monotonic() + step->wait;
	int list, done = 0, running = 0;

	lua_newtable(L);
	list = lua_gettop(L);
	while (s->in_flight > 0) {
		double left;

		if (curl_multi_perform(s->multi, &running) != CURLM_OK)
			return luaL_error(L, "stytch: libcurl failed "
				"running a batch");
		done = collect_done(L, s, list, done);
		if (done > 0)
			break;
		left = deadline - stc_monotonic();
		if (left <= 0)
			break;
		curl_multi_poll(s->multi, NULL, 0,
			left > 1 ? 1000 : (int)ceil(left * 1000), NULL);
	}
	return 1;
}

static int session_poll(lua_State *L)
{
	struct step step = { NULL, NULL, 0, 0 };
	double wait = luaL_checknumber(L, 2);

	step.wait = wait > 0 ? wait : 0;  /* NaN too */
	return guarded(L, 1, poll_step, &step);
}

/* session:in_flight() -> how many requests of a batch are under way. */
static int session_in_flight(lua_State *L)
{
	stc_session *s = luaL_checkudata(L, 1, STC_SESSION_MT);

	lua_pushinteger(L, s->in_flight);
	return 1;
}

/* session:cancel(): stop the batch's transfers, for an early end. */
static int session_cancel(lua_State *L)
{
	stc_session *s = luaL_checkudata(L, 1, STC_SESSION_MT);

	if (s->busy)
		return luaL_error(L, "stytch: cancel() during a call");
	batch_cancel(s);
	return 0;
}

/*
 * close(), __gc and __close: idempotent; during a call (a finalizer that
 * reaches the metamethod itself), at the end of that call.
 */
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

	if (s->one.easy == NULL)
		lua_pushliteral(L, "stytch.session (closed)");
	else
		lua_pushfstring(L, "stytch.session (%s)", s->base_url);
	return 1;
}

void stc_session_open(lua_State *L)
{
	const luaL_Reg meta[] = {
		{ "__gc", session_close_method },
		{ "__close", session_close_method },
		{ "__tostring", session_tostring },
		{ NULL, NULL }
	};
	const luaL_Reg methods[] = {
		{ "close", session_close_method },
		{ "get_document", session_get_document },
		{ "submit", session_submit },
		{ "poll", session_poll },
		{ "in_flight", session_in_flight },
		{ "cancel", session_cancel },
		{ NULL, NULL }
	};

	luaL_newmetatable(L, STC_SESSION_MT);
	stc_setfuncs(L, meta, 0);
	lua_newtable(L);
	stc_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

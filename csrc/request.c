/*
 * request.c: validate the caller's arguments and build a request.
 *
 * Every call is one entry of stc_operations: its method, its path and the
 * fields its body may hold.  The field rules follow the OpenAPI
 * description: strings as valid UTF-8, URLs as absolute https URLs,
 * identity_provider from its enum, attribute_mapping an object of strings,
 * custom_scopes a string or an array of scope tokens.
 */
#include <ctype.h>
#include <string.h>

#include <curl/curl.h>

#include "request.h"
#include "error.h"
#include "json.h"
#include "validate.h"

enum field_kind { TEXT, URL, ISSUER, PROVIDER, MAPPING, SCOPES };

/* Longer ids than this are refused: Stytch's are far shorter. */
#define STC_MAX_ID 1024

struct stc_field {
	const char *name;
	enum field_kind kind;
};

static const struct stc_field update_fields[] = {
	{ "display_name", TEXT },
	{ "client_id", TEXT },
	{ "client_secret", TEXT },
	{ "issuer", ISSUER },
	{ "authorization_url", URL },
	{ "token_url", URL },
	{ "userinfo_url", URL },
	{ "jwks_url", URL },
	{ "identity_provider", PROVIDER },
	{ "custom_scopes", SCOPES },
	{ "attribute_mapping", MAPPING },
	{ NULL, TEXT }
};

static const struct stc_field create_fields[] = {
	{ "display_name", TEXT },
	{ "identity_provider", PROVIDER },
	{ NULL, TEXT }
};

const stc_operation stc_operations[] = {
	{ "update_connection", "PUT", "/v1/b2b/sso/oidc/", 1, update_fields },
	{ "create_connection", "POST", "/v1/b2b/sso/oidc/", 0, create_fields },
	{ "get_connections", "GET", "/v1/b2b/sso/", 0, NULL },
	{ "delete_connection", "DELETE", "/v1/b2b/sso/", 1, NULL },
	{ NULL, NULL, NULL, 0, NULL }
};

/* The identity_provider enum of the update and create requests. */
static const char *const providers[] = {
	"classlink", "cyberark", "duo", "generic", "google-workspace",
	"jumpcloud", "keycloak", "miniorange", "microsoft-entra", "okta",
	"onelogin", "pingfederate", "rippling", "salesforce", "shibboleth",
	NULL
};

/* Push an invalid_argument error for "<prefix><name>"; return 0. */
static int reject(lua_State *L, const char *prefix, const char *name,
	const char *rule)
{
	lua_pushfstring(L, "%s%s", prefix, name);
	stc_error_push_argument(L, lua_tostring(L, -1), rule);
	lua_remove(L, -2);
	return 0;
}

/* "must be a string, got boolean": the value's type, never the value. */
static const char *type_rule(lua_State *L, int idx, const char *wanted)
{
	return lua_pushfstring(L, "must be %s, got %s", wanted,
		luaL_typename(L, idx));
}

static int reject_type(lua_State *L, const char *prefix, const char *name,
	int idx, const char *wanted)
{
	type_rule(L, idx, wanted);
	reject(L, prefix, name, lua_tostring(L, -1));
	lua_remove(L, -2);
	return 0;
}

/* A string that is valid UTF-8; on failure push the error and return 0. */
static int check_text(lua_State *L, int idx, const char *prefix,
	const char *name)
{
	size_t len;
	const char *s, *rule;

	if (lua_type(L, idx) != LUA_TSTRING)
		return reject_type(L, prefix, name, idx, "a string");
	s = lua_tolstring(L, idx, &len);
	rule = stc_check_utf8(s, len);
	return rule == NULL ? 1 : reject(L, prefix, name, rule);
}

static int check_id(lua_State *L, int idx, const char *name)
{
	size_t len;
	const char *s;

	if (!check_text(L, idx, "", name))
		return 0;
	s = lua_tolstring(L, idx, &len);
	if (len == 0)
		return reject(L, "", name, "must not be empty");
	if (strlen(s) != len)
		return reject(L, "", name, "must not contain a NUL byte");
	if (len > STC_MAX_ID)
		return reject(L, "", name, "must be at most 1024 bytes long");
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return reject(L, "", name, "must not be \".\" or \"..\"");
	return 1;
}

static int check_url(lua_State *L, int idx, const char *name, int issuer)
{
	size_t len;
	const char *s, *rule;

	if (!check_text(L, idx, "fields.", name))
		return 0;
	s = lua_tolstring(L, idx, &len);
	rule = issuer ? stc_check_issuer(s, len) : stc_check_https_url(s, len);
	return rule == NULL ? 1 : reject(L, "fields.", name, rule);
}

/* A key plain enough to repeat in a message: a-z, 0-9, _, short. */
static int plain_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 32)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* The Lua string at idx equals the C string name, NUL bytes and all. */
static int same_name(lua_State *L, int idx, const char *name)
{
	size_t len;
	const char *s = lua_tolstring(L, idx, &len);

	return len == strlen(name) && memcmp(s, name, len) == 0;
}

static int check_provider(lua_State *L, int idx)
{
	int i;

	if (!check_text(L, idx, "fields.", "identity_provider"))
		return 0;
	for (i = 0; providers[i] != NULL; i++)
		if (same_name(L, idx, providers[i]))
			return 1;
	return reject(L, "fields.", "identity_provider",
		"must be one of the documented providers (okta, "
		"microsoft-entra, google-workspace, keycloak, generic, ...)");
}

/* What a name on the Stytch side (a mapping key) must be. */
static const char *mapping_key_rule(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "must have non-empty names as keys";
	if (stc_check_utf8(s, len) != NULL)
		return "must have valid UTF-8 keys";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return "must have no control characters in keys";
	return NULL;
}

/* What a claim name (a mapping value) must be. */
static const char *claim_rule(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "must be a non-empty string (a claim name)";
	if (stc_check_utf8(s, len) != NULL)
		return "must be valid UTF-8";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7F)
			return "must not hold spaces or control characters";
	return NULL;
}

/* Reject a mapping entry, naming it when its key is plain enough. */
static int reject_entry(lua_State *L, const char *prefix, int key,
	const char *rule)
{
	size_t len = 0;
	const char *name = lua_type(L, key) == LUA_TSTRING
		? lua_tolstring(L, key, &len) : "";

	if (!plain_name(name, len))
		return reject(L, prefix, "attribute_mapping", rule);
	lua_pushfstring(L, "attribute_mapping.%s", name);
	reject(L, prefix, lua_tostring(L, -1), rule);
	lua_remove(L, -2);
	return 0;
}

/*
 * attribute_mapping: names on the Stytch side to claim names, all
 * strings.  The entries are checked into a copy, which is pushed and is
 * what gets sent: a finalizer that changes the caller's table after the
 * check can't change what goes on the wire.
 */
static int push_mapping(lua_State *L, int idx, const char *prefix)
{
	int copy;

	if (!lua_istable(L, idx))
		return reject_type(L, prefix, "attribute_mapping", idx,
			"a table");
	lua_newtable(L);
	copy = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *rule = NULL, *s;
		size_t len;

		if (lua_type(L, -2) != LUA_TSTRING) {
			rule = "must have strings as keys (names on the "
				"Stytch side)";
		} else {
			s = lua_tolstring(L, -2, &len);
			rule = mapping_key_rule(s, len);
		}
		if (rule == NULL && lua_type(L, -1) != LUA_TSTRING) {
			rule = "must be a string (a claim name)";
		} else if (rule == NULL) {
			s = lua_tolstring(L, -1, &len);
			rule = claim_rule(s, len);
		}
		if (rule != NULL) {
			reject_entry(L, prefix, copy + 1, rule);
			lua_replace(L, copy);
			lua_settop(L, copy);
			return 0;
		}
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, copy);
	}
	return 1;
}

/* A walk over the scopes of custom_scopes, a string or an array. */
struct scope_walk {
	lua_State *L;
	int idx;
	const char *text;    /* the string form, or NULL for an array */
	size_t len, pos;     /* its length, and how far the walk has come */
	size_t n, i;         /* the array's length, and the last index read */
};

static int at_separator(const struct scope_walk *w)
{
	return w->text[w->pos] == ' ' || (w->pos + 3 <= w->len
		&& strncmp(w->text + w->pos, "%20", 3) == 0);
}

/*
 * The next scope, pushed onto the stack, and its length; NULL (nothing
 * pushed) at the end.  A string's scopes are separated by spaces or
 * "%20"; an array's entries are its scopes, and one that is not a string
 * sets *bad.  Each scope stays on the stack, anchored, until it is used.
 */
static const char *next_scope(struct scope_walk *w, size_t *len, int *bad)
{
	size_t start;

	if (w->text == NULL) {
		if (w->i >= w->n)
			return NULL;
		lua_rawgeti(w->L, w->idx, (int)++w->i);
		if (lua_type(w->L, -1) == LUA_TSTRING)
			return lua_tolstring(w->L, -1, len);
		lua_pop(w->L, 1);
		*bad = 1;
		return NULL;
	}
	while (w->pos < w->len && at_separator(w))
		w->pos += w->text[w->pos] == ' ' ? 1 : 3;
	if (w->pos >= w->len)
		return NULL;
	start = w->pos;
	while (w->pos < w->len && !at_separator(w))
		w->pos++;
	*len = w->pos - start;
	lua_pushlstring(w->L, w->text + start, *len);
	return lua_tostring(w->L, -1);
}

/*
 * custom_scopes, a string of scopes separated by spaces or "%20", or an
 * array of scopes, checked scope by scope and pushed in the documented
 * form: separated by "%20", exactly once.  The pieces are joined with
 * lua_concat, a batch at a time, so every one of them stays anchored on
 * the stack whatever a finalizer does to the caller's array meanwhile.
 */
static int push_scopes(lua_State *L, int idx, const char *prefix)
{
	const char *name = "custom_scopes";
	struct scope_walk walk = { NULL, 0, NULL, 0, 0, 0, 0 };
	const char *scope, *rule;
	size_t len, count = 0;
	int bad = 0, pieces = 0, base;

	walk.L = L;
	walk.idx = idx;
	if (lua_type(L, idx) == LUA_TSTRING) {
		walk.text = lua_tolstring(L, idx, &walk.len);
	} else if (lua_istable(L, idx)) {
		walk.n = stc_rawlen(L, idx);
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			count++;
			lua_pop(L, 1);
		}
		if (count != walk.n)
			return reject(L, prefix, name, "must be an array "
				"without holes or other keys");
	} else {
		return reject_type(L, prefix, name, idx,
			"a string or an array of strings");
	}

	base = lua_gettop(L);
	/* A batch of 64 pieces, and a few more. */
	luaL_checkstack(L, 70, "joining scopes");
	while ((scope = next_scope(&walk, &len, &bad)) != NULL || bad) {
		rule = bad ? "must hold only strings"
			: stc_check_scope(scope, len);
		if (rule != NULL) {
			lua_settop(L, base);
			return reject(L, prefix, name, rule);
		}
		if (pieces > 0) {
			lua_pushliteral(L, "%20");
			lua_insert(L, -2);
			pieces++;
		}
		if (++pieces >= 64) {
			lua_concat(L, pieces);
			pieces = 1;
		}
	}
	if (pieces == 0)
		lua_pushliteral(L, "");
	else
		lua_concat(L, pieces);
	return 1;
}

/* Letters and digits only, lower-cased: "Client-ID" and "clientid" meet. */
static void squash(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && n + 1 < size; s++)
		if (isalnum((unsigned char)*s))
			out[n++] = (char)tolower((unsigned char)*s);
	out[n] = '\0';
}

static int reject_unknown(lua_State *L, const stc_operation *op, int key)
{
	const struct stc_field *fields = op->fields;
	char want[64], have[64];
	const char *name;
	size_t len;
	int i;

	if (lua_type(L, key) != LUA_TSTRING)
		return reject(L, "", "fields",
			"must have field names as keys");
	name = lua_tolstring(L, key, &len);
	if (!plain_name(name, len)) {
		lua_pushfstring(L, "has a key that is not a field of %s",
			op->name);
		reject(L, "", "fields", lua_tostring(L, -1));
		lua_remove(L, -2);
		return 0;
	}

	squash(name, have, sizeof have);
	for (i = 0; fields[i].name != NULL; i++) {
		squash(fields[i].name, want, sizeof want);
		if (strcmp(want, have) == 0) {
			lua_pushfstring(L, "is not a field of %s (did you "
				"mean %s?)", op->name, fields[i].name);
			reject(L, "fields.", name, lua_tostring(L, -1));
			lua_remove(L, -2);
			return 0;
		}
	}
	lua_pushfstring(L, "is not a field of %s", op->name);
	reject(L, "fields.", name, lua_tostring(L, -1));
	lua_remove(L, -2);
	return 0;
}

/* The field named by the string at idx, or NULL. */
static const struct stc_field *find_field(lua_State *L,
	const struct stc_field *fields, int idx)
{
	int i;

	for (i = 0; fields[i].name != NULL; i++)
		if (same_name(L, idx, fields[i].name))
			return &fields[i];
	return NULL;
}

/* Check one field (key at -2, value at -1) and push the value to send. */
static int push_field(lua_State *L, const struct stc_field *f)
{
	int value = lua_gettop(L);
	int ok;

	switch (f->kind) {
	case URL:
	case ISSUER:
		ok = check_url(L, value, f->name, f->kind == ISSUER);
		break;
	case PROVIDER:
		ok = check_provider(L, value);
		break;
	case MAPPING:
		return push_mapping(L, value, "fields.");
	case SCOPES:
		return push_scopes(L, value, "fields.");
	default:
		ok = check_text(L, value, "fields.", f->name);
		break;
	}
	if (ok)
		lua_pushvalue(L, value);
	return ok;
}

/* Validate fields; push the JSON body made of the fields that are set. */
static int push_body(lua_State *L, const stc_operation *op, int fields)
{
	int body;

	if (!lua_istable(L, fields))
		return reject_type(L, "", "fields", fields, "a table");
	/* Room for a typical update: the copy is not rehashed as it grows. */
	lua_createtable(L, 0, 8);
	body = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, fields)) {
		const struct stc_field *f = NULL;

		if (lua_type(L, -2) == LUA_TSTRING)
			f = find_field(L, op->fields, -2);
		if (f == NULL) {
			reject_unknown(L, op, -2);
			lua_replace(L, body);
			lua_settop(L, body);
			return 0;
		}
		if (!push_field(L, f)) {
			lua_replace(L, body);
			lua_settop(L, body);
			return 0;
		}
		lua_setfield(L, body, f->name);
		lua_pop(L, 1);
	}
	if (!stc_json_encode(L, body)) {
		stc_error_push_argument(L, "fields", "could not be encoded");
		lua_replace(L, body);
		lua_settop(L, body);
		return 0;
	}
	lua_replace(L, body);
	return 1;
}

/*
 * Read opts.session_token and opts.session_jwt; reject anything else.
 * The two values are pushed (nil when absent) and req points into those
 * copies, so a finalizer that empties opts can't free them mid-call.
 */
static int read_opts(lua_State *L, int opts, stc_request *req)
{
	int token = lua_gettop(L) + 1, jwt = token + 1;

	req->session_token = NULL;
	req->session_jwt = NULL;
	lua_pushnil(L);
	lua_pushnil(L);
	if (lua_isnoneornil(L, opts))
		return 1;
	if (!lua_istable(L, opts))
		return reject_type(L, "", "opts", opts, "a table or nil");

	lua_pushnil(L);
	while (lua_next(L, opts)) {
		int slot = 0;
		size_t len;
		const char *key = "", *value, *rule;

		if (lua_type(L, -2) == LUA_TSTRING
		    && same_name(L, -2, "session_token")) {
			slot = token;
			key = "session_token";
		} else if (lua_type(L, -2) == LUA_TSTRING
			   && same_name(L, -2, "session_jwt")) {
			slot = jwt;
			key = "session_jwt";
		}
		if (slot == 0 && lua_type(L, -2) == LUA_TSTRING
		    && same_name(L, -2, "retries")) {
			lua_pop(L, 1);  /* the Lua side's to check and use */
			continue;
		}
		if (slot == 0) {
			size_t key_len = 0;
			const char *unknown = lua_type(L, -2) == LUA_TSTRING
				? lua_tolstring(L, -2, &key_len) : "";

			if (plain_name(unknown, key_len)) {
				reject(L, "opts.", unknown, "is not an option "
					"(known: session_token, session_jwt, "
					"retries)");
				lua_replace(L, -3);
				lua_pop(L, 1);
				return 0;
			}
			lua_pop(L, 2);
			return reject(L, "", "opts", "has an unknown option "
				"(known: session_token, session_jwt, "
				"retries)");
		}
		if (lua_type(L, -1) != LUA_TSTRING) {
			reject_type(L, "opts.", key, -1, "a string");
			lua_replace(L, -3);
			lua_pop(L, 1);
			return 0;
		}
		value = lua_tolstring(L, -1, &len);
		rule = stc_check_header_value(value, len);
		if (rule != NULL) {
			reject(L, "opts.", key, rule);
			lua_replace(L, -3);
			lua_pop(L, 1);
			return 0;
		}
		lua_replace(L, slot);
	}
	req->session_token = lua_tostring(L, token);
	req->session_jwt = lua_tostring(L, jwt);
	return 1;
}

/* RFC 3986's unreserved characters: the ones a segment keeps as is. */
static int unreserved(const char *s, size_t len)
{
	size_t i;

	/* Spelled out, not isalnum(): that one follows the C locale. */
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		      || (c >= '0' && c <= '9') || c == '-' || c == '.'
		      || c == '_' || c == '~'))
			return 0;
	}
	return 1;
}

/* Push the id at idx escaped as one path segment (only unreserved kept). */
static void push_segment(lua_State *L, int idx)
{
	size_t len;
	const char *s = lua_tolstring(L, idx, &len);
	char *escaped;

	/* Stytch's own ids need no escaping: keep the string we have. */
	if (unreserved(s, len)) {
		lua_pushvalue(L, idx);
		return;
	}
	escaped = curl_easy_escape(NULL, s, (int)len);
	if (escaped == NULL)
		luaL_error(L, "out of memory");
	lua_pushstring(L, escaped);
	curl_free(escaped);
}

int stc_build(lua_State *L, const stc_operation *op, int first,
	stc_request *req)
{
	int org = stc_absindex(L, first);
	int conn = op->with_connection ? org + 1 : 0;
	int fields = op->fields != NULL ? org + 1 + (conn != 0) : 0;
	int opts = org + 1 + (conn != 0) + (fields != 0);

	req->method = op->method;
	req->body = NULL;
	req->body_len = 0;
	if (!check_id(L, org, "organization_id")
	    || (conn && !check_id(L, conn, "connection_id"))
	    || !read_opts(L, opts, req))
		return 0;
	if (fields) {
		if (!push_body(L, op, fields))
			return 0;
		req->body = lua_tolstring(L, -1, &req->body_len);
	}

	lua_pushstring(L, op->prefix);
	push_segment(L, org);
	if (conn) {
		lua_pushliteral(L, "/connections/");
		push_segment(L, conn);
	}
	lua_concat(L, conn ? 4 : 2);
	req->path = lua_tostring(L, -1);
	return 1;
}

int stc_push_scopes(lua_State *L, int idx)
{
	return push_scopes(L, stc_absindex(L, idx), "");
}

int stc_push_mapping(lua_State *L, int idx)
{
	return push_mapping(L, stc_absindex(L, idx), "");
}

void stc_request_push(lua_State *L, const stc_request *req)
{
	lua_createtable(L, 0, 4);
	lua_pushstring(L, req->method);
	lua_setfield(L, -2, "method");
	lua_pushstring(L, req->path);
	lua_setfield(L, -2, "path");
	if (req->body != NULL) {
		lua_pushlstring(L, req->body, req->body_len);
		lua_setfield(L, -2, "body");
	}
	lua_createtable(L, 0, 2);
	if (req->session_token != NULL) {
		lua_pushstring(L, req->session_token);
		lua_setfield(L, -2, STC_HEADER_SESSION);
	}
	if (req->session_jwt != NULL) {
		lua_pushstring(L, req->session_jwt);
		lua_setfield(L, -2, STC_HEADER_SESSION_JWT);
	}
	lua_setfield(L, -2, "headers");
}

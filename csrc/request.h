/*
 * request.h: step one of every call, building the request.  It validates
 * the caller's arguments, escapes the path, encodes the body through
 * lua-cjson and collects the headers.  It does no I/O, so the libcurl
 * session and any other dispatcher (nginx, later) can send what it built.
 */
#ifndef STYTCH_REQUEST_H
#define STYTCH_REQUEST_H

#include <stddef.h>

#include "compat.h"

/*
 * A built request.  Its strings live in Lua values on the stack (pushed by
 * the builder, or the caller's own arguments), so they stay valid for as
 * long as the builder's caller keeps that stack slice.
 */
typedef struct stc_request {
	const char *method;          /* "PUT", ... */
	const char *path;            /* escaped, begins with "/" */
	const char *body;            /* JSON, or NULL when there is none */
	size_t body_len;
	const char *session_token;   /* X-Stytch-Member-Session, or NULL */
	const char *session_jwt;     /* X-Stytch-Member-SessionJWT, or NULL */
} stc_request;

#define STC_HEADER_SESSION     "X-Stytch-Member-Session"
#define STC_HEADER_SESSION_JWT "X-Stytch-Member-SessionJWT"

struct stc_field;

/* One call of the API, and how its request is made. */
typedef struct stc_operation {
	const char *name;                 /* as Lua sees it */
	const char *method;
	const char *prefix;               /* the path up to the organization */
	int with_connection;              /* then "/connections/{id}" */
	const struct stc_field *fields;   /* a body's fields; NULL: no body */
} stc_operation;

/* update_connection, create_connection, ...; ends with a NULL name. */
extern const stc_operation stc_operations[];

/*
 * Build op's request from the Lua values from stack index `first` on:
 * organization_id, connection_id (if op takes one), fields (if op has a
 * body), opts (may be none or nil).  On success fill *req, push the
 * strings it points to, and return 1.  On failure push an
 * invalid_argument error and return 0; nothing was built.
 */
int stc_build(lua_State *L, const stc_operation *op, int first,
	stc_request *req);

/*
 * Push custom_scopes (a string or an array of scopes, at idx) in the form
 * Stytch documents, and return 1; or push an invalid_argument error for
 * "custom_scopes" and return 0.
 */
int stc_push_scopes(lua_State *L, int idx);

/*
 * Push a checked copy of attribute_mapping (the table at idx) and return
 * 1; or push an invalid_argument error naming "attribute_mapping" or the
 * bad entry, and return 0.
 */
int stc_push_mapping(lua_State *L, int idx);

/* Push req as a table {method, path, body, headers = {name = value}}. */
void stc_request_push(lua_State *L, const stc_request *req);

#endif

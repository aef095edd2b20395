/*
 * response.h: step three of every call, reading what came back.  Shared by
 * every dispatcher: it needs only the HTTP status and the body bytes.
 */
#ifndef STYTCH_RESPONSE_H
#define STYTCH_RESPONSE_H

#include <stddef.h>

#include "compat.h"

/*
 * Push the outcome: the decoded JSON table on a 2xx (return 1), or nil and
 * an error (return 2): kind "api" for a JSON error body in Stytch's or
 * OAuth 2.0's shape, "invalid_response" for anything that is not a JSON
 * object.  The HTTP status is kept in err.status_code either way.
 */
int stc_response_push(lua_State *L, long status, const char *body,
	size_t len);

#endif

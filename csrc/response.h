/*
 * response.h: step three of every call, reading what came back.  Shared by
 * every dispatcher: it needs only the HTTP status and the body bytes.
 */
#ifndef STYTCH_RESPONSE_H
#define STYTCH_RESPONSE_H

#include <stddef.h>

#include "compat.h"

/* What a dispatcher knows of a response besides its body. */
typedef struct stc_response_meta {
	long status;
	double retry_after;     /* seconds Retry-After asks for; < 0: none */
	const char *location;   /* where a redirect points, or NULL */
} stc_response_meta;

/*
 * Push the outcome: the decoded JSON table on a 2xx (return 1), or nil and
 * an error (return 2): kind "api" for a JSON error body in Stytch's or
 * OAuth 2.0's shape, "invalid_response" for a redirect (error_type
 * "redirect", with `location`; redirects are never followed) or anything
 * that is not a JSON object.  err.status_code is always the HTTP status;
 * err.retry_after is set when the server asked for one.
 */
int stc_response_push(lua_State *L, const stc_response_meta *meta,
	const char *body, size_t len);

/*
 * Seconds a Retry-After header value asks for: delay-seconds or an
 * HTTP-date (read by libcurl's curl_getdate).  -1 when it is neither.
 */
double stc_retry_after(const char *value);

#endif

/*
 * error.h: the one error shape the module returns.  Every failure reaches the
 * caller as `nil, err`, where err is a table with `kind`, `message` and,
 * where known, `field`, `status_code`, `error_type`, `error_message`,
 * `error_url`, `error_details`, `request_id`; `tostring(err)` is one line.
 * No function here ever copies a caller's value into a message.
 */
#ifndef STYTCH_ERROR_H
#define STYTCH_ERROR_H

#include "compat.h"

#define STC_ERROR_MT "stytch.error"

/* The error kinds, as they appear in err.kind. */
#define STC_INVALID_ARGUMENT "invalid_argument"
#define STC_API              "api"
#define STC_NETWORK          "network"
#define STC_TIMEOUT          "timeout"
#define STC_INVALID_RESPONSE "invalid_response"

/* Push a new error table with kind and a formatted message. */
void stc_error_push(lua_State *L, const char *kind, const char *fmt, ...);

/* Push nil and an error table; return 2, ready for `return`. */
int stc_fail(lua_State *L, const char *kind, const char *fmt, ...);

/*
 * Push an invalid_argument error whose message is "<field> <rule>" and
 * whose `field` names the offending argument.  Leaves only the error table.
 */
void stc_error_push_argument(lua_State *L, const char *field,
	const char *rule);

/* Register the error metatable and its __tostring. */
void stc_error_open(lua_State *L);

#endif

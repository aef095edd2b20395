/*
 * session.h: step two, dispatching a built request through libcurl.  A
 * session owns one easy handle, so every call on it reuses the same kept
 * alive connection; it holds the credentials (libcurl keeps its own copy)
 * and nothing else of the caller's.
 */
#ifndef STYTCH_SESSION_H
#define STYTCH_SESSION_H

#include "compat.h"
#include "request.h"

#define STC_SESSION_MT "stytch.session"

/* The most requests a batch has in flight at once. */
#define STC_MAX_BATCH 64

/* core.session(config) -> session | nil, err */
int stc_session_new(lua_State *L);

/* Send req on the session at idx; push res (return 1) or nil, err (2). */
int stc_session_perform(lua_State *L, int idx, const stc_request *req);

/* Check that idx is an open session and return it; raise otherwise. */
struct stc_session *stc_session_check(lua_State *L, int idx);

/* Register the session metatable, whose __index table holds close(). */
void stc_session_open(lua_State *L);

/* Seconds on a clock that never jumps. */
double stc_monotonic(void);

#endif

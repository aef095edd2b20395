/*
 * json.h: the bridge to lua-cjson.  The core never formats or parses JSON
 * itself; it asks a private cjson instance (cjson.new()), configured once
 * for strictness, so the caller's own `require "cjson"` settings are never
 * touched and never matter.
 */
#ifndef STYTCH_JSON_H
#define STYTCH_JSON_H

#include <stddef.h>

#include "compat.h"

/* Load cjson, make the private instance, keep it in the registry. */
void stc_json_open(lua_State *L);

/*
 * Encode the table at idx.  On success push the JSON string and return 1;
 * on failure push cjson's message and return 0.
 */
int stc_json_encode(lua_State *L, int idx);

/*
 * Decode len bytes at s.  On success push the value, with every JSON null
 * removed (a nil, never a sentinel) and integral numbers as Lua integers
 * on 5.3+, and return 1; on failure push cjson's message and return 0.
 */
int stc_json_decode(lua_State *L, const char *s, size_t len);

#endif

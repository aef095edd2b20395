/*
 * validate.h: the rules a value must meet before it may go on the wire.
 * Each returns NULL when the value is fine, or the rule it breaks, phrased
 * to follow the name of the field ("must be ...").  None of them looks at
 * anything but its arguments, and none copies the value into the rule.
 */
#ifndef STYTCH_VALIDATE_H
#define STYTCH_VALIDATE_H

#include <stddef.h>

/* Well-formed UTF-8, no overlongs, no surrogates, nothing past U+10FFFF. */
const char *stc_check_utf8(const char *s, size_t len);

/*
 * An absolute https URL, as libcurl's URL parser reads it, written in
 * plain URI characters, with a sound host (a DNS name or an IP address),
 * no credentials, no fragment, at most 8192 bytes.  A query is allowed:
 * some providers' endpoints carry one.
 */
const char *stc_check_https_url(const char *s, size_t len);

/* An issuer: an https URL as above, without a query either. */
const char *stc_check_issuer(const char *s, size_t len);

/*
 * A base URL for the API: https, or http when the host is a loopback
 * address (127.0.0.0/8, ::1, localhost); no query, no fragment, no
 * credentials.
 */
const char *stc_check_base_url(const char *s, size_t len);

/* True for a URL whose host is a loopback address or localhost. */
int stc_is_loopback_url(const char *s);

/* A User-Agent value: printable ASCII. */
const char *stc_check_user_agent(const char *s, size_t len);

/* A header value we build from caller input: visible ASCII only. */
const char *stc_check_header_value(const char *s, size_t len);

/*
 * One OAuth 2.0 scope token (RFC 6749 section 3.3), without '%': Stytch
 * reads custom_scopes percent-encoded, so a '%' in a scope could only be
 * the start of an escape, sent once too often or not often enough.
 */
const char *stc_check_scope(const char *s, size_t len);

#endif

/* validate.c: value rules shared by the request builder and the session. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "validate.h"

const char *stc_check_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + len;

	while (p < end) {
		unsigned long cp;
		int extra, i;

		/* Eight ASCII bytes at a time: JSON is mostly ASCII. */
		if (end - p >= 8) {
			uint64_t word;

			memcpy(&word, p, sizeof word);
			if ((word & UINT64_C(0x8080808080808080)) == 0) {
				p += 8;
				continue;
			}
		}
		if (*p < 0x80) {
			p++;
			continue;
		} else if (*p >= 0xC2 && *p <= 0xDF) {
			extra = 1;
			cp = *p & 0x1F;
		} else if (*p >= 0xE0 && *p <= 0xEF) {
			extra = 2;
			cp = *p & 0x0F;
		} else if (*p >= 0xF0 && *p <= 0xF4) {
			extra = 3;
			cp = *p & 0x07;
		} else {
			return "must be valid UTF-8";
		}
		if (end - p <= extra)
			return "must be valid UTF-8";
		for (i = 1; i <= extra; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return "must be valid UTF-8";
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)
		    || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return "must be valid UTF-8";
		p += extra + 1;
	}
	return NULL;
}

/* Longer URLs than this are refused before libcurl's parser sees them. */
#define STC_MAX_URL 8192

/* Parse s with libcurl; NULL on any failure, including a NUL inside s. */
static CURLU *parse_url(const char *s, size_t len)
{
	CURLU *u;

	if (strlen(s) != len)
		return NULL;
	u = curl_url();
	if (u != NULL && curl_url_set(u, CURLUPART_URL, s, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

/* True when part of u is there at all, even empty ("https://:pw@h"). */
static int has_part(CURLU *u, CURLUPart part)
{
	char *value = NULL;
	int present = curl_url_get(u, part, &value, 0) == CURLUE_OK;

	curl_free(value);
	return present;
}

/* Only characters RFC 3986 allows in a URI, and a "<scheme>://" start. */
static int plain_uri_text(const char *s, size_t len, const char *scheme)
{
	size_t i, n = strlen(scheme);

	if (len < n + 3 || strncasecmp(s, scheme, n) != 0
	    || strncmp(s + n, "://", 3) != 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7F || strchr("\"<>\\^`{|}", c))
			return 0;
		/* A "%" begins an escape of two hex digits. */
		if (c == '%' && (i + 2 >= len
				 || !isxdigit((unsigned char)s[i + 1])
				 || !isxdigit((unsigned char)s[i + 2])))
			return 0;
	}
	return 1;
}

/*
 * A DNS name: at most 253 bytes of labels of letters, digits and inner
 * hyphens, with a last label that is not all digits (that would be an
 * IP address written some odd way), and maybe one final dot.
 */
static int dns_name(const char *host)
{
	size_t label = 0, len = strlen(host);
	int digits_only = 1;
	const char *p;

	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (p = host; p <= host + len; p++) {
		if (p == host + len || *p == '.') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return 0;
			if (p == host + len)
				return !digits_only;
			label = 0;
			digits_only = 1;
		} else if (isalnum((unsigned char)*p) || *p == '-') {
			if (label == 0 && *p == '-')
				return 0;
			if (!isdigit((unsigned char)*p))
				digits_only = 0;
			label++;
		} else {
			return 0;
		}
	}
	return 0;
}

/*
 * An IPv4 or bracketed IPv6 address (no zone id), or a DNS name.  libcurl
 * rewrites odd IPv4 forms ("0x7f.1", "2130706433") as dotted quads, so an
 * address must also stand in the URL as written (url) to count.
 */
static int good_host(const char *host, const char *url)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char inner[INET6_ADDRSTRLEN + 1];
	size_t len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		if (len - 2 >= sizeof inner)
			return 0;
		memcpy(inner, host + 1, len - 2);
		inner[len - 2] = '\0';
		return inet_pton(AF_INET6, inner, addr) == 1;
	}
	if (inet_pton(AF_INET, host, addr) == 1)
		return strstr(url, host) != NULL;
	return dns_name(host);
}

/*
 * Rules shared by every URL we accept: plain URI text starting with
 * "<scheme>://", a sound host, no credentials, no fragment, a port that is
 * not 0.  Returns the broken rule or NULL; *u is the parsed URL on success.
 */
static const char *check_url(const char *s, size_t len, const char *scheme,
	CURLU **u)
{
	char *host = NULL, *port = NULL;
	const char *rule = NULL;

	*u = NULL;
	if (len > STC_MAX_URL)
		return "must be at most 8192 bytes long";
	/* Not a URL of this scheme at all: the caller names its own rule. */
	if (!plain_uri_text(s, len, scheme))
		return NULL;
	if ((*u = parse_url(s, len)) == NULL)
		return NULL;
	if (curl_url_get(*u, CURLUPART_HOST, &host, 0) != CURLUE_OK
	    || !good_host(host, s) || has_part(*u, CURLUPART_ZONEID))
		rule = "must have a valid host";
	else if (has_part(*u, CURLUPART_USER)
		 || has_part(*u, CURLUPART_PASSWORD))
		rule = "must not carry credentials";
	else if (memchr(s, '#', len) != NULL)
		rule = "must not have a fragment";
	else if (curl_url_get(*u, CURLUPART_PORT, &port, 0) == CURLUE_OK
		 && strcmp(port, "0") == 0)
		rule = "must not use port 0";
	curl_free(host);
	curl_free(port);
	if (rule != NULL) {
		curl_url_cleanup(*u);
		*u = NULL;
	}
	return rule;
}

const char *stc_check_https_url(const char *s, size_t len)
{
	CURLU *u;
	const char *rule = check_url(s, len, "https", &u);

	if (rule == NULL && u == NULL)
		rule = "must be an absolute https URL";
	curl_url_cleanup(u);
	return rule;
}

const char *stc_check_issuer(const char *s, size_t len)
{
	const char *rule = stc_check_https_url(s, len);

	if (rule == NULL && memchr(s, '?', len) != NULL)
		rule = "must not have a query "
			"(OpenID Connect Discovery 1.0, section 2)";
	return rule;
}

/* localhost, ::1, or an IPv4 address in 127.0.0.0/8. */
static int is_loopback(CURLU *u)
{
	unsigned char v4[4];
	char *host = NULL;
	int loopback;

	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return 0;
	loopback = strcmp(host, "localhost") == 0
		|| strcmp(host, "[::1]") == 0
		|| (inet_pton(AF_INET, host, v4) == 1 && v4[0] == 127);
	curl_free(host);
	return loopback;
}

const char *stc_check_base_url(const char *s, size_t len)
{
	const char *rule = NULL;
	CURLU *u = NULL;

	if (memchr(s, '?', len) != NULL || memchr(s, '#', len) != NULL)
		return "must not have a query or a fragment";
	if (len >= 5 && strncasecmp(s, "http:", 5) == 0) {
		rule = check_url(s, len, "http", &u);
		if (rule == NULL && (u == NULL || !is_loopback(u)))
			rule = "must be https (http is allowed only for "
				"loopback hosts)";
	} else {
		rule = check_url(s, len, "https", &u);
		if (rule == NULL && u == NULL)
			rule = "must be an absolute https URL";
	}
	curl_url_cleanup(u);
	return rule;
}

int stc_is_loopback_url(const char *s)
{
	CURLU *u = parse_url(s, strlen(s));
	int loopback = u != NULL && is_loopback(u);

	curl_url_cleanup(u);
	return loopback;
}

const char *stc_check_user_agent(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
			return "must be printable ASCII";
	return len == 0 ? "must not be empty" : NULL;
}

const char *stc_check_header_value(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "must not be empty";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7E)
			return "must be visible ASCII "
				"(no spaces, CR, LF or NUL)";
	}
	return NULL;
}

const char *stc_check_scope(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "must not be an empty scope";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E)
			return "must hold only scope characters "
				"(RFC 6749 3.3)";
		if (c == '%')
			return "must not hold '%' other than a %20 between "
				"scopes (write scopes plain)";
	}
	return NULL;
}

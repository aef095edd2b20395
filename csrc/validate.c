/* validate.c: value rules shared by the request builder and the session. */
#include <string.h>

#include <curl/curl.h>

#include "validate.h"

const char *stc_check_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + len;

	while (p < end) {
		unsigned long cp;
		int extra, i;

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

/* True when part of u is present (and non-empty, for the host). */
static int has_part(CURLU *u, CURLUPart part)
{
	char *value = NULL;
	int present = curl_url_get(u, part, &value, 0) == CURLUE_OK
		&& value != NULL && value[0] != '\0';

	curl_free(value);
	return present;
}

static int scheme_is(CURLU *u, const char *scheme)
{
	char *value = NULL;
	int same = curl_url_get(u, CURLUPART_SCHEME, &value, 0) == CURLUE_OK
		&& strcmp(value, scheme) == 0;

	curl_free(value);
	return same;
}

const char *stc_check_https_url(const char *s, size_t len)
{
	const char *rule = "must be an absolute https URL";
	CURLU *u = parse_url(s, len);

	if (u != NULL && scheme_is(u, "https") && has_part(u, CURLUPART_HOST))
		rule = NULL;
	curl_url_cleanup(u);
	return rule;
}

/* localhost, [::1], or an IPv4 address in 127.0.0.0/8 as libcurl wrote it. */
static int is_loopback(CURLU *u)
{
	char *host = NULL;
	int loopback = 0;

	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return 0;
	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0) {
		loopback = 1;
	} else if (strncmp(host, "127.", 4) == 0) {
		loopback = strspn(host, "0123456789.") == strlen(host);
	}
	curl_free(host);
	return loopback;
}

const char *stc_check_base_url(const char *s, size_t len)
{
	const char *rule = NULL;
	CURLU *u = parse_url(s, len);

	if (u == NULL || !has_part(u, CURLUPART_HOST))
		rule = "must be an absolute http(s) URL";
	else if (has_part(u, CURLUPART_QUERY)
		 || has_part(u, CURLUPART_FRAGMENT))
		rule = "must not have a query or a fragment";
	else if (has_part(u, CURLUPART_USER))
		rule = "must not carry credentials";
	else if (!scheme_is(u, "https")
		 && !(scheme_is(u, "http") && is_loopback(u)))
		rule = "must be https "
			"(http is allowed only for loopback hosts)";
	curl_url_cleanup(u);
	return rule;
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

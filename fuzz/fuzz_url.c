/*
 * fuzz_url: bytes as every kind of value the core checks.  None may
 * crash, and the rules must nest: an accepted issuer is an accepted https
 * URL, and an accepted https URL without a query is an accepted base URL.
 */
#include "fuzz.h"
#include "validate.h"

static int step(lua_State *L)
{
	const struct fuzz_input *in = fuzz_input(L);
	const char *s = in->data;
	size_t n = in->size;
	int https = stc_check_https_url(s, n) == NULL;

	if (stc_check_issuer(s, n) == NULL && !https)
		abort();
	if (https && memchr(s, '?', n) == NULL
	    && stc_check_base_url(s, n) != NULL)
		abort();
	(void)stc_check_utf8(s, n);
	(void)stc_check_header_value(s, n);
	(void)stc_check_scope(s, n);
	(void)stc_check_user_agent(s, n);
	(void)stc_is_loopback_url(s);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(fuzz_state(), step, data, size);
	return 0;
}

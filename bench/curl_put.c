/*
 * curl_put: the limit for this transport.  N PUTs of the benchmark body on
 * one kept-alive libcurl easy handle, nothing else: the same request as
 * our module's, header for header (bench/run checks the byte counts), with
 * the answer thrown away unread.  Prints
 * "<requests per second> <peak RSS in KiB>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static long peak_rss_kib(void)
{
	char line[256];
	long kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %ld", &kib) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	const char *body = "{\"display_name\":\"Bench\","
		"\"issuer\":\"https://idp.example\",\"client_id\":\"bench-client\","
		"\"client_secret\":\"bench-secret\"}";
	struct curl_slist *headers = NULL;
	struct timespec start, end;
	long i, n;
	CURL *e;

	if (argc < 4) {
		fprintf(stderr, "usage: curl_put URL N USER_AGENT [CAFILE]\n");
		return 2;
	}
	n = atol(argv[2]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	e = curl_easy_init();
	headers = curl_slist_append(headers, "Accept: application/json");
	headers = curl_slist_append(headers, "Expect:");
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(e, CURLOPT_URL, argv[1]);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_USERPWD, "project-test-bench:bench");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, argv[3]);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (argc > 4)
		curl_easy_setopt(e, CURLOPT_CAINFO, argv[4]);

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < n; i++) {
		CURLcode rc = curl_easy_perform(e);

		if (rc != CURLE_OK) {
			fprintf(stderr, "curl_put: %s\n", curl_easy_strerror(rc));
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	printf("%.0f %ld\n", n / ((end.tv_sec - start.tv_sec)
		+ (end.tv_nsec - start.tv_nsec) / 1e9), peak_rss_kib());
	curl_slist_free_all(headers);
	curl_easy_cleanup(e);
	curl_global_cleanup();
	return 0;
}

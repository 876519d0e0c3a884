#ifndef CCURLSHIM_H
#define CCURLSHIM_H
/*
 * Typed, non-variadic wrappers around libcurl's variadic entry points (curl_easy_setopt, curl_easy_getinfo,
 * curl_multi_setopt), which Swift cannot call. Each wrapper fixes the argument type, so a Swift caller cannot pass
 * the wrong kind of value for an option family.
 */
#include <curl/curl.h>
#include <stddef.h>

/* The data callback signature shared by CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION. */
typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *userdata);

/* curl_global_init(CURL_GLOBAL_ALL); returns the CURLcode as an int. */
int ccurl_global_init_all(void);

CURLcode ccurl_easy_setopt_long(CURL *easy, CURLoption option, long value);
CURLcode ccurl_easy_setopt_off_t(CURL *easy, CURLoption option, curl_off_t value);
CURLcode ccurl_easy_setopt_string(CURL *easy, CURLoption option, const char *value);
CURLcode ccurl_easy_setopt_pointer(CURL *easy, CURLoption option, void *value);
CURLcode ccurl_easy_setopt_slist(CURL *easy, CURLoption option, struct curl_slist *value);
CURLcode ccurl_easy_setopt_callback(CURL *easy, CURLoption option, ccurl_data_callback callback);
/* Sets a CURLOPTTYPE_BLOB option with CURL_BLOB_COPY: libcurl keeps its own copy, the caller's bytes may go. */
CURLcode ccurl_easy_setopt_blob_copy(CURL *easy, CURLoption option, const void *data, size_t length);

CURLcode ccurl_easy_getinfo_long(CURL *easy, CURLINFO info, long *value);
CURLcode ccurl_easy_getinfo_off_t(CURL *easy, CURLINFO info, curl_off_t *value);

CURLMcode ccurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/*
 * curl_multi_info_read restricted to CURLMSG_DONE messages: returns 1 and fills *easy and *result for the next
 * finished transfer, 0 when no finished transfer is queued.
 */
int ccurl_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result);

#endif

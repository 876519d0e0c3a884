#ifndef CLIBCURL_SHIM_H
#define CLIBCURL_SHIM_H
/* libcurl from Debian's libcurl4-openssl-dev. Only BrokerBackendREST sees it. */
#include <curl/curl.h>
#endif

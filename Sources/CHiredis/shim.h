#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
/* hiredis from Debian's libhiredis-dev (0.14.1 in bookworm). Only BrokerRedis sees it, and only for RESP encoding
   (redisFormatCommandArgv) and parsing (redisReader*): the sockets are BrokerRedis's own. */
#include <stddef.h>
#include <hiredis/hiredis.h>

/* redisReaderGetError is a macro; Swift cannot call it. */
static inline const char *chiredis_reader_error(const redisReader *r) { return r->errstr; }

/* Bytes fed to the reader and not yet turned into a reply: what a reply still being received occupies. */
static inline size_t chiredis_reader_buffered(const redisReader *r) { return r->len > r->pos ? r->len - r->pos : 0; }

/* The reply object functions a reader uses, so BrokerRedis can put a size check in front of createArray. */
static inline redisReplyObjectFunctions *chiredis_reader_functions(redisReader *r) { return r->fn; }
static inline void chiredis_reader_set_functions(redisReader *r, redisReplyObjectFunctions *fn) { r->fn = fn; }
#endif

#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
/* libpq from Debian's libpq-dev (pkg-config libpq: -I/usr/include/postgresql). Only BrokerBackendPostgres sees it. */
#include <libpq-fe.h>
#endif

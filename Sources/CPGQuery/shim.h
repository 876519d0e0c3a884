#ifndef CPGQUERY_SHIM_H
#define CPGQUERY_SHIM_H
/* The real PostgreSQL parser (Debian libpg-query-dev), used to gate analyst SQL before it reaches the database. */
#include <pg_query.h>
#endif

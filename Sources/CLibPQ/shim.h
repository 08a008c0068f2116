#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
// The libpq client API (Debian: libpq-dev). Everything the PostgresClient target uses comes from here.
#include <libpq-fe.h>
#endif

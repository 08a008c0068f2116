#ifndef CEPOLL_SHIM_H
#define CEPOLL_SHIM_H
// Linux epoll, which Swift's Glibc module does not export; the PostgreSQL reactor waits with it.
#include <sys/epoll.h>
#endif

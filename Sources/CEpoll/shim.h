#ifndef CEPOLL_SHIM_H
#define CEPOLL_SHIM_H
// Linux epoll and eventfd, which Swift's Glibc module does not export; the PostgreSQL reactor
// threads wait with them.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

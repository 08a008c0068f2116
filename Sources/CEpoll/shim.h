#ifndef CEPOLL_SHIM_H
#define CEPOLL_SHIM_H
// Linux epoll and eventfd, which Swift's Glibc module does not export; the PostgreSQL reactor
// threads wait with them.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

// Names the calling thread as `top -H` and /proc show it (at most 15 bytes are kept). prctl is
// variadic, which Swift cannot call.
static inline int cepoll_name_current_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}
#endif

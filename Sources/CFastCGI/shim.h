#ifndef CFASTCGI_SHIM_H
#define CFASTCGI_SHIM_H
#include <fcgiapp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

/// A handler that does nothing: delivering the signal only interrupts a blocking read/accept
/// (installed without SA_RESTART), which is how shutdown wakes worker threads parked on a
/// kept-alive connection. Written in C because a Swift closure cannot fill `sigaction` portably.
static void appview_fcgi_wakeup_handler(int signo) { (void)signo; }

/// Installs the no-op wake-up handler for `signo`; returns 0 on success, -1 with errno set.
static inline int appview_fcgi_install_wakeup_handler(int signo) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = appview_fcgi_wakeup_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; /* no SA_RESTART: blocked syscalls return EINTR */
    return sigaction(signo, &action, NULL);
}
/// Names the calling thread (visible in top -H, gdb); prctl is variadic and does not import into Swift.
static inline void appview_fcgi_name_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}
#endif

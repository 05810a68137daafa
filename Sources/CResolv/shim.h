#ifndef CRESOLV_SHIM_H
#define CRESOLV_SHIM_H
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <string.h>

/* glibc's stub resolver (libresolv, part of libc6-dev), wrapped so Swift needs none of its macros.
 *
 * One TXT query for `name` on a resolver state of its own (thread-safe, nothing shared between
 * calls): one attempt of at most `timeout_seconds` per nameserver (glibc counts whole seconds), UDP
 * only (RES_IGNTC: a truncated answer is used as it is, because glibc's TCP fallback reads without
 * a timeout), EDNS0 so answers may exceed 512 bytes. `server` NULL: the nameservers of
 * /etc/resolv.conf; otherwise the one IPv4 nameserver (address and port) to ask instead.
 * Returns the answer's length (at most `answer_size`), or -1 with `*h_error` set: HOST_NOT_FOUND
 * (NXDOMAIN), NO_DATA (no TXT record), TRY_AGAIN (timeout, SERVFAIL), NO_RECOVERY, NETDB_INTERNAL. */
static inline int cresolv_query_txt(const char *name, const struct sockaddr_in *server, int timeout_seconds,
                                    unsigned char *answer, int answer_size, int *h_error) {
    struct __res_state state;
    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) {
        *h_error = NETDB_INTERNAL; /* no res_nclose: a zeroed state would close descriptor 0 */
        return -1;
    }
    state.retrans = timeout_seconds > 0 ? timeout_seconds : 1;
    state.retry = 1;
    state.options |= RES_IGNTC | RES_USE_EDNS0;
    state.options &= ~(unsigned long)(RES_USEVC | RES_STAYOPEN);
    if (server != NULL) {
        /* A set nsaddr_list entry takes precedence over the IPv6 copy glibc may keep in _u._ext. */
        state.nscount = 1;
        state.nsaddr_list[0] = *server;
    }
    int length = res_nquery(&state, name, ns_c_in, ns_t_txt, answer, answer_size);
    *h_error = state.res_h_errno;
    res_nclose(&state);
    if (length > answer_size) length = answer_size;
    return length;
}

/* Records in the answer section of a parsed message. */
static inline int cresolv_answer_count(const ns_msg *message) {
    return ns_msg_count(*message, ns_s_an);
}
#endif

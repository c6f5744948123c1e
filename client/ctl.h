/* ctl: one request/reply round trip with overstapd over its ipc:// control
 * socket (design.md §4). No printing here: callers turn the codes into messages. */
#ifndef OVERSTAP_CTL_H
#define OVERSTAP_CTL_H

#include "control.pb-c.h"

/* Largest reply we accept: a full handover list of a big school fits with
 * room to spare, a runaway reply does not exhaust memory. */
#define CTL_MAX_MESSAGE (64 * 1024 * 1024)

/* Check that the daemon listens at `path`, send req, and wait up to timeout_ms
 * for each of the send and the reply. On success returns 0 and *out owns the
 * reply (overstapctl__reply__free_unpacked). Errors:
 *   -ENOENT, -ENOTSOCK, -ECONNREFUSED, -EACCES: nobody (reachable) listens there
 *   -ENAMETOOLONG: path too long for a unix socket
 *   -ETIMEDOUT: no reply in time
 *   -EMSGSIZE: the request is larger than CTL_MAX_MESSAGE
 *   -EBADMSG: the reply does not unpack
 *   other -errno from libzmq or the system. */
int ctl_roundtrip(const char *path, int timeout_ms, const Overstapctl__Request *req,
		  Overstapctl__Reply **out);

#endif

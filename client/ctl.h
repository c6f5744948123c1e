/* ctl: one request/reply round trip with overstapd over its control socket,
 * a plain AF_UNIX stream socket carrying length-framed protobuf (design.md
 * §4.9). No printing here: callers turn the codes into messages. */
#ifndef OVERSTAP_CTL_H
#define OVERSTAP_CTL_H

#include "control.pb-c.h"

/* Largest reply we accept: a full handover list of a big school fits with
 * room to spare, a runaway reply does not exhaust memory. */
#define CTL_MAX_MESSAGE (64 * 1024 * 1024)
/* Largest request: the daemon's frame limit (CTLSOCK_MAX_FRAME). */
#define CTL_MAX_REQUEST (512u << 20)

/* Connect to the daemon at `path`, send req, and wait until timeout_ms after
 * the start for the whole reply. On success returns 0 and *out owns the
 * reply (overstapctl__reply__free_unpacked). Errors:
 *   -ENOENT, -ENOTSOCK, -ECONNREFUSED, -EACCES: nobody (reachable) listens there
 *   -EBUSY: the daemon's backlog is full
 *   -ENAMETOOLONG: path too long for a unix socket
 *   -ETIMEDOUT: no reply in time
 *   -ECONNRESET: the daemon closed the connection (stopped, or refused the frame)
 *   -EMSGSIZE: the request is larger than CTL_MAX_REQUEST, or the reply than
 *              CTL_MAX_MESSAGE
 *   -EBADMSG: the reply does not unpack
 *   other -errno from the system. */
int ctl_roundtrip(const char *path, int timeout_ms, const Overstapctl__Request *req,
		  Overstapctl__Reply **out);

#endif

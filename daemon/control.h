/* control: the local control socket the overstap CLI talks to (design.md §4): one
 * protobuf Request, one Reply, version-checked, every change recorded with the
 * caller's user name. The handlers take a struct ctl_env, never the daemon. */
#ifndef OVERSTAP_CONTROL_H
#define OVERSTAP_CONTROL_H

#include <stdint.h>

#include "hctx.h"
#include "net.h"
#include "spool.h"

/* What the control handlers see. */
struct ctl_env {
	struct hctx *h;			/* store, configuration, keys, outbox flags */
	const struct net *net;		/* read only, for status: peers and counters */
	int64_t started_at;		/* wall ms the daemon started */
	const struct spool *spool;	/* read only, for status; NULL = none */
};

/* Bind the ROUTER on ipc://[control] socket in zctx, reachable by the owner
 * and [control] group. *sock gets it. 0 or -errno (logged). */
int control_open(void *zctx, const struct config *cfg, void **sock);
/* Answer the requests waiting on sock (up to 16 a call). */
void control_handle(void *sock, const struct ctl_env *env);
/* Close *sock (NULL is fine), remove the socket file, NULL the pointer. */
void control_close(void **sock, const char *path);

#endif

/* net: the ZeroMQ side of overstapd (SPEC §4): ZAP handler, the CURVE ROUTER
 * that receives, one CURVE DEALER per peer that sends, the outbox pump with
 * retries and acks. */
#ifndef OVERSTAP_NET_H
#define OVERSTAP_NET_H

#include <stdint.h>
#include <zmq.h>

#include "daemon.h"

/* Create the context, the ZAP handler and the bound ROUTER. */
int net_open(struct daemon *d);
void net_close(struct daemon *d);

/* Bring the peers in line with cfg: keep those unchanged (unless reopen:
 * after our own keys changed every connection is made anew), reconnect
 * changed ones, close removed ones. All or nothing. */
int net_peers_apply(struct daemon *d, const struct config *cfg, int reopen);

/* Our own keys changed (keys activate + reload): rebind the ROUTER on the same
 * endpoint with the new CURVE secret. Peers reconnect by themselves. */
int net_router_rekey(struct daemon *d);

/* Events on the sockets. */
void net_zap_handle(struct daemon *d);
void net_router_handle(struct daemon *d);
void net_router_monitor_handle(struct daemon *d);
void net_peer_handle(struct daemon *d, struct peer *p);
void net_peer_monitor_handle(struct daemon *d, struct peer *p);

/* Send what is due (new outbox entries, retries); lowers *wake_in_ms to when
 * the next retry falls due. */
void net_pump(struct daemon *d, int64_t *wake_in_ms);
/* After a commit that queued messages (for any peers): recount what waits per
 * peer and send without waiting a tick. */
void net_outbox_changed(struct daemon *d);

/* Sign a body as an envelope to peer and commit it to the outbox (in the
 * caller's transaction), sealed under the outbox key. A disclosure that
 * relies on a consent names it (consent_id, until; NULL = none) so that
 * every send checks it again. mid gets the message id. 0 or -errno. */
int net_queue(struct daemon *d, const char *peer, Overstap__Envelope__BodyCase body_case,
	      const uint8_t *body, size_t blen, const char *consent_id, const char *until,
	      char mid[CRYPTO_UUID_STR_LEN + 1]);

/* Send a message straight to a connected peer, outside the outbox: for
 * periodic, replaceable messages (audit checkpoints) whose loss costs
 * nothing. 0, or -ENOTCONN / -errno. */
int net_send_direct(struct daemon *d, struct peer *p, Overstap__Envelope__BodyCase body_case,
		    const uint8_t *body, size_t blen);

#endif

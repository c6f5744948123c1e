/* net_int: what the transport's files share (net.c: sockets, peers, ZAP;
 * net_rx.c: the ROUTER, batches and acks; net_tx.c: the DEALERs, the outbox
 * pump, retries and rollover dialling). Not for use outside net*.c. */
#ifndef OVERSTAP_NET_INT_H
#define OVERSTAP_NET_INT_H

#include "net.h"
#include "overstap.pb-c.h"

#define RX_BATCH 512		/* messages committed in one transaction */
/* Credit (design.md §4.6): the least share of receive_window a peer is
 * given, a peer counting as sending while its last message is younger than
 * CREDIT_ACTIVE_MS, and what a sender keeps in flight before the first ack
 * says its share. */
#define CREDIT_MIN 64
#define CREDIT_ACTIVE_MS 5000
#define CREDIT_INITIAL 64
#define FILL_IDLE_MS 1000	/* look in an idle outbox this often */
#define RECONNECT_MIN_MS 1000	/* after a failed handshake ... */
#define RECONNECT_MAX_MS 60000	/* ... doubling up to this */
#define NET_TRANSPORT_FACTOR 4	/* the ROUTER reads up to this times max_message_size */
#define QUOTA_WINDOW_MS (3600LL * 1000)
#define CHECKPOINT_REPLY_MS 10000	/* answer a peer's checkpoint with ours at most this often */
#define CHECKPOINT_EMPTY_MS 500	/* while our log is empty, look this often */
#define CHECKPOINT_SOON_MS 1000	/* a checkpoint brought forward: this soon at the earliest */

/* What a REJECTED ack tells the sender to do (overstap.proto Ack.Disposition). */
enum net_disp { DISP_FINAL = 0, DISP_PARK = 1, DISP_LATER = 2 };

/* Record what a peer said in its Hello (either direction) and keep to it. */
void net_hello_record(struct net *net, struct peer *p, const Overstap__Envelope *e);
/* Pack our Hello, with the limits we keep to, into body (at least 192 bytes). */
size_t net_hello_pack(const struct net *net, uint8_t *body, size_t cap);

struct net_utc {
	char s[21];
};

/* A wall-clock ms as UTC text, for log lines. */
struct net_utc net_utc(int64_t ms);

/* Read one monitor event (libzmq 4.x: [u16 event, u32 value][endpoint]).
 * 0, or -EAGAIN when none waits, -EBADMSG for a short frame. */
int net_monitor_read(void *pair, uint16_t *event, uint32_t *value);

/* A signature by the peer's current key (while it is still admitted) or by
 * its next key during a rollover: 0, or -EBADMSG. */
int net_verify(const struct peer *p, const Overstap__Envelope *e);

#endif

/* outbox: the one way to queue a message for a peer (docs/design.md §4): sign
 * the body as an envelope from us, commit it to the store's outbox in the
 * caller's transaction, and flag the senders to wake once the loop gets
 * control back. The transport (net) takes it from the store from there. */
#ifndef OVERSTAP_OUTBOX_H
#define OVERSTAP_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "hctx.h"
#include "overstap.pb-c.h"

struct outbox_item {
	const char *peer;			/* recipient institution id */
	Overstap__Envelope__BodyCase body_case;
	const uint8_t *body;			/* packed body, borrowed */
	size_t blen;
	int64_t key_id;				/* seal under this pupil key; 0 = the outbox key */
	const char *consent_id;			/* a disclosure relying on a consent names it,
						 * so every send checks it again; NULL = none */
	const char *until;			/* that consent's valid_until ("" = open) */
	char *parked;				/* optional, OUTBOX_PARKED_LEN bytes: "" or why
						 * the message was parked at once */
};
#define OUTBOX_PARKED_LEN 160

/* Queue it (inside the caller's transaction). mid gets the message id at
 * once. When the peer has said (in its Hello) that it accepts no message
 * this large, it is queued parked instead (design.md §4.5): kept, not sent,
 * until `overstap outbox retry`; it->parked (when set) says why, once the
 * message is stored. 0 or -errno; on error nothing is queued once the caller
 * rolls back. Outside a group the message is signed and stored at once (a
 * group of one). */
int outbox_queue(struct hctx *h, const struct outbox_item *it, char mid[CRYPTO_UUID_STR_LEN + 1]);

/* Messages signed together (issue 14, design.md §4.6): between
 * outbox_group_begin and outbox_group_end, inside one transaction of the
 * caller, outbox_queue gives each message its id at once but signs and
 * stores it later, OUTBOX_GROUP_MAX to a signature (envelope_sign_pack_group):
 * a full group is signed and stored before the next message joins, the rest
 * at outbox_group_end. it->parked must then stay valid until the message is
 * stored; it reads "" until then. The body, peer and consent are copied. */
#define OUTBOX_GROUP_MAX 512
/* 0, -EBUSY when a group is open already, or -ENOMEM. */
int outbox_group_begin(struct hctx *h);
/* Sign and store what is left, and close the group (closed whatever the
 * result). 0 or -errno: the caller then rolls back. */
int outbox_group_end(struct hctx *h);
/* Close the group without storing what is left (the caller rolls back). */
void outbox_group_drop(struct hctx *h);

/* Pack a protobuf-c message into a new buffer (*out, *len) and queue it. A
 * convenience for the common case; the body is wiped before it is freed. */
int outbox_queue_msg(struct hctx *h, const char *peer, Overstap__Envelope__BodyCase body_case,
		     const ProtobufCMessage *msg, char mid[CRYPTO_UUID_STR_LEN + 1]);

struct leaver;
struct consent;
/* A follow_up consent k for leaver l granted after the dossier left: queue a
 * ConsentNotice to the receiver (in the caller's transaction, audited as
 * user), so that outcomes can come back under it. Nothing when k is not
 * such a consent. peer gets the receiver told ("" = nobody). 0 or -errno. */
int outbox_consent_notice(struct hctx *h, const char *user, const struct leaver *l,
			  const struct consent *k, char peer[7]);

#endif

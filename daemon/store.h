/* store: overstapd's sqlite store (SPEC §5). WAL, synchronous=FULL (everything
 * here may be acknowledged to someone), schema migrations by user_version.
 * Personal data is held only as AES-256-GCM ciphertext under a per-pupil data
 * key, itself wrapped by the institution's master key: destroying the wrapped
 * key (crypto-shredding) makes every copy of that pupil's data unreadable.
 * The store never logs; it returns negative errno codes and, where useful, a
 * message in the caller's buffer. */
#ifndef OVERSTAP_STORE_H
#define OVERSTAP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "consent.h"
#include "control.pb-c.h"
#include "crypto.h"
#include "overstap.pb-c.h"
#include "store.pb-c.h"
#include "util.h"

#define STORE_SCHEMA_VERSION 4

struct store;

/* Leaver states at the sending school, in the order they are reached. */
enum leaver_state {
	LEAVER_IMPORTED = 0,	/* imported, not yet sendable */
	LEAVER_QUEUED = 1,	/* dossier in the outbox, not yet acknowledged */
	LEAVER_DELIVERED = 2,	/* acknowledged by the receiver */
	LEAVER_CANCELLED = 3,
};
const char *store_leaver_state_str(int state);

enum outbox_state { OUTBOX_QUEUED = 0, OUTBOX_ACKED = 1, OUTBOX_CANCELLED = 2, OUTBOX_REJECTED = 3 };

/* The non-personal part of a leaver row plus its decrypted personal part. */
struct leaver {
	int64_t id;
	int64_t key_id;
	char pupil_ref[65];		/* decrypted */
	int program, destination, advice, advice_followed, level_taal, level_rekenen;
	char cohort[10];
	char exit_date[11];
	char destination_institution[7];
	char registered_on[11];		/* "" = not registered */
	char inzage_on[11];		/* "" = no inzage */
	int inzage_reviewer;
	char inzage_recorded_by[64];
	int state;
	char record_id[CRYPTO_UUID_STR_LEN + 1];
	char message_id[CRYPTO_UUID_STR_LEN + 1];
	int64_t queued_at, delivered_at;
	unsigned attempts;
	Overstapstore__LeaverPrivate *priv;	/* owned when loaded with personal data */
};
void store_leaver_clear(struct leaver *l);

/* Open (creating and migrating as needed) the store at path. The master key is
 * copied; sub-keys are derived from it. err gets a reason on failure. */
int store_open(const char *path, const uint8_t master[CRYPTO_KEY_LEN], struct store **out,
	       char *err, size_t errlen);
void store_close(struct store **s);

int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* HMAC-SHA256 pseudonym of an identifier under the store's pseudonym key. */
int store_pseudonym(struct store *s, const char *ident, uint8_t out[32]);

/* ---- sending school ---- */

/* Import validated leavers in one transaction: all or nothing. A pupil_ref
 * already in the store is an error "FILE:LINE: pupil_ref: already imported".
 * Returns 0, -EINVAL (errors filled, nothing stored) or another -errno. */
int store_leavers_import(struct store *s, const char *file, Overstapctl__Leaver *const *rows,
			 size_t n, const char *user, struct strlist *errors);

/* Find a leaver by pupil_ref; with_private decrypts its personal data into
 * l->priv. -ENOENT when unknown. */
int store_leaver_find(struct store *s, const char *pupil_ref, int with_private, struct leaver *l);

int store_leaver_set_registered(struct store *s, int64_t id, const char *date, const char *user);
int store_leaver_set_inzage(struct store *s, int64_t id, int reviewer, const char *date,
			    const char *remarks, const char *user);
/* Mark queued with the dossier's record and message id (same transaction as
 * the outbox entry). */
int store_leaver_set_queued(struct store *s, int64_t id, const char *record_id,
			    const char *message_id, int64_t now);

/* Iterate leavers (personal part decrypted: pupil_ref only), ordered by id.
 * state < 0 and cohort NULL mean any. cb returns non-zero to stop. */
typedef int (*store_leaver_cb)(const struct leaver *l, void *arg);
int store_leavers_each(struct store *s, int state, const char *cohort, unsigned limit,
		       store_leaver_cb cb, void *arg);
/* Ids of leavers ready to send: imported, registered, inzage recorded, with a
 * destination institution. Caller frees *ids. */
int store_leavers_ready(struct store *s, int64_t **ids, size_t *n);
int store_leaver_load(struct store *s, int64_t id, int with_private, struct leaver *l);

/* ---- consents (SPEC §3; the rules are in consent.h) ---- */

/* Store a checked consent for a leaver: c->id gets a new UUID. The evidence
 * reference is sealed under the pupil's key (key_id). */
int store_consent_add(struct store *s, int64_t leaver_id, int64_t key_id, struct consent *c);
/* Record a withdrawal (effective from date). -EALREADY when there is no
 * such consent or it was withdrawn before. */
int store_consent_withdraw(struct store *s, const char *id, const char *date, const char *user);
/* One consent by id (pupil_ref left empty; *leaver_id says whose). -ENOENT. */
int store_consent_get(struct store *s, const char *id, struct consent *c, int64_t *leaver_id);
/* Every consent of one leaver (leaver_id >= 0) or of all, ordered by leaver
 * and date. fn returns non-zero to stop; that value is returned. */
typedef int (*store_consent_fn)(const struct consent *c, int64_t leaver_id, void *arg);
int store_consents_each(struct store *s, int64_t leaver_id, store_consent_fn fn, void *arg);

/* ---- statuses and outcomes (both directions) ---- */

struct event_rec {
	char message_id[CRYPTO_UUID_STR_LEN + 1];	/* of the Status/Outcome message */
	char record_id[CRYPTO_UUID_STR_LEN + 1];	/* the handover it is about */
	int inbound;			/* 1 received from peer, 0 sent to it */
	char peer[7];
	int event;			/* enum outcome_event */
	char date[11];
	int level;			/* 1-4 for diploma/progressed */
	char consent_id[CRYPTO_UUID_STR_LEN + 1];	/* outcomes: the follow_up consent */
	int64_t at;			/* unix ms recorded */
	char actor[64];			/* staff user, or peer:ID */
	int state;			/* sent ones: enum outbox_state; -1 for received */
	char reason[160];		/* sent ones: why refused or cancelled */
};
/* 0, or 1 when this message id is already recorded (a retry). */
int store_event_add(struct store *s, const struct event_rec *e);
/* The timeline of one record, by date. fn returns non-zero to stop. */
typedef int (*store_event_fn)(const struct event_rec *e, void *arg);
int store_events_each(struct store *s, const char *record_id, store_event_fn fn, void *arg);
/* The leaver a record id was sent as, or the (latest) leaver with this PGN. */
int store_leaver_by_record(struct store *s, const char *record_id, int with_private, struct leaver *l);
int store_leaver_by_pgn(struct store *s, const char *pgn, int with_private, struct leaver *l);

/* ---- audit log (SPEC §5; audit.h) ---- */

/* Append an audit entry now. Call it inside the transaction of the change it
 * records, so that both commit or neither does; outside one it commits on
 * its own. subject is a record id, pseudonym or "" (never a name or PGN);
 * detail is JSON text without personal data. 0 or -errno. */
int store_audit(struct store *s, const char *actor, const char *action, const char *subject,
		const char *counterpart, const char *detail);
/* The audit handle, borrowed: for verify, export and checkpoints. */
struct audit *store_audit_peek(struct store *s);

/* ---- outbox (any message we send) ---- */

/* Add a signed, packed envelope for peer. It is stored sealed (under the
 * pupil's key when key_id > 0, else under the store's outbox key), so the
 * outbox holds no readable personal data either. */
int store_outbox_add(struct store *s, const char *message_id, const char *peer, int body_case,
		     const uint8_t *packed, size_t len, int64_t key_id, int64_t now);

struct outbox_msg {
	char message_id[CRYPTO_UUID_STR_LEN + 1];
	int64_t created_at;
	int64_t key_id;		/* the pupil key it is sealed under, 0 = outbox key */
	char consent_id[CRYPTO_UUID_STR_LEN + 1];	/* the consent it relies on, "" = none */
	char consent_until[11];	/* that consent's last day, "" = open-ended */
	uint8_t *packed;	/* owned, decrypted envelope */
	size_t len;
};
/* Up to `limit` queued messages for peer with message_id > after (""), in id
 * order, decrypted. Caller frees each .packed and *out. */
int store_outbox_pending(struct store *s, const char *peer, const char *after, unsigned limit,
			 struct outbox_msg **out, size_t *n);
/* Replace a queued message's envelope with m->packed (same id and key): used
 * to re-sign the outbox after our signing key changed. */
int store_outbox_replace(struct store *s, const struct outbox_msg *m);
/* One of our messages as it was sent (decrypted; *packed is the caller's):
 * -ENOENT, or -ENOKEY when the pupil has been erased since. */
int store_outbox_get(struct store *s, const char *message_id, uint8_t **packed, size_t *len);
/* The consent a queued disclosure relies on: every (re)send checks it again. */
int store_outbox_set_consent(struct store *s, const char *message_id, const char *consent_id,
			     const char *until);
/* Cancel a queued message (its consent ended while it waited); a handover's
 * leaver becomes cancelled. 1 when it was no longer queued. */
int store_outbox_cancel(struct store *s, const char *message_id, const char *reason);
/* 1 when consent_id was withdrawn here by today, or a peer told us it was. */
int store_consent_revoked(struct store *s, const char *consent_id, const char *today);
/* Remember that a peer withdrew one of its consents (idempotent). */
int store_revoke(struct store *s, const char *consent_id, const char *peer, int64_t now);

/* Record acknowledgements (in the caller's transaction): the outbox entry
 * becomes acked (or rejected with reason), and a handover's leaver delivered. */
int store_outbox_ack(struct store *s, const char *peer, const char *message_id, int rejected,
		     const char *reason, int64_t first_sent_at, unsigned attempts, int64_t now);
/* Messages queued for peer (linear in the depth: the daemon counts once per
 * peer and then keeps the depth itself). */
int store_outbox_depth(struct store *s, const char *peer, uint64_t *depth);
/* Creation time of the oldest queued message, cheap at any depth; 0 = none. */
int store_outbox_oldest(struct store *s, const char *peer, int64_t *oldest);

/* ---- receiving institution ---- */

/* Store a received, verified handover envelope idempotently: returns 0 when
 * stored, 1 when this message id was already there, -EEXIST when another
 * message already delivered this record id. The packed
 * envelope is kept sealed under a new per-record data key, so the signature
 * (evidence of origin) can be checked again later. */
int store_inbox_put(struct store *s, const char *message_id, const char *sender,
		    const Overstap__Handover *h, const uint8_t *packed, size_t len, int64_t now);

struct inbox_row {
	char message_id[CRYPTO_UUID_STR_LEN + 1];
	char record_id[CRYPTO_UUID_STR_LEN + 1];
	char sender[7];
	int64_t received_at;
	char cohort[10];
	int program, destination;
};
typedef int (*store_inbox_cb)(const struct inbox_row *r, void *arg);
int store_inbox_each(struct store *s, const char *cohort, unsigned limit, store_inbox_cb cb,
		     void *arg);
/* One inbox entry and its decrypted packed envelope (caller frees). */
int store_inbox_get(struct store *s, const char *record_id, struct inbox_row *r,
		    uint8_t **packed, size_t *len);
int store_inbox_count(struct store *s, uint64_t *n);

#endif

/* envelope: the wire codec (design.md §4). Building and signing Envelopes, and the
 * receiving side's checks, in the order that keeps a hostile peer from making us
 * allocate or compute much: size cap, unpack, field limits, then signature. */
#ifndef OVERSTAP_ENVELOPE_H
#define OVERSTAP_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "overstap.pb-c.h"

#define ENVELOPE_VERSION 1

/* Field limits enforced before a body is used. */
#define ENV_MAX_TEXT 256		/* short strings: ids, names, codes, dates */
#define ENV_MAX_REMARKS 8192		/* inzage remarks (free text) */
#define ENV_MAX_SUPPORT_NEEDS 32
#define ENV_MAX_CONSENTS 16	/* consent assertions in one message */
#define ENV_MAX_ACK_IDS 4096

/* Batch signatures (design.md §4.3): one Ed25519 signature over the Merkle
 * root of up to ENVELOPE_GROUP_MAX messages; each envelope carries its index,
 * the group's size and its inclusion path (at most ENVELOPE_PATH_MAX hashes),
 * so that it verifies alone. */
#define ENVELOPE_GROUP_MAX 512
#define ENVELOPE_PATH_MAX 9

/* Sign and pack an envelope whose header fields and body (case + bytes) are
 * set, with a v1 signature of its own (any batch fields of e are left out
 * and left as they were). *out is malloc'ed. 0 or -errno. */
int envelope_sign_pack(Overstap__Envelope *e, crypto_sigkey *signer, uint8_t **out, size_t *len);

/* Sign one of our own packed envelopes again with signer (same id, header and
 * body): queued messages after a key rollover. *out is the caller's. */
int envelope_resign(const uint8_t *in, size_t len, crypto_sigkey *signer, uint8_t **out,
		    size_t *out_len);

/* Sign n envelopes (headers and bodies set, as for envelope_sign_pack) as one
 * group and pack each: out[i] (malloc'ed) and lens[i]. Every packed envelope
 * verifies on its own. One signature for 2 <= n <= ENVELOPE_GROUP_MAX; a
 * group of one is signed as envelope_sign_pack does (v1). The fields of e[i]
 * are as they were afterwards. 0, -EINVAL (n is 0 or too large) or -errno;
 * on error nothing is left allocated. */
int envelope_sign_pack_group(Overstap__Envelope *const *e, size_t n, crypto_sigkey *signer,
			     uint8_t **out, size_t *lens);

/* envelope_resign for n of our packed envelopes at once, signed as one group. */
int envelope_resign_group(const uint8_t *const *in, const size_t *len, size_t n,
			  crypto_sigkey *signer, uint8_t **out, size_t *out_len);

/* Unpack and check received Status, Outcome and Registration bodies: canonical
 * encoding, record id a UUID, an event of the right kind with a real date, a
 * level exactly for diploma/progressed, an outcome's consent assertion well
 * formed, a registration's PGN passing the 11-test. 0, or -EBADMSG with *why. */
int envelope_status_unpack(const ProtobufCBinaryData *body, Overstap__Status **out, const char **why);
int envelope_outcome_unpack(const ProtobufCBinaryData *body, Overstap__Outcome **out,
			    const char **why);
int envelope_registration_unpack(const ProtobufCBinaryData *body, Overstap__Registration **out,
				 const char **why);

/* Unpack and check Withdrawal (record id and consent ids UUIDs, reason
 * "withdrawn" or "erased"), ErasureReceipt and AuditCheckpoint bodies
 * (heads 32 bytes). 0, or -EBADMSG with *why. */
int envelope_withdrawal_unpack(const ProtobufCBinaryData *body, Overstap__Withdrawal **out,
			       const char **why);
int envelope_receipt_unpack(const ProtobufCBinaryData *body, Overstap__ErasureReceipt **out,
			    const char **why);
int envelope_checkpoint_unpack(const ProtobufCBinaryData *body, Overstap__AuditCheckpoint **out,
			       const char **why);
/* A ConsentNotice: record id a UUID, a well-formed assertion. */
int envelope_notice_unpack(const ProtobufCBinaryData *body, Overstap__ConsentNotice **out,
			   const char **why);

struct consent;
/* The assertion of one of our consent records (strings borrowed from k). */
void envelope_assertion_from(Overstap__ConsentAssertion *a, const struct consent *k);

/* NULL when a received consent assertion is well-formed, else the reason. */
const char *envelope_assertion_check(const Overstap__ConsentAssertion *a);
/* 1 when the assertion allows `purpose` to institution `me` on `today`
 * (granted by then, not expired; counterpart me or "*"). */
int envelope_assertion_in_force(const Overstap__ConsentAssertion *a, const char *purpose,
				const char *me, const char *today);

/* Set up e (unsigned) around a packed body, borrowing sender, recipient,
 * body and id_out: version, a fresh UUIDv7 message id (written to id_out),
 * sender, recipient, created_at = now. For envelope_sign_pack_group. */
int envelope_init(Overstap__Envelope *e, const char *sender, const char *recipient,
		  Overstap__Envelope__BodyCase body_case, const uint8_t *body, size_t body_len,
		  char id_out[CRYPTO_UUID_STR_LEN + 1]);
/* Build a complete envelope around a packed body: version, a fresh UUIDv7
 * message id (written to id_out), sender, recipient, created_at = now. */
int envelope_build(const char *sender, const char *recipient, Overstap__Envelope__BodyCase body_case,
		   const uint8_t *body, size_t body_len, crypto_sigkey *signer,
		   char id_out[CRYPTO_UUID_STR_LEN + 1], uint8_t **out, size_t *len);

/* Unpack and check the header of a received envelope: len <= max_size, version,
 * message id a UUID, sender/recipient valid institution ids, a known body,
 * a 64-byte signature. On failure returns -EBADMSG (or -EMSGSIZE, -EPROTO for a
 * version we do not speak) and sets *why to a static reason for the
 * logs and counters. *out is freed with overstap__envelope__free_unpacked. */
/* The reason an envelope of another protocol version is refused with: sent
 * back in a REJECTED ack, so it names the version this daemon speaks. */
#define ENVELOPE_VERSION_REASON "unsupported protocol version (this daemon speaks 1)"
_Static_assert(ENVELOPE_VERSION == 1, "ENVELOPE_VERSION_REASON names the version");

/* The message id of an envelope that envelope_unpack refused (another
 * protocol version), when it holds a well-formed one: so the sender can be
 * told, by id, to stop retrying. 0 or -EBADMSG. */
int envelope_peek_id(const uint8_t *buf, size_t len, char mid[CRYPTO_UUID_STR_LEN + 1]);

int envelope_unpack(const uint8_t *buf, size_t len, size_t max_size, Overstap__Envelope **out,
		    const char **why);

/* created_at (unix ms) of a received, authenticated envelope against our
 * clock: NULL when acceptable, else the static reason for a REJECTED ack.
 * Refused: more than max_skew_s seconds ahead of now_ms (a broken clock, or
 * a forged time), and anything before ENV_MIN_CREATED_AT (0, negative, or a
 * time no overstap ever signed). Old times after that are accepted: a message
 * may wait in its sender's outbox for as long as we are offline and is
 * retried with its original created_at (design.md §4.5). */
#define ENV_MIN_CREATED_AT INT64_C(1577836800000)	/* 2020-01-01T00:00:00Z */
const char *envelope_time_check(int64_t created_at, int64_t now_ms, int64_t max_skew_s);

/* 0 when the signature verifies against the sender's public key, else
 * -EBADMSG: the v1 signature, or for a batch-signed envelope its inclusion
 * path up to a root whose signature verifies. Roots that verified are kept
 * in a small cache (keyed by key, root, size and signature) shared by all
 * threads: the other messages of a group cost a few SHA-256s. */
int envelope_verify(const Overstap__Envelope *e, crypto_sigkey *sender_key);
/* The root cache's counters since the start (or the last clear), and a
 * clear: for tests and for showing that stored evidence needs no cache. */
void envelope_root_cache_stats(uint64_t *hits, uint64_t *misses);
void envelope_root_cache_clear(void);

/* Borrowed body bytes of the set oneof case (NULL when none). */
const ProtobufCBinaryData *envelope_body(const Overstap__Envelope *e);
/* Name of a body case for logs: "handover", "ack", ... */
const char *envelope_body_name(Overstap__Envelope__BodyCase c);

/* Unpack and check a Handover body: record_id a UUID, string lengths, repeat
 * counts, dates. -EBADMSG with *why on failure. */
int envelope_handover_unpack(const ProtobufCBinaryData *body, Overstap__Handover **out,
			     const char **why);
/* Unpack and check an Ack body. */
int envelope_ack_unpack(const ProtobufCBinaryData *body, Overstap__Ack **out, const char **why);

#endif

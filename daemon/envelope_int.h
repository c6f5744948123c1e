/* envelope_int: what envelope.c shares with envelope_batch.c (batch
 * signatures, design.md §4.3). Not for use outside envelope*.c. */
#ifndef OVERSTAP_ENVELOPE_INT_H
#define OVERSTAP_ENVELOPE_INT_H

#include "envelope.h"

/* The v1 signing input documented in proto/overstap.proto, after `pre` zero
 * bytes (1 for a Merkle leaf: SHA-256(0x00 || input)); *len counts them.
 * *out is malloc'ed. 0 or -errno. */
int envelope_signing_input(const Overstap__Envelope *e, size_t pre, uint8_t **out, size_t *len);

/* The signature and batch fields of an envelope, set aside while it is
 * signed anew (they are not part of the signing input, and the caller's
 * stay the caller's to free), then put back. */
struct envelope_sigfields {
	ProtobufCBinaryData sig;
	uint32_t size, index;
	size_t n_path;
	ProtobufCBinaryData *path;
};
void envelope_sig_take(Overstap__Envelope *e, struct envelope_sigfields *keep);
void envelope_sig_put(Overstap__Envelope *e, const struct envelope_sigfields *keep);

/* Pack e as it stands into a malloc'ed *out. 0 or -ENOMEM. */
int envelope_pack_alloc(const Overstap__Envelope *e, uint8_t **out, size_t *len);

/* NULL when e's batch fields have a shape its signature could cover: none
 * (v1), or a group of at most ENVELOPE_GROUP_MAX, an index inside it and a
 * path of exactly the length those two call for, of 32-byte hashes; else
 * the reason (static). Hashes nothing. */
const char *envelope_batch_shape(const Overstap__Envelope *e);

/* A batch-signed e (batch_size > 0) verified: 0 or -EBADMSG. */
int envelope_batch_verify(const Overstap__Envelope *e, crypto_sigkey *key);

#endif

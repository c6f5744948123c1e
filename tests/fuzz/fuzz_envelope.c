/* libFuzzer target: everything a peer's bytes reach before they are trusted —
 * the envelope header checks, the signature check, and the Handover, Ack,
 * Withdrawal, ErasureReceipt and AuditCheckpoint body checks. Must never
 * crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static crypto_sigkey *key;
	Overstap__Envelope *e = NULL;
	Overstap__Handover *h = NULL;
	Overstap__Ack *a = NULL;
	Overstap__Withdrawal *w = NULL;
	Overstap__ErasureReceipt *rc = NULL;
	Overstap__AuditCheckpoint *cp = NULL;
	ProtobufCBinaryData raw = { size, (uint8_t *)data };
	const char *why = NULL;

	if (!key) {
		uint8_t pub[32];
		memset(pub, 0x42, sizeof(pub));
		key = crypto_sigkey_new_public(pub);
	}
	/* The raw bytes as a body too: the body decoders see peer bytes directly. */
	if (envelope_handover_unpack(&raw, &h, &why) == 0)
		overstap__handover__free_unpacked(h, NULL);
	if (envelope_ack_unpack(&raw, &a, &why) == 0)
		overstap__ack__free_unpacked(a, NULL);
	if (envelope_withdrawal_unpack(&raw, &w, &why) == 0)
		overstap__withdrawal__free_unpacked(w, NULL);
	if (envelope_receipt_unpack(&raw, &rc, &why) == 0)
		overstap__erasure_receipt__free_unpacked(rc, NULL);
	if (envelope_checkpoint_unpack(&raw, &cp, &why) == 0)
		overstap__audit_checkpoint__free_unpacked(cp, NULL);
	if (envelope_unpack(data, size, 1 << 20, &e, &why) < 0)
		return 0;
	if (key)
		(void)envelope_verify(e, key);
	if (e->body_case == OVERSTAP__ENVELOPE__BODY_HANDOVER &&
	    envelope_handover_unpack(envelope_body(e), &h, &why) == 0)
		overstap__handover__free_unpacked(h, NULL);
	if (e->body_case == OVERSTAP__ENVELOPE__BODY_ACK &&
	    envelope_ack_unpack(envelope_body(e), &a, &why) == 0)
		overstap__ack__free_unpacked(a, NULL);
	if (e->body_case == OVERSTAP__ENVELOPE__BODY_WITHDRAWAL &&
	    envelope_withdrawal_unpack(envelope_body(e), &w, &why) == 0)
		overstap__withdrawal__free_unpacked(w, NULL);
	if (e->body_case == OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT &&
	    envelope_receipt_unpack(envelope_body(e), &rc, &why) == 0)
		overstap__erasure_receipt__free_unpacked(rc, NULL);
	if (e->body_case == OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT &&
	    envelope_checkpoint_unpack(envelope_body(e), &cp, &why) == 0)
		overstap__audit_checkpoint__free_unpacked(cp, NULL);
	overstap__envelope__free_unpacked(e, NULL);
	return 0;
}

/* rx: the receive table (see rx.h). */
#include "rx_int.h"
#include "log.h"

#include <stdio.h>

/* A Hello says which software and protocol the peer runs; nothing to store
 * and nothing to answer. */
static const char *s_hello(struct hctx *h, const struct rx_msg *m, int *failed)
{
	(void)h;
	(void)failed;
	log_info("peer %s: hello", m->e->sender);
	return NULL;
}

static const struct rx_row s_rows[] = {
	{ OVERSTAP__ENVELOPE__BODY_HELLO, 0, 0, s_hello, NULL, NULL },
	{ OVERSTAP__ENVELOPE__BODY_HANDOVER, 1, 1, rx_handover, rx_handover_prep, rx_handover_prep_free },
	{ OVERSTAP__ENVELOPE__BODY_STATUS, 1, 1, rx_status, NULL, NULL },
	{ OVERSTAP__ENVELOPE__BODY_OUTCOME, 1, 1, rx_outcome, NULL, NULL },
	{ OVERSTAP__ENVELOPE__BODY_REGISTRATION, 1, 1, rx_registration, NULL, NULL },
	{ OVERSTAP__ENVELOPE__BODY_WITHDRAWAL, 1, 1, rx_withdrawal, NULL, NULL },
	{ OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT, 1, 1, rx_receipt, NULL, NULL },
	{ OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE, 1, 1, rx_notice, NULL, NULL },
	{ OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, 1, 1, rx_checkpoint, NULL, NULL },
};

const struct rx_row *rx_find(Overstap__Envelope__BodyCase body)
{
	for (size_t i = 0; i < sizeof(s_rows) / sizeof(s_rows[0]); i++)
		if (s_rows[i].body == body)
			return &s_rows[i];
	return NULL;
}

const char *rx_actor(const char *sender, char buf[16])
{
	snprintf(buf, 16, "peer:%s", sender);
	return buf;
}

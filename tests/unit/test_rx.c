/* Unit tests for rx.c and rx_handover.c: the receive table (every body a
 * daemon receives has a row, and what each row promises the transport), and
 * a dossier arriving at the MBO: stored with its signature as evidence,
 * refused on its legal basis with the exact reason and audited, idempotent
 * on a retry, refused under another message id, refused when malformed, and
 * a store failure that is not mistaken for success. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rx_fixture.h"
#include "rx_int.h"

/* ---- the table ---- */

static void test_table_covers_every_body(void **state)
{
	const ProtobufCMessageDescriptor *d = &overstap__envelope__descriptor;
	unsigned bodies = 0;

	(void)state;
	/* every field of the Envelope's oneof is a body the protocol defines */
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const struct rx_row *row;

		if (!(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		bodies++;
		row = rx_find((Overstap__Envelope__BodyCase)fd->id);
		if (fd->id == OVERSTAP__ENVELOPE__BODY_ACK) {
			/* an Ack answers on the DEALER; it is never a received message */
			assert_null(row);
			continue;
		}
		if (!row)
			fail_msg("body %s (%u) has no row in the receive table", fd->name, fd->id);
		assert_int_equal(row->body, fd->id);
		assert_non_null(row->fn);
		if (fd->id == OVERSTAP__ENVELOPE__BODY_HELLO) {
			assert_int_equal(row->acked, 0);
			assert_int_equal(row->needs_tx, 0);
		} else {
			assert_int_equal(row->acked, 1);
			assert_int_equal(row->needs_tx, 1);
		}
	}
	assert_int_equal(bodies, 10);	/* Hello .. ConsentNotice, §4.4 */
	assert_null(rx_find(OVERSTAP__ENVELOPE__BODY__NOT_SET));
	assert_null(rx_find((Overstap__Envelope__BodyCase)99));
}

static void test_table_handlers(void **state)
{
	static const struct {
		Overstap__Envelope__BodyCase body;
		rx_fn fn;
	} want[] = {
		{ OVERSTAP__ENVELOPE__BODY_HANDOVER, rx_handover },
		{ OVERSTAP__ENVELOPE__BODY_STATUS, rx_status },
		{ OVERSTAP__ENVELOPE__BODY_OUTCOME, rx_outcome },
		{ OVERSTAP__ENVELOPE__BODY_REGISTRATION, rx_registration },
		{ OVERSTAP__ENVELOPE__BODY_WITHDRAWAL, rx_withdrawal },
		{ OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT, rx_receipt },
		{ OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE, rx_notice },
		{ OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, rx_checkpoint },
	};
	char buf[16];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_ptr_equal(rx_find(want[i].body)->fn, want[i].fn);
	assert_string_equal(rx_actor(FX_MBO, buf), "peer:" FX_MBO);
}

/* A Hello is logged, nothing stored, nothing failed. */
static void test_hello(void **state)
{
	struct fx *f = *state;
	Overstap__Hello m = OVERSTAP__HELLO__INIT;
	struct fx_wire w = { 0 };
	unsigned before = fx_audit_total(&f->mbo);
	int failed = 1;

	m.software = "overstapd test";
	m.max_protocol = 1;
	fx_forge(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_HELLO, &m.base, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(fx_audit_total(&f->mbo), before);
	fx_wire_free(&w);
}

/* ---- a dossier arrives ---- */

static void test_handover_statute_stored(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], held_by[7] = "", detail[1024];
	struct fx_wire w = { 0 };
	struct leaver l;
	struct inbox_row row;
	uint8_t *packed = NULL;
	size_t len = 0;
	int failed = 1, erased = -1;

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_handover(f, &l, "statute", 0, NULL, 0, rec, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);

	assert_int_equal(fx_inbox_count(&f->mbo), 1);
	assert_int_equal(store_inbox_state(f->mbo.s, rec, held_by, &erased), 0);
	assert_string_equal(held_by, FX_SCHOOL);
	assert_int_equal(erased, 0);
	/* kept as it came, signature included: evidence of origin */
	assert_int_equal(store_inbox_get(f->mbo.s, rec, &row, &packed, &len), 0);
	assert_string_equal(row.message_id, w.mid);
	assert_string_equal(row.cohort, "2024-2025");
	assert_int_equal(len, w.len);
	assert_memory_equal(packed, w.packed, len);
	free(packed);

	assert_int_equal(fx_audits(&f->mbo, "dossier.received", rec, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "\"statute\""));
	assert_int_equal(fx_audits(&f->mbo, "dossier.refused", NULL, NULL, 0), 0);
	store_leaver_clear(&l);
	fx_wire_free(&w);
}

/* The handler without its prep (rx.h: a prep that could not run) stores
 * what it does with one: the dossier as it came, counted, audited with the
 * same detail, found by the same pseudonym of the PGN. */
static void test_handover_without_prep(void **state)
{
	struct fx *f = *state;
	char rec[2][CRYPTO_UUID_STR_LEN + 1], detail[2][1024];
	struct fx_wire w[2];
	struct leaver l[2];
	struct strlist ids = { 0 };
	struct inbox_row row;
	uint8_t *packed = NULL;
	size_t len = 0;
	int failed = 1;

	memset(w, 0, sizeof(w));
	fx_import(f, "P1", FX_PGN, FX_MBO, &l[0]);
	fx_import(f, "P2", FX_PGN2, FX_MBO, &l[1]);
	for (int i = 0; i < 2; i++) {
		fx_handover(f, &l[i], "statute", 0, NULL, 0, rec[i], &w[i]);
		assert_null(fx_rx_ex(&f->mbo, &w[i], &failed, i));	/* 0: without */
		assert_int_equal(failed, 0);
		assert_int_equal(store_inbox_get(f->mbo.s, rec[i], &row, &packed, &len), 0);
		assert_int_equal(len, w[i].len);
		assert_memory_equal(packed, w[i].packed, len);
		free(packed);
		assert_int_equal(fx_audits(&f->mbo, "dossier.received", rec[i], detail[i],
					   sizeof(detail[i])), 1);
		store_leaver_clear(&l[i]);
	}
	assert_string_equal(detail[0], detail[1]);
	assert_int_equal(fx_inbox_count(&f->mbo), 2);
	/* fx_handover sends FX_PGN for every leaver: one pseudonym, both ways */
	assert_int_equal(store_inbox_by_pgn(f->mbo.s, FX_PGN, &ids), 0);
	assert_int_equal(ids.n, 2);
	assert_string_equal(ids.v[0], rec[0]);
	assert_string_equal(ids.v[1], rec[1]);
	strlist_clear(&ids);
	for (int i = 0; i < 2; i++)
		fx_wire_free(&w[i]);
}

/* design.md §4.3: dossiers signed as one group are stored as they came,
 * path and all, and each inbox row verifies later by itself: with nothing
 * but its stored bytes and the sender's public key, no root cache. */
static void test_handover_batch_signed_evidence(void **state)
{
	struct fx *f = *state;
	char rec[2][CRYPTO_UUID_STR_LEN + 1];
	struct fx_wire w[2] = { 0 };
	struct leaver l[2];
	const uint8_t *in[2];
	size_t len[2], glen[2], slen = 0;
	uint8_t *grouped[2], *stored = NULL;
	struct inbox_row row;
	int failed = 1;

	fx_import(f, "P1", FX_PGN, FX_MBO, &l[0]);
	fx_import(f, "P2", FX_PGN2, FX_MBO, &l[1]);
	for (size_t i = 0; i < 2; i++) {
		fx_handover(f, &l[i], "statute", 0, NULL, 0, rec[i], &w[i]);
		in[i] = w[i].packed;
		len[i] = w[i].len;
	}
	assert_int_equal(envelope_resign_group(in, len, 2, f->school.keys.signer, grouped, glen), 0);
	for (size_t i = 0; i < 2; i++) {
		free(w[i].packed);
		w[i].packed = grouped[i];
		w[i].len = glen[i];
		assert_null(fx_rx(&f->mbo, &w[i], &failed));
		assert_int_equal(failed, 0);
	}
	assert_int_equal(fx_inbox_count(&f->mbo), 2);
	for (size_t i = 0; i < 2; i++) {
		crypto_sigkey *pub = crypto_sigkey_new_public(f->mbo.peer.sign_public);
		Overstap__Envelope *e = NULL;
		const char *why = NULL;

		assert_int_equal(store_inbox_get(f->mbo.s, rec[i], &row, &stored, &slen), 0);
		assert_int_equal(slen, w[i].len);
		assert_memory_equal(stored, w[i].packed, slen);
		assert_int_equal(envelope_unpack(stored, slen, 1 << 20, &e, &why), 0);
		assert_int_equal(e->batch_size, 2);
		envelope_root_cache_clear();
		assert_int_equal(envelope_verify(e, pub), 0);
		e->batch_path[0].data[0] ^= 1;	/* and not with its path changed */
		assert_int_equal(envelope_verify(e, pub), -EBADMSG);
		overstap__envelope__free_unpacked(e, NULL);
		crypto_sigkey_free(&pub);
		free(stored);
		store_leaver_clear(&l[i]);
		fx_wire_free(&w[i]);
	}
}

/* Deliver a handover of basis/notes/consents and expect it refused with
 * want, audited, and nothing stored. */
static void s_refused(struct fx *f, const char *basis, int notes,
		      const struct consent *ks, size_t n, struct leaver *l, const char *want)
{
	char rec[CRYPTO_UUID_STR_LEN + 1], detail[1024];
	struct fx_wire w = { 0 };
	const char *why;
	int failed = 1;

	fx_handover(f, l, basis, notes, ks, n, rec, &w);
	why = fx_rx(&f->mbo, &w, &failed);
	assert_int_equal(failed, 0);
	assert_non_null(why);
	assert_string_equal(why, want);
	assert_int_equal(fx_inbox_count(&f->mbo), 0);
	assert_int_equal(fx_audits(&f->mbo, "dossier.refused", rec, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, want));
	assert_int_equal(fx_audits(&f->mbo, "dossier.received", NULL, NULL, 0), 0);
	fx_wire_free(&w);
}

static void test_handover_consent_basis_needs_assertion(void **state)
{
	struct fx *f = *state;
	struct leaver l[4];
	struct consent k[3];

	/* no assertion at all */
	fx_import(f, "P1", FX_PGN, FX_MBO, &l[0]);
	s_refused(f, "consent", 0, NULL, 0, &l[0],
		  "handover under consent without a valid consent assertion");
	/* a handover consent, but for another institution */
	fx_import(f, "P2", FX_PGN2, FX_MBO, &l[1]);
	fx_consent(f, &l[1], CONSENT_PURPOSE_HANDOVER, FX_OTHER, &k[0]);
	s_refused(f, "consent", 0, &k[0], 1, &l[1],
		  "handover under consent without a valid consent assertion");
	/* for us, but a follow_up consent; and an expired handover one */
	fx_import(f, "P3", "100000009", FX_MBO, &l[2]);
	fx_consent(f, &l[2], CONSENT_PURPOSE_FOLLOW_UP, FX_MBO, &k[1]);
	fx_consent(f, &l[2], CONSENT_PURPOSE_HANDOVER, FX_MBO, &k[2]);
	str_copy(k[2].valid_until, sizeof(k[2].valid_until), "2025-02-01");
	s_refused(f, "consent", 0, &k[1], 2, &l[2],
		  "handover under consent without a valid consent assertion");
	/* an unknown basis */
	fx_import(f, "P4", "100000010", FX_MBO, &l[3]);
	s_refused(f, "contract", 0, NULL, 0, &l[3], "handover with an unknown legal basis");
	for (int i = 0; i < 4; i++)
		store_leaver_clear(&l[i]);
}

static void test_handover_care_notes_need_consent(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct fx_wire w = { 0 };
	struct leaver l, l2;
	struct consent k[2];
	int failed = 1;

	/* statute, notes, only a follow_up consent asserted */
	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, FX_MBO, &k[0]);
	s_refused(f, "statute", 1, k, 1, &l, "free-text care notes without a handover consent");

	/* the same with a handover consent for "*": accepted, notes and all */
	fx_import(f, "P2", FX_PGN2, FX_MBO, &l2);
	fx_consent(f, &l2, CONSENT_PURPOSE_HANDOVER, CONSENT_ANY, &k[1]);
	fx_handover(f, &l2, "statute", 1, &k[1], 1, rec, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(fx_inbox_count(&f->mbo), 1);
	assert_int_equal(fx_audits(&f->mbo, "dossier.received", rec, NULL, 0), 1);
	store_leaver_clear(&l);
	store_leaver_clear(&l2);
	fx_wire_free(&w);
}

/* The same message again (the ack was lost) is accepted again and stores
 * nothing twice; another message with that record id is refused. */
static void test_handover_idempotent_and_duplicate_record(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct fx_wire w = { 0 }, dup = { 0 };
	Overstap__Envelope *e = NULL;
	struct leaver l;
	unsigned audits;
	int failed = 1;

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_handover(f, &l, "statute", 0, NULL, 0, rec, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	audits = fx_audit_total(&f->mbo);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(fx_inbox_count(&f->mbo), 1);
	assert_int_equal(fx_audits(&f->mbo, "dossier.received", rec, NULL, 0), 1);
	assert_int_equal(fx_audit_total(&f->mbo), audits);

	/* the same body, signed again under a new message id */
	assert_int_equal(envelope_unpack(w.packed, w.len, 1 << 20, &e, NULL), 0);
	fx_forge_raw(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_HANDOVER, e->handover.data,
		     e->handover.len, &dup);
	assert_string_not_equal(dup.mid, w.mid);
	assert_string_equal(fx_rx(&f->mbo, &dup, &failed), "record id already received in another message");
	assert_int_equal(failed, 0);
	assert_int_equal(fx_inbox_count(&f->mbo), 1);
	assert_int_equal(fx_audits(&f->mbo, "dossier.received", rec, NULL, 0), 1);
	overstap__envelope__free_unpacked(e, NULL);
	store_leaver_clear(&l);
	fx_wire_free(&w);
	fx_wire_free(&dup);
}

static void test_handover_malformed(void **state)
{
	struct fx *f = *state;
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0x01 };
	Overstap__Handover ho = OVERSTAP__HANDOVER__INIT;
	struct fx_wire w = { 0 };
	unsigned audits = fx_audit_total(&f->mbo);
	const char *why;
	int failed = 1;

	fx_forge_raw(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_HANDOVER, junk, sizeof(junk), &w);
	why = fx_rx(&f->mbo, &w, &failed);
	assert_non_null(why);
	assert_string_equal(why, "handover body does not decode");
	assert_int_equal(failed, 0);
	fx_wire_free(&w);

	ho.record_id = "not-a-uuid";
	ho.basis = "statute";
	ho.birth_date = "2008-02-29";
	ho.exit_date = "2025-07-04";
	fx_forge(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_HANDOVER, &ho.base, &w);
	assert_string_equal(fx_rx(&f->mbo, &w, &failed), "handover record id is not a UUID");
	fx_wire_free(&w);

	ho.record_id = "01890a5d-0000-7000-8000-000000000001";
	ho.birth_date = "2008-02-30";
	fx_forge(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_HANDOVER, &ho.base, &w);
	assert_string_equal(fx_rx(&f->mbo, &w, &failed), "handover date malformed");
	fx_wire_free(&w);

	assert_int_equal(fx_inbox_count(&f->mbo), 0);
	assert_int_equal(fx_audit_total(&f->mbo), audits);
}

/* The store fails under the handler: it says so, the batch is rolled back,
 * and the sender will retry; once the store works, the retry is applied. */
static void test_handover_store_failure(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct fx_wire w = { 0 };
	struct leaver l;
	int failed = 0;

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_handover(f, &l, "statute", 0, NULL, 0, rec, &w);
	fx_sql(&f->mbo, "CREATE TRIGGER inbox_broken BEFORE INSERT ON inbox"
			" BEGIN SELECT * FROM no_such_table; END;");
	fx_rx(&f->mbo, &w, &failed);
	assert_int_equal(failed, 1);
	assert_int_equal(fx_inbox_count(&f->mbo), 0);	/* rolled back with the batch */
	assert_int_equal(fx_audits(&f->mbo, "dossier.received", NULL, NULL, 0), 0);

	fx_sql(&f->mbo, "DROP TRIGGER inbox_broken;");
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(fx_inbox_count(&f->mbo), 1);
	assert_int_equal(fx_audits(&f->mbo, "dossier.received", rec, NULL, 0), 1);
	store_leaver_clear(&l);
	fx_wire_free(&w);
}

/* A store failure while refusing: the refusal's audit entry could not be
 * written, so the refusal is not final either. */
static void test_handover_refusal_audit_fails(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct fx_wire w = { 0 };
	struct leaver l;
	int failed = 0;

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_handover(f, &l, "consent", 0, NULL, 0, rec, &w);
	fx_sql(&f->mbo, "CREATE TRIGGER audit_broken BEFORE INSERT ON audit"
			" BEGIN SELECT * FROM no_such_table; END;");
	fx_rx(&f->mbo, &w, &failed);
	assert_int_equal(failed, 1);
	fx_sql(&f->mbo, "DROP TRIGGER audit_broken;");
	assert_int_equal(fx_audits(&f->mbo, "dossier.refused", NULL, NULL, 0), 0);
	store_leaver_clear(&l);
	fx_wire_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_covers_every_body),
		cmocka_unit_test(test_table_handlers),
		cmocka_unit_test_setup_teardown(test_hello, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_handover_without_prep, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_handover_statute_stored, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_handover_batch_signed_evidence, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_handover_consent_basis_needs_assertion, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_handover_care_notes_need_consent, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_handover_idempotent_and_duplicate_record, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_handover_malformed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_handover_store_failure, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_handover_refusal_audit_fails, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

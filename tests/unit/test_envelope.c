/* Unit tests for envelope.c: signing, the receiving side's limits and checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

struct fx {
	uint8_t seed[32], pub[32], other_seed[32], other_pub[32];
	crypto_sigkey *signer, *verify, *other_verify;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(crypto_sign_keygen(f->seed, f->pub), 0);
	assert_int_equal(crypto_sign_keygen(f->other_seed, f->other_pub), 0);
	f->signer = crypto_sigkey_new_private(f->seed);
	f->verify = crypto_sigkey_new_public(f->pub);
	f->other_verify = crypto_sigkey_new_public(f->other_pub);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	crypto_sigkey_free(&f->signer);
	crypto_sigkey_free(&f->verify);
	crypto_sigkey_free(&f->other_verify);
	free(f);
	return 0;
}

static void s_build(struct fx *f, const uint8_t *body, size_t blen, uint8_t **out, size_t *len)
{
	char id[CRYPTO_UUID_STR_LEN + 1];

	assert_int_equal(envelope_build("12AB00", "25LZ00", OVERSTAP__ENVELOPE__BODY_HANDOVER, body, blen,
					f->signer, id, out, len), 0);
	assert_true(crypto_uuid_valid(id));
}

static void test_round_trip_and_signature(void **state)
{
	struct fx *f = *state;
	uint8_t body[] = "dossier bytes", *buf = NULL;
	size_t len = 0;
	Overstap__Envelope *e = NULL;
	const char *why = NULL;

	s_build(f, body, sizeof(body), &buf, &len);
	assert_int_equal(envelope_unpack(buf, len, 1 << 20, &e, &why), 0);
	assert_string_equal(e->sender, "12AB00");
	assert_string_equal(e->recipient, "25LZ00");
	assert_int_equal(e->version, ENVELOPE_VERSION);
	assert_int_equal(e->body_case, OVERSTAP__ENVELOPE__BODY_HANDOVER);
	assert_memory_equal(envelope_body(e)->data, body, sizeof(body));
	assert_int_equal(envelope_verify(e, f->verify), 0);
	/* Another institution's key does not verify it. */
	assert_int_equal(envelope_verify(e, f->other_verify), -EBADMSG);
	/* The signature binds the body, the message id and the parties. */
	envelope_body(e)->data[0] ^= 1;
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	envelope_body(e)->data[0] ^= 1;
	e->message_id[35] = e->message_id[35] == '0' ? '1' : '0';
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	overstap__envelope__free_unpacked(e, NULL);
	assert_int_equal(envelope_unpack(buf, len, 1 << 20, &e, &why), 0);
	e->recipient[0] = '9';
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	overstap__envelope__free_unpacked(e, NULL);
	free(buf);
}

/* Pack an envelope with fields set by the test (not signed properly). */
static uint8_t *s_pack(Overstap__Envelope *e, size_t *len)
{
	uint8_t *buf;

	*len = overstap__envelope__get_packed_size(e);
	buf = malloc(*len + 1);
	overstap__envelope__pack(e, buf);
	return buf;
}

static void s_expect_reject(const uint8_t *buf, size_t len, int code, const char *why_part)
{
	Overstap__Envelope *e = NULL;
	const char *why = NULL;

	assert_int_equal(envelope_unpack(buf, len, 1 << 20, &e, &why), code);
	assert_null(e);
	assert_non_null(why);
	assert_non_null(strstr(why, why_part));
}

static void test_header_checks(void **state)
{
	uint8_t sig[64] = { 0 }, body[4] = { 1, 2, 3, 4 }, *buf;
	char id[] = "01890a5d-ac96-774b-bcce-b302099a8057", sender[] = "12AB00", rcpt[] = "25LZ00";
	Overstap__Envelope e;
	size_t len;

	(void)state;
	overstap__envelope__init(&e);
	e.version = 1;
	e.message_id = id;
	e.sender = sender;
	e.recipient = rcpt;
	e.body_case = OVERSTAP__ENVELOPE__BODY_HANDOVER;
	e.handover.data = body;
	e.handover.len = sizeof(body);
	e.signature.data = sig;
	e.signature.len = sizeof(sig);

	e.version = 2;
	buf = s_pack(&e, &len);
	s_expect_reject(buf, len, -EPROTO, "version");
	free(buf);
	e.version = 1;

	e.message_id = "not-a-uuid";
	buf = s_pack(&e, &len);
	s_expect_reject(buf, len, -EBADMSG, "UUID");
	free(buf);
	e.message_id = id;

	e.sender = "12ab00";	/* lower case is not an institution id */
	buf = s_pack(&e, &len);
	s_expect_reject(buf, len, -EBADMSG, "institution");
	free(buf);
	e.sender = sender;

	e.signature.len = 10;
	buf = s_pack(&e, &len);
	s_expect_reject(buf, len, -EBADMSG, "signature");
	free(buf);
	e.signature.len = 64;

	e.body_case = OVERSTAP__ENVELOPE__BODY__NOT_SET;
	buf = s_pack(&e, &len);
	s_expect_reject(buf, len, -EBADMSG, "body");
	free(buf);
}

static void test_size_cap_and_garbage(void **state)
{
	struct fx *f = *state;
	uint8_t *body = calloc(1, 5000), *buf = NULL, junk[300];
	size_t len = 0;
	Overstap__Envelope *e = NULL;
	const char *why = NULL;

	s_build(f, body, 5000, &buf, &len);
	/* Over the cap: refused before it is even unpacked. */
	assert_int_equal(envelope_unpack(buf, len, 4096, &e, &why), -EMSGSIZE);
	assert_null(e);
	/* Truncated and random input never decodes into an accepted envelope. */
	for (size_t cut = 0; cut < len; cut += 97) {
		int r = envelope_unpack(buf, cut, 1 << 20, &e, &why);
		assert_true(r < 0);
	}
	srand(7);
	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(junk));
		for (size_t k = 0; k < n; k++)
			junk[k] = (uint8_t)rand();
		if (envelope_unpack(junk, n, 1 << 20, &e, &why) == 0) {
			/* Vanishingly unlikely, but if it parses it must not verify. */
			assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
			overstap__envelope__free_unpacked(e, NULL);
			e = NULL;
		}
	}
	free(body);
	free(buf);
}

static ProtobufCBinaryData s_pack_handover(Overstap__Handover *h)
{
	ProtobufCBinaryData b;

	b.len = overstap__handover__get_packed_size(h);
	b.data = malloc(b.len + 1);
	overstap__handover__pack(h, b.data);
	return b;
}

static void s_handover_base(Overstap__Handover *h)
{
	overstap__handover__init(h);
	h->record_id = "01890a5d-ac96-774b-bcce-b302099a8057";
	h->pgn = "123456782";
	h->given_name = "Noah";
	h->family_name = "Visser";
	h->birth_date = "2008-02-29";
	h->cohort = "2024-2025";
	h->exit_date = "2025-07-04";
}

static void s_handover_expect(Overstap__Handover *h, int ok, const char *why_part)
{
	ProtobufCBinaryData b = s_pack_handover(h);
	Overstap__Handover *out = NULL;
	const char *why = NULL;
	int r = envelope_handover_unpack(&b, &out, &why);

	if (ok) {
		assert_int_equal(r, 0);
		assert_string_equal(out->given_name, h->given_name);
		overstap__handover__free_unpacked(out, NULL);
	} else {
		assert_int_equal(r, -EBADMSG);
		assert_null(out);
		assert_non_null(strstr(why, why_part));
	}
	free(b.data);
}

static void test_handover_limits(void **state)
{
	Overstap__Handover h;
	Overstap__SupportNeed need = OVERSTAP__SUPPORT_NEED__INIT, *needs[ENV_MAX_SUPPORT_NEEDS + 1];
	char *long_name = malloc(ENV_MAX_TEXT + 2);

	(void)state;
	s_handover_base(&h);
	s_handover_expect(&h, 1, NULL);

	h.record_id = "42";
	s_handover_expect(&h, 0, "record id");
	s_handover_base(&h);

	memset(long_name, 'a', ENV_MAX_TEXT + 1);
	long_name[ENV_MAX_TEXT + 1] = '\0';
	h.given_name = long_name;
	s_handover_expect(&h, 0, "too long");
	long_name[ENV_MAX_TEXT] = '\0';	/* exactly at the limit is fine */
	s_handover_expect(&h, 1, NULL);
	s_handover_base(&h);

	h.birth_date = "2007-02-29";	/* not a leap year */
	s_handover_expect(&h, 0, "date");
	s_handover_base(&h);

	need.code = "job_coach";
	need.note = "";
	for (int i = 0; i <= ENV_MAX_SUPPORT_NEEDS; i++)
		needs[i] = &need;
	h.support_needs = needs;
	h.n_support_needs = ENV_MAX_SUPPORT_NEEDS;
	s_handover_expect(&h, 1, NULL);
	h.n_support_needs = ENV_MAX_SUPPORT_NEEDS + 1;
	s_handover_expect(&h, 0, "support needs");
	free(long_name);
}

static void test_ack_limits(void **state)
{
	Overstap__Ack a = OVERSTAP__ACK__INIT;
	char *ids[2] = { "01890a5d-ac96-774b-bcce-b302099a8057", "nope" };
	Overstap__Ack *out = NULL;
	const char *why = NULL;
	ProtobufCBinaryData b;

	(void)state;
	a.message_ids = ids;
	a.n_message_ids = 1;
	b.len = overstap__ack__get_packed_size(&a);
	b.data = malloc(b.len);
	overstap__ack__pack(&a, b.data);
	assert_int_equal(envelope_ack_unpack(&b, &out, &why), 0);
	assert_int_equal(out->n_message_ids, 1);
	overstap__ack__free_unpacked(out, NULL);
	free(b.data);

	a.n_message_ids = 2;
	b.len = overstap__ack__get_packed_size(&a);
	b.data = malloc(b.len);
	overstap__ack__pack(&a, b.data);
	assert_int_equal(envelope_ack_unpack(&b, &out, &why), -EBADMSG);
	assert_non_null(strstr(why, "malformed"));
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_and_signature, setup, teardown),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test_setup_teardown(test_size_cap_and_garbage, setup, teardown),
		cmocka_unit_test(test_handover_limits),
		cmocka_unit_test(test_ack_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for envelope.c: signing, the receiving side's limits and checks,
 * and a table per body check (Withdrawal, ErasureReceipt, AuditCheckpoint). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "util.h"

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

/* Network text is held to the CSV import's rule (util.h text_check), and the
 * reason names the field as the import names the column. */
static void test_handover_text(void **state)
{
	Overstap__Handover h;
	Overstap__Inzage inz = OVERSTAP__INZAGE__INIT;
	Overstap__MentorContact m = OVERSTAP__MENTOR_CONTACT__INIT;
	Overstap__SupportNeed need = OVERSTAP__SUPPORT_NEED__INIT, *needs[1] = { &need };

	(void)state;
	s_handover_base(&h);
	h.given_name = "Ann\xe2\x80\xae" "gpj.exe";		/* U+202E */
	s_handover_expect(&h, 0, "handover given_name: contains a bidirectional override or isolate");
	h.given_name = "No\xe2\x81\xa6" "ah";			/* U+2066 */
	s_handover_expect(&h, 0, "handover given_name: contains a bidirectional override or isolate");
	h.given_name = "\x1b[2JNoah";				/* ESC */
	s_handover_expect(&h, 0, "handover given_name: contains a control character");
	h.given_name = "Z\xebl";
	s_handover_expect(&h, 0, "handover given_name: not valid UTF-8");
	h.given_name = "Zo\xc3\xab";
	s_handover_expect(&h, 1, NULL);
	s_handover_base(&h);
	h.family_name = "Vis\nser";
	s_handover_expect(&h, 0, "handover family_name: contains a control character");
	s_handover_base(&h);

	m.name = "Mentor\xc2\x9b";				/* C1 CSI */
	m.email = "m@school.nl";
	m.phone = "";
	h.mentor = &m;
	s_handover_expect(&h, 0, "handover mentor name: contains a control character");
	m.name = "Mentor";
	s_handover_expect(&h, 1, NULL);
	s_handover_base(&h);

	/* remarks and notes may span lines, never carry ESC or an override */
	inz.reviewer = OVERSTAP__REVIEWER__REVIEWER_PUPIL;
	inz.reviewed_on = "2025-06-30";
	inz.recorded_by = "mentor";
	inz.remarks = "line one\r\nline two\twith a tab";
	h.inzage = &inz;
	s_handover_expect(&h, 1, NULL);
	inz.remarks = "fine\x1b]0;title\x07";
	s_handover_expect(&h, 0, "handover inzage remarks: contains a control character");
	inz.remarks = "fine\xe2\x80\xad";
	s_handover_expect(&h, 0, "handover inzage remarks: contains a bidirectional override or isolate");
	s_handover_base(&h);
	need.code = "job_coach";
	need.note = "two\nlines";
	h.support_needs = needs;
	h.n_support_needs = 1;
	s_handover_expect(&h, 1, NULL);
	need.note = "\xff";
	s_handover_expect(&h, 0, "handover support need note: not valid UTF-8");
}

/* OSO inzage rules on the wire: agrees is UNSPECIFIED (a sender that did
 * not ask), YES or NO; the view (disagreement) is free text like the remarks,
 * with their limit, and only with NO: a view beside "agrees" contradicts
 * itself and is refused. NO without a view is clear and accepted. */
static void test_handover_inzage_agreement(void **state)
{
	Overstap__Handover h;
	Overstap__Inzage inz = OVERSTAP__INZAGE__INIT;
	char *big = malloc(ENV_MAX_REMARKS + 2);

	(void)state;
	assert_non_null(big);
	s_handover_base(&h);
	inz.reviewer = OVERSTAP__REVIEWER__REVIEWER_PARENT;
	inz.reviewed_on = "2025-06-30";
	inz.recorded_by = "mentor";
	h.inzage = &inz;
	s_handover_expect(&h, 1, NULL);			/* not asked */
	inz.agrees = OVERSTAP__TRISTATE__TRI_YES;
	s_handover_expect(&h, 1, NULL);
	inz.agrees = OVERSTAP__TRISTATE__TRI_NO;
	s_handover_expect(&h, 1, NULL);			/* no, without words */
	inz.disagreement = "Het advies klopt niet.\r\nHij kan meer.";
	s_handover_expect(&h, 1, NULL);
	inz.agrees = OVERSTAP__TRISTATE__TRI_YES;
	s_handover_expect(&h, 0, "handover inzage disagreement: given although agrees is not no");
	inz.agrees = OVERSTAP__TRISTATE__TRI_UNSPECIFIED;
	s_handover_expect(&h, 0, "handover inzage disagreement: given although agrees is not no");
	inz.agrees = (Overstap__Tristate)7;			/* no such value */
	inz.disagreement = "";
	s_handover_expect(&h, 0, "inzage record malformed");
	inz.agrees = OVERSTAP__TRISTATE__TRI_NO;
	inz.disagreement = "fout\x1b]0;title\x07";
	s_handover_expect(&h, 0, "handover inzage disagreement: contains a control character");
	inz.disagreement = "fout\xe2\x80\xae";
	s_handover_expect(&h, 0,
			  "handover inzage disagreement: contains a bidirectional override or isolate");
	memset(big, 'v', ENV_MAX_REMARKS);
	big[ENV_MAX_REMARKS] = '\0';
	inz.disagreement = big;
	s_handover_expect(&h, 1, NULL);			/* at the limit */
	big[ENV_MAX_REMARKS] = 'v';
	big[ENV_MAX_REMARKS + 1] = '\0';
	s_handover_expect(&h, 0, "inzage record malformed");
	free(big);
}

/* created_at: never before 2020, at most max_clock_skew_s ahead, any age. */
static void test_time_check(void **state)
{
	const int64_t now = INT64_C(1780000000000), day = 86400;	/* 2026-05-28 */

	(void)state;
	assert_null(envelope_time_check(now, now, day));
	assert_null(envelope_time_check(now + day * 1000, now, day));	/* the boundary */
	assert_non_null(strstr(envelope_time_check(now + day * 1000 + 1, now, day), "future"));
	assert_non_null(envelope_time_check(now + 2 * day * 1000, now, day));
	assert_non_null(envelope_time_check(INT64_C(253402300799000), now, day));	/* 9999 */
	assert_non_null(envelope_time_check(INT64_MAX, now, 30 * day));
	/* old is fine (a backlog from an outbox), down to 2020-01-01 */
	assert_null(envelope_time_check(now - 400 * day * 1000, now, day));
	assert_null(envelope_time_check(ENV_MIN_CREATED_AT, now, day));
	assert_non_null(strstr(envelope_time_check(ENV_MIN_CREATED_AT - 1, now, day), "2020"));
	assert_non_null(envelope_time_check(0, now, day));
	assert_non_null(envelope_time_check(-1, now, day));
	assert_non_null(envelope_time_check(INT64_MIN, now, day));
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

/* ---- Withdrawal, ErasureReceipt, AuditCheckpoint bodies ---- */

#define UUID_A "01890a5d-ac96-774b-bcce-b302099a8057"
#define UUID_B "01890a5d-0000-7000-8000-000000000001"
#define UUID_C "01890a5d-0000-7000-8000-000000000002"

/* 17 distinct consent ids: one more than a message may carry. */
static char s_ids[ENV_MAX_CONSENTS + 1][CRYPTO_UUID_STR_LEN + 1];
static char *s_id_ptrs[ENV_MAX_CONSENTS + 1];

static void s_ids_init(void)
{
	for (int i = 0; i <= ENV_MAX_CONSENTS; i++) {
		snprintf(s_ids[i], sizeof(s_ids[i]), "01890a5d-0000-7000-8000-%012d", 100 + i);
		s_id_ptrs[i] = s_ids[i];
	}
}

/* A packed body, optionally behind an explicit empty (default-valued) field
 * that a canonical encoder never writes; the real value later in the bytes
 * wins, so only the canonical-encoding check can catch it. */
static ProtobufCBinaryData s_body(size_t len, const uint8_t *pad, size_t pad_len)
{
	ProtobufCBinaryData b;

	b.len = pad_len + len;
	b.data = malloc(b.len + 1);
	assert_non_null(b.data);
	if (pad_len)
		memcpy(b.data, pad, pad_len);
	return b;
}

static const uint8_t s_pad_str1[] = { 0x0a, 0x00 };	/* field 1, "" */
static const uint8_t s_pad_seq0[] = { 0x08, 0x00 };	/* field 1, varint 0 */
static const uint8_t s_garbage[] = { 0x0a, 0x05, 'a' };	/* length past the end */

struct wd_case {
	const char *name;
	const char *record_id, *withdrawn_on, *reason;	/* NULL: the valid default */
	const char *consent;		/* replaces consent id 1, NULL: keep */
	size_t consents;		/* how many ids, 0: two */
	int pad, garbage;
	const char *why;		/* NULL: accepted */
};

static const struct wd_case s_wd_cases[] = {
	{ .name = "valid" },
	{ .name = "reason erased", .reason = "erased" },
	{ .name = "leap day", .withdrawn_on = "2024-02-29" },
	{ .name = "16 consents", .consents = ENV_MAX_CONSENTS },
	{ .name = "one consent", .consents = 1 },
	{ .name = "padded", .pad = 1, .why = "withdrawal is not canonically encoded" },
	{ .name = "garbage", .garbage = 1, .why = "withdrawal body does not decode" },
	{ .name = "record id", .record_id = "42", .why = "withdrawal record id is not a UUID" },
	{ .name = "no record id", .record_id = "", .why = "withdrawal record id is not a UUID" },
	{ .name = "17 consents", .consents = ENV_MAX_CONSENTS + 1,
	  .why = "too many consents in a withdrawal" },
	{ .name = "consent id", .consent = "nope", .why = "withdrawal names a malformed consent id" },
	{ .name = "consent id upper case", .consent = "01890A5D-AC96-774B-BCCE-B302099A8057",
	  .why = "withdrawal names a malformed consent id" },
	{ .name = "empty consent id", .consent = "", .why = "withdrawal names a malformed consent id" },
	{ .name = "no leap day", .withdrawn_on = "2025-02-29", .why = "withdrawal date malformed" },
	{ .name = "no date", .withdrawn_on = "", .why = "withdrawal date malformed" },
	{ .name = "date format", .withdrawn_on = "29-02-2024", .why = "withdrawal date malformed" },
	{ .name = "reason", .reason = "revoked", .why = "withdrawal reason unknown" },
	{ .name = "reason case", .reason = "Withdrawn", .why = "withdrawal reason unknown" },
	{ .name = "no reason", .reason = "", .why = "withdrawal reason unknown" },
};

static void test_withdrawal_unpack(void **state)
{
	(void)state;
	s_ids_init();
	for (size_t i = 0; i < ARRAY_SIZE(s_wd_cases); i++) {
		const struct wd_case *t = &s_wd_cases[i];
		Overstap__Withdrawal w = OVERSTAP__WITHDRAWAL__INIT, *out = NULL;
		char *ids[ENV_MAX_CONSENTS + 1];
		const char *why = NULL;
		ProtobufCBinaryData b;
		int r;

		print_message("withdrawal: %s\n", t->name);
		memcpy(ids, s_id_ptrs, sizeof(ids));
		if (t->consent)
			ids[1] = (char *)t->consent;
		w.record_id = (char *)(t->record_id ? t->record_id : UUID_A);
		w.consent_ids = ids;
		w.n_consent_ids = t->consents ? t->consents : 2;
		w.withdrawn_on = (char *)(t->withdrawn_on ? t->withdrawn_on : "2025-09-01");
		w.reason = (char *)(t->reason ? t->reason : "withdrawn");
		if (t->garbage) {
			b = s_body(0, s_garbage, sizeof(s_garbage));
		} else {
			b = s_body(overstap__withdrawal__get_packed_size(&w), s_pad_str1,
				   t->pad ? sizeof(s_pad_str1) : 0);
			overstap__withdrawal__pack(&w, b.data + (t->pad ? sizeof(s_pad_str1) : 0));
		}
		r = envelope_withdrawal_unpack(&b, &out, &why);
		if (!t->why) {
			assert_int_equal(r, 0);
			assert_non_null(out);
			assert_string_equal(out->record_id, w.record_id);
			assert_int_equal(out->n_consent_ids, w.n_consent_ids);
			for (size_t k = 0; k < w.n_consent_ids; k++)
				assert_string_equal(out->consent_ids[k], ids[k]);
			assert_string_equal(out->withdrawn_on, w.withdrawn_on);
			assert_string_equal(out->reason, w.reason);
			overstap__withdrawal__free_unpacked(out, NULL);
		} else {
			assert_int_equal(r, -EBADMSG);
			assert_null(out);
			assert_non_null(why);
			assert_string_equal(why, t->why);
		}
		free(b.data);
	}
}

struct rc_case {
	const char *name;
	const char *withdrawal_id, *record_id;	/* NULL: the valid default */
	const char *consent;		/* replaces consent id 0 */
	size_t consents;		/* 0: one */
	const char *item;		/* replaces erased item 1 */
	size_t items;			/* 0: two */
	int64_t erased_at;		/* 0: a valid time ... */
	int no_time;			/* ... unless this says send 0 */
	int pad, garbage;
	const char *why;
};

static char s_item64[65], s_item65[66];

static const struct rc_case s_rc_cases[] = {
	{ .name = "valid" },
	{ .name = "16 consents and 16 items", .consents = ENV_MAX_CONSENTS, .items = ENV_MAX_CONSENTS },
	{ .name = "item of 64", .item = s_item64 },
	{ .name = "item with a count", .item = "queued_outcomes:2" },
	{ .name = "padded", .pad = 1, .why = "erasure receipt is not canonically encoded" },
	{ .name = "garbage", .garbage = 1, .why = "erasure receipt body does not decode" },
	{ .name = "withdrawal id", .withdrawal_id = "x", .why = "erasure receipt ids malformed" },
	{ .name = "no withdrawal id", .withdrawal_id = "", .why = "erasure receipt ids malformed" },
	{ .name = "record id", .record_id = UUID_A "0", .why = "erasure receipt ids malformed" },
	{ .name = "17 consents", .consents = ENV_MAX_CONSENTS + 1, .why = "erasure receipt too long" },
	{ .name = "17 items", .items = ENV_MAX_CONSENTS + 1, .why = "erasure receipt too long" },
	{ .name = "no time", .no_time = 1, .why = "erasure receipt without a time" },
	{ .name = "negative time", .erased_at = -5, .why = "erasure receipt without a time" },
	{ .name = "consent id", .consent = "nope",
	  .why = "erasure receipt names a malformed consent id" },
	{ .name = "empty item", .item = "", .why = "erasure receipt item malformed" },
	{ .name = "item of 65", .item = s_item65, .why = "erasure receipt item malformed" },
};

static void test_receipt_unpack(void **state)
{
	static char *items_base[ENV_MAX_CONSENTS + 1];

	(void)state;
	s_ids_init();
	memset(s_item64, 'x', 64);
	memset(s_item65, 'y', 65);
	for (int i = 0; i <= ENV_MAX_CONSENTS; i++)
		items_base[i] = i == 0 ? "dossier" : "care_notes";
	for (size_t i = 0; i < ARRAY_SIZE(s_rc_cases); i++) {
		const struct rc_case *t = &s_rc_cases[i];
		Overstap__ErasureReceipt m = OVERSTAP__ERASURE_RECEIPT__INIT, *out = NULL;
		char *ids[ENV_MAX_CONSENTS + 1], *items[ENV_MAX_CONSENTS + 1];
		const char *why = NULL;
		ProtobufCBinaryData b;
		int r;

		print_message("erasure receipt: %s\n", t->name);
		memcpy(ids, s_id_ptrs, sizeof(ids));
		memcpy(items, items_base, sizeof(items));
		if (t->consent)
			ids[0] = (char *)t->consent;
		if (t->item)
			items[1] = (char *)t->item;
		m.withdrawal_id = (char *)(t->withdrawal_id ? t->withdrawal_id : UUID_B);
		m.record_id = (char *)(t->record_id ? t->record_id : UUID_A);
		m.consent_ids = ids;
		m.n_consent_ids = t->consents ? t->consents : 1;
		m.erased = items;
		m.n_erased = t->items ? t->items : 2;
		m.erased_at = t->no_time ? 0 : t->erased_at ? t->erased_at : 1756713600123;
		if (t->garbage) {
			b = s_body(0, s_garbage, sizeof(s_garbage));
		} else {
			b = s_body(overstap__erasure_receipt__get_packed_size(&m), s_pad_str1,
				   t->pad ? sizeof(s_pad_str1) : 0);
			overstap__erasure_receipt__pack(&m, b.data + (t->pad ? sizeof(s_pad_str1) : 0));
		}
		r = envelope_receipt_unpack(&b, &out, &why);
		if (!t->why) {
			assert_int_equal(r, 0);
			assert_non_null(out);
			assert_string_equal(out->withdrawal_id, m.withdrawal_id);
			assert_string_equal(out->record_id, m.record_id);
			assert_int_equal(out->n_consent_ids, m.n_consent_ids);
			for (size_t k = 0; k < m.n_consent_ids; k++)
				assert_string_equal(out->consent_ids[k], ids[k]);
			assert_int_equal(out->erased_at, m.erased_at);
			assert_int_equal(out->n_erased, m.n_erased);
			for (size_t k = 0; k < m.n_erased; k++)
				assert_string_equal(out->erased[k], items[k]);
			overstap__erasure_receipt__free_unpacked(out, NULL);
		} else {
			assert_int_equal(r, -EBADMSG);
			assert_null(out);
			assert_non_null(why);
			assert_string_equal(why, t->why);
		}
		free(b.data);
	}
}

/* Every field given in every row: the table is the whole message. */
struct cp_case {
	const char *name;
	uint64_t seq;
	size_t head_len;
	uint64_t yours_seq;
	size_t yours_head_len;
	int64_t yours_at;
	int pad, garbage;
	const char *why;
};

#define CP_HEAD "audit checkpoint head malformed"

static const struct cp_case s_cp_cases[] = {
	{ "first contact", 5, 32, 0, 0, 0, 0, 0, NULL },
	{ "with yours", 5, 32, 3, 32, 1756713600000, 0, 0, NULL },
	{ "empty chain", 0, 32, 0, 0, 0, 0, 0, NULL },
	{ "largest seq", INT64_MAX, 32, INT64_MAX, 32, 1, 0, 0, NULL },
	{ "padded", 5, 32, 0, 0, 0, 1, 0, "audit checkpoint is not canonically encoded" },
	{ "garbage", 0, 0, 0, 0, 0, 0, 1, "audit checkpoint body does not decode" },
	{ "head 31", 5, 31, 0, 0, 0, 0, 0, CP_HEAD },
	{ "head 33", 5, 33, 0, 0, 0, 0, 0, CP_HEAD },
	{ "no head", 5, 0, 0, 0, 0, 0, 0, CP_HEAD },
	{ "yours_seq without yours_head", 5, 32, 3, 0, 1, 0, 0, CP_HEAD },
	{ "yours_head short", 5, 32, 3, 16, 1, 0, 0, CP_HEAD },
	{ "yours_head without yours_seq", 5, 32, 0, 32, 1, 0, 0, CP_HEAD },
	{ "seq past int64", (uint64_t)INT64_MAX + 1, 32, 0, 0, 0, 0, 0,
	  "audit checkpoint seq out of range" },
	{ "yours_seq past int64", 5, 32, UINT64_MAX, 32, 1, 0, 0, "audit checkpoint seq out of range" },
};

static void test_checkpoint_unpack(void **state)
{
	uint8_t head[40], yours[40];

	(void)state;
	for (size_t i = 0; i < sizeof(head); i++) {
		head[i] = (uint8_t)(0xa0 + i);
		yours[i] = (uint8_t)(0x10 + i);
	}
	for (size_t i = 0; i < ARRAY_SIZE(s_cp_cases); i++) {
		const struct cp_case *t = &s_cp_cases[i];
		Overstap__AuditCheckpoint m = OVERSTAP__AUDIT_CHECKPOINT__INIT, *out = NULL;
		const char *why = NULL;
		ProtobufCBinaryData b;
		int r;

		print_message("audit checkpoint: %s\n", t->name);
		m.seq = t->seq;
		m.head.data = head;
		m.head.len = t->head_len;
		m.yours_seq = t->yours_seq;
		m.yours_head.data = yours;
		m.yours_head.len = t->yours_head_len;
		m.yours_at = t->yours_at;
		if (t->garbage) {
			b = s_body(0, s_garbage, sizeof(s_garbage));
		} else {
			b = s_body(overstap__audit_checkpoint__get_packed_size(&m), s_pad_seq0,
				   t->pad ? sizeof(s_pad_seq0) : 0);
			overstap__audit_checkpoint__pack(&m, b.data + (t->pad ? sizeof(s_pad_seq0) : 0));
		}
		r = envelope_checkpoint_unpack(&b, &out, &why);
		if (!t->why) {
			assert_int_equal(r, 0);
			assert_non_null(out);
			assert_true(out->seq == t->seq);
			assert_int_equal(out->head.len, 32);
			assert_memory_equal(out->head.data, head, 32);
			assert_true(out->yours_seq == t->yours_seq);
			assert_int_equal(out->yours_head.len, t->yours_head_len);
			if (t->yours_head_len)
				assert_memory_equal(out->yours_head.data, yours, t->yours_head_len);
			assert_int_equal(out->yours_at, t->yours_at);
			overstap__audit_checkpoint__free_unpacked(out, NULL);
		} else {
			assert_int_equal(r, -EBADMSG);
			assert_null(out);
			assert_non_null(why);
			assert_string_equal(why, t->why);
		}
		free(b.data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_and_signature, setup, teardown),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test_setup_teardown(test_size_cap_and_garbage, setup, teardown),
		cmocka_unit_test(test_handover_limits),
		cmocka_unit_test(test_handover_text),
		cmocka_unit_test(test_handover_inzage_agreement),
		cmocka_unit_test(test_time_check),
		cmocka_unit_test(test_ack_limits),
		cmocka_unit_test(test_withdrawal_unpack),
		cmocka_unit_test(test_receipt_unpack),
		cmocka_unit_test(test_checkpoint_unpack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_consent: the consent rules of design.md §3 — who may grant at which age, when a
 * consent is in force, which record authorises a disclosure and why one is
 * refused, and which consents are due for re-confirmation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent.h"
#include "util.h"

#define HANDOVER CONSENT_PURPOSE_HANDOVER
#define FOLLOW_UP CONSENT_PURPOSE_FOLLOW_UP
#define PUPIL CONSENT_GRANTOR_PUPIL
#define PARENT CONSENT_GRANTOR_PARENT
#define GUARDIAN CONSENT_GRANTOR_GUARDIAN
#define MAX_RECS 4

/* The fields the rules read; the rest is filled with valid defaults. */
struct rec {
	const char *id;
	int purpose;
	const char *counterpart;
	int grantor;
	const char *granted_at;
	const char *valid_until;	/* NULL = no end date */
	const char *withdrawn_at;	/* NULL = not withdrawn */
};

static struct consent s_build(const struct rec *r)
{
	struct consent c = { .purpose = r->purpose, .grantor = r->grantor };

	str_copy(c.id, sizeof(c.id), r->id);
	str_copy(c.pupil_ref, sizeof(c.pupil_ref), "L2025-0042");
	str_copy(c.counterpart, sizeof(c.counterpart), r->counterpart);
	str_copy(c.granted_at, sizeof(c.granted_at), r->granted_at);
	str_copy(c.valid_until, sizeof(c.valid_until), r->valid_until ? r->valid_until : "");
	str_copy(c.evidence_method, sizeof(c.evidence_method), "form");
	str_copy(c.evidence_ref, sizeof(c.evidence_ref), "DMS-2025-00417");
	str_copy(c.recorded_by, sizeof(c.recorded_by), "m.jansen");
	str_copy(c.recorded_at, sizeof(c.recorded_at), r->granted_at);
	if (r->withdrawn_at) {
		str_copy(c.withdrawn_at, sizeof(c.withdrawn_at), r->withdrawn_at);
		str_copy(c.withdrawn_by, sizeof(c.withdrawn_by), "m.jansen");
	}
	return c;
}

/* Builds the records of a table row (terminated by id == NULL) into v. */
static size_t s_build_all(const struct rec *recs, struct consent v[MAX_RECS])
{
	size_t n = 0;

	while (n < MAX_RECS && recs[n].id) {
		v[n] = s_build(&recs[n]);
		n++;
	}
	return n;
}

static void test_strings(void **state)
{
	(void)state;
	assert_int_equal(consent_purpose_from_str("handover"), HANDOVER);
	assert_int_equal(consent_purpose_from_str("follow_up"), FOLLOW_UP);
	/* status is statutory and quality_report rides on follow_up: neither is a
	 * purpose one can consent to. */
	assert_int_equal(consent_purpose_from_str("status"), 0);
	assert_int_equal(consent_purpose_from_str("quality_report"), 0);
	assert_int_equal(consent_purpose_from_str(NULL), 0);
	assert_string_equal(consent_purpose_str(FOLLOW_UP), "follow_up");
	assert_null(consent_purpose_str(0));
	assert_int_equal(consent_grantor_from_str("guardian"), GUARDIAN);
	assert_int_equal(consent_grantor_from_str("Parent"), 0);
	assert_string_equal(consent_grantor_str(PUPIL), "pupil");
	assert_null(consent_grantor_str(4));
	assert_int_equal(consent_basis_from_str("statute"), BASIS_STATUTE);
	assert_int_equal(consent_basis_from_str("consent"), BASIS_CONSENT);
	assert_string_equal(consent_basis_str(BASIS_CONSENT), "consent");
	assert_null(consent_basis_str(0));
	assert_true(consent_evidence_method_valid("verbal_recorded"));
	assert_false(consent_evidence_method_valid("verbal"));
	assert_false(consent_evidence_method_valid(NULL));
	assert_string_equal(consent_evidence_methods(), "form, digital, email, verbal_recorded");
}

static void test_birthday(void **state)
{
	static const struct {
		const char *birth;
		int age;
		const char *want;	/* the birthday */
		const char *eve;	/* the day before it */
	} t[] = {
		{ "2009-06-01", 16, "2025-06-01", "2025-05-31" },
		/* A leap year: the 29 February birthday is kept. */
		{ "2008-02-29", 16, "2024-02-29", "2024-02-28" },
		/* A common year: 17 on 1 March, not on 28 February. */
		{ "2008-02-29", 17, "2025-03-01", "2025-02-28" },
		/* 2100 is not a leap year: the only 16th birthday this century that moves. */
		{ "2084-02-29", 16, "2100-03-01", "2100-02-28" },
		/* 2000 is (divisible by 400). */
		{ "1984-02-29", 16, "2000-02-29", "2000-02-28" },
		/* Turning over a year end. */
		{ "2008-12-31", 16, "2024-12-31", "2024-12-30" },
	};
	char out[11];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		assert_int_equal(consent_birthday(t[i].birth, t[i].age, out), 0);
		assert_string_equal(out, t[i].want);
		/* Agrees with the age rule the grant check uses. */
		assert_int_equal(date_age_on(t[i].birth, out), t[i].age);
		assert_int_equal(date_age_on(t[i].birth, t[i].eve), t[i].age - 1);
	}
	assert_int_equal(consent_birthday("2009-02-29", 16, out), -EINVAL);
	assert_int_equal(consent_birthday("2009-06-01", -1, out), -EINVAL);
	/* Past year 9999 a date no longer fits YYYY-MM-DD. */
	assert_int_equal(consent_birthday("9990-01-01", 16, out), -EINVAL);
}

/* ---- the age rule on the day of granting ---- */

static void test_grant_age_rule(void **state)
{
	static const struct {
		const char *birth;
		const char *granted;
		int grantor;
		const char *want;	/* the one error, or NULL for none */
	} t[] = {
		/* The day before the 16th birthday: only a parent or guardian. */
		{ "2009-06-01", "2025-05-31", PUPIL,
		  "the pupil was 15 on 2025-05-31: under 16 only a parent or guardian can grant" },
		{ "2009-06-01", "2025-05-31", PARENT, NULL },
		{ "2009-06-01", "2025-05-31", GUARDIAN, NULL },
		/* On the 16th birthday itself the pupil decides. */
		{ "2009-06-01", "2025-06-01", PUPIL, NULL },
		{ "2009-06-01", "2025-06-01", PARENT,
		  "the pupil was 16 on 2025-06-01: from 16 only the pupil can grant, not a parent" },
		{ "2009-06-01", "2025-06-01", GUARDIAN,
		  "the pupil was 16 on 2025-06-01: from 16 only the pupil can grant, not a guardian" },
		/* Born on a leap day, 16 in leap year 2024: on 29 February itself. */
		{ "2008-02-29", "2024-02-28", PUPIL,
		  "the pupil was 15 on 2024-02-28: under 16 only a parent or guardian can grant" },
		{ "2008-02-29", "2024-02-29", PUPIL, NULL },
		/* The same pupil in common year 2025 is still 16 on 28 February and
		 * 17 from 1 March; born a day earlier, 17 on 28 February already. */
		{ "2008-02-29", "2025-02-28", PARENT,
		  "the pupil was 16 on 2025-02-28: from 16 only the pupil can grant, not a parent" },
		{ "2008-02-29", "2025-03-01", PARENT,
		  "the pupil was 17 on 2025-03-01: from 16 only the pupil can grant, not a parent" },
		{ "2008-02-28", "2025-02-28", PARENT,
		  "the pupil was 17 on 2025-02-28: from 16 only the pupil can grant, not a parent" },
		/* 16 in common year 2100: on 1 March, so 28 February is still a parent's. */
		{ "2084-02-29", "2100-02-28", PARENT, NULL },
		{ "2084-02-29", "2100-02-28", PUPIL,
		  "the pupil was 15 on 2100-02-28: under 16 only a parent or guardian can grant" },
		{ "2084-02-29", "2100-03-01", PUPIL, NULL },
	};
	struct strlist errors = { 0 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct rec r = { "c1", FOLLOW_UP, "12AB00", t[i].grantor, t[i].granted, NULL, NULL };
		struct consent c = s_build(&r);
		int n = consent_grant_check(&c, t[i].birth, "2100-12-31", &errors);

		if (t[i].want) {
			assert_int_equal(n, 1);
			assert_string_equal(errors.v[0], t[i].want);
		} else {
			assert_int_equal(n, 0);
		}
		strlist_clear(&errors);
	}
}

/* ---- every problem of a grant, reported at once ---- */

/* A field of struct consent that a table row may set; purpose and grantor take
 * their vocabulary string ("" or an unknown word for an invalid value). */
static void s_set(struct consent *c, const char *field, const char *value)
{
	static const struct {
		const char *name;
		size_t off, size;
	} f[] = {
#define F(m) { #m, offsetof(struct consent, m), sizeof(((struct consent *)0)->m) }
		F(pupil_ref), F(counterpart), F(granted_at), F(valid_until),
		F(evidence_method), F(evidence_ref), F(recorded_by), F(recorded_at),
		F(withdrawn_at), F(withdrawn_by),
#undef F
	};

	if (strcmp(field, "purpose") == 0) {
		c->purpose = consent_purpose_from_str(value);
		return;
	}
	if (strcmp(field, "grantor") == 0) {
		c->grantor = consent_grantor_from_str(value);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		if (strcmp(f[i].name, field) == 0) {
			str_copy((char *)c + f[i].off, f[i].size, value);
			return;
		}
	}
	fail_msg("no field %s", field);
}

static void test_grant_errors(void **state)
{
	static const struct {
		const char *set[12][2];		/* field, value; ends at NULL */
		const char *want[12];		/* every reason, in order; ends at NULL */
	} t[] = {
		/* The base record is valid. */
		{ { { NULL } }, { NULL } },
		/* "*" and an end date are fine. */
		{ { { "counterpart", "*" }, { "valid_until", "2026-03-01" } }, { NULL } },
		/* Every field wrong at once: all of it reported, in field order. */
		{ { { "pupil_ref", "" }, { "purpose", "status" }, { "counterpart", "12ab00" },
		    { "grantor", "teacher" }, { "granted_at", "2025-02-30" },
		    { "valid_until", "2025-13-01" }, { "evidence_method", "fax" },
		    { "evidence_ref", "" }, { "recorded_by", "" },
		    { "withdrawn_at", "2025-03-01" } },
		  { "pupil_ref must be non-empty printable ASCII",
		    "purpose must be handover or follow_up",
		    "counterpart '12ab00' must be an institution id (2 digits, 2 capitals or digits, 2 digits, e.g. 12AB00) or *",
		    "grantor must be pupil, parent or guardian",
		    "granted_at '2025-02-30' is not a date (YYYY-MM-DD)",
		    "valid_until '2025-13-01' is not a date (YYYY-MM-DD)",
		    "evidence method 'fax' must be one of: form, digital, email, verbal_recorded",
		    "evidence reference is required",
		    "recorded_by must be a non-empty printable ASCII user name",
		    "a new grant cannot already be withdrawn (withdrawn_at and withdrawn_by must be empty)",
		    NULL } },
		/* Dates out of order: future grant, end before start, recorded before
		 * granted; the age rule is still applied to the (valid) grant date. */
		{ { { "granted_at", "2025-09-01" }, { "valid_until", "2025-08-31" },
		    { "recorded_at", "2025-08-01" }, { "grantor", "parent" } },
		  { "granted_at 2025-09-01 is in the future (today is 2025-06-15)",
		    "the pupil was 16 on 2025-09-01: from 16 only the pupil can grant, not a parent",
		    "valid_until 2025-08-31 is before granted_at 2025-09-01",
		    "recorded_at 2025-08-01 is in the future (today is 2025-06-15)", NULL } },
		/* Granted before the pupil was born; recorded before it was granted. */
		{ { { "granted_at", "2008-05-31" }, { "recorded_at", "2008-05-30" } },
		  { "granted_at 2008-05-31 is before the pupil's birth date 2009-06-01",
		    "recorded_at 2008-05-30 is before granted_at 2008-05-31", NULL } },
		/* valid_until on the grant day itself is a one-day consent: fine. */
		{ { { "valid_until", "2025-06-10" } }, { NULL } },
		/* A control character in the reference; a non-ASCII user name. */
		{ { { "evidence_ref", "DMS\n2025" }, { "recorded_by", "m.j\xc3\xa4nsen" } },
		  { "evidence reference must be printable ASCII, at most 128 characters",
		    "recorded_by must be a non-empty printable ASCII user name", NULL } },
	};
	struct strlist errors = { 0 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct rec r = { "c1", FOLLOW_UP, "12AB00", PUPIL, "2025-06-10", NULL, NULL };
		struct consent c = s_build(&r);
		size_t want = 0;

		for (size_t j = 0; t[i].set[j][0]; j++)
			s_set(&c, t[i].set[j][0], t[i].set[j][1]);
		while (t[i].want[want])
			want++;
		assert_int_equal(consent_grant_check(&c, "2009-06-01", "2025-06-15", &errors),
				 (int)want);
		assert_int_equal(errors.n, want);
		for (size_t j = 0; j < want; j++)
			assert_string_equal(errors.v[j], t[i].want[j]);
		strlist_clear(&errors);
	}
}

static void test_grant_limits(void **state)
{
	struct rec r = { "c1", HANDOVER, "12AB00", PUPIL, "2025-06-10", NULL, NULL };
	struct consent c = s_build(&r);
	struct strlist errors = { 0 };

	(void)state;
	/* 128 characters is the limit and fits; a reference filling the field
	 * without a terminator is refused, not read past. */
	memset(c.evidence_ref, 'A', 128);
	c.evidence_ref[128] = '\0';
	assert_int_equal(consent_grant_check(&c, "2009-06-01", "2025-06-15", &errors), 0);
	memset(c.evidence_ref, 'A', sizeof(c.evidence_ref));
	assert_int_equal(consent_grant_check(&c, "2009-06-01", "2025-06-15", &errors), 1);
	assert_string_equal(errors.v[0],
			    "evidence reference must be printable ASCII, at most 128 characters");
	strlist_clear(&errors);
	/* A bad birth date cannot be checked against the age rule: said so. */
	c = s_build(&r);
	assert_int_equal(consent_grant_check(&c, "2009-06-31", "2025-06-15", &errors), 1);
	assert_string_equal(errors.v[0], "birth date '2009-06-31' is not a date (YYYY-MM-DD): "
			    "the age rule cannot be checked");
	strlist_clear(&errors);
	/* Caller mistakes are not the grant's problems. */
	assert_int_equal(consent_grant_check(&c, "2009-06-01", "today", &errors), -EINVAL);
	assert_int_equal(consent_grant_check(NULL, "2009-06-01", "2025-06-15", &errors), -EINVAL);
	assert_int_equal(consent_grant_check(&c, "2009-06-01", "2025-06-15", NULL), -EINVAL);
	assert_int_equal(errors.n, 0);
}

/* ---- in force on a day ---- */

static void test_in_force(void **state)
{
	static const struct {
		struct rec r;
		int purpose;
		const char *to;
		const char *on;
		int want;
	} t[] = {
		/* valid_until is inclusive: the last day counts, the next does not. */
		{ { "c", FOLLOW_UP, "12AB00", PUPIL, "2025-03-01", "2025-07-31", NULL },
		  FOLLOW_UP, "12AB00", "2025-07-31", 1 },
		{ { "c", FOLLOW_UP, "12AB00", PUPIL, "2025-03-01", "2025-07-31", NULL },
		  FOLLOW_UP, "12AB00", "2025-08-01", 0 },
		/* In force from the day it was granted, not the day before. */
		{ { "c", FOLLOW_UP, "12AB00", PUPIL, "2025-03-01", NULL, NULL },
		  FOLLOW_UP, "12AB00", "2025-03-01", 1 },
		{ { "c", FOLLOW_UP, "12AB00", PUPIL, "2025-03-01", NULL, NULL },
		  FOLLOW_UP, "12AB00", "2025-02-28", 0 },
		/* A withdrawal takes effect on the day it is recorded. */
		{ { "c", FOLLOW_UP, "12AB00", PUPIL, "2025-03-01", NULL, "2025-05-01" },
		  FOLLOW_UP, "12AB00", "2025-04-30", 1 },
		{ { "c", FOLLOW_UP, "12AB00", PUPIL, "2025-03-01", NULL, "2025-05-01" },
		  FOLLOW_UP, "12AB00", "2025-05-01", 0 },
		/* "*" covers any recipient; a named one only itself. */
		{ { "c", FOLLOW_UP, "*", PUPIL, "2025-03-01", NULL, NULL },
		  FOLLOW_UP, "34CD00", "2025-04-01", 1 },
		{ { "c", FOLLOW_UP, "12AB00", PUPIL, "2025-03-01", NULL, NULL },
		  FOLLOW_UP, "34CD00", "2025-04-01", 0 },
		/* Consent for the handover does not cover follow-up, nor vice versa. */
		{ { "c", HANDOVER, "12AB00", PARENT, "2025-03-01", NULL, NULL },
		  FOLLOW_UP, "12AB00", "2025-04-01", 0 },
		{ { "c", FOLLOW_UP, "12AB00", PARENT, "2025-03-01", NULL, NULL },
		  HANDOVER, "12AB00", "2025-04-01", 0 },
		/* A disclosure goes to one named institution, never to "*". */
		{ { "c", FOLLOW_UP, "*", PUPIL, "2025-03-01", NULL, NULL },
		  FOLLOW_UP, "*", "2025-04-01", 0 },
		/* A damaged record or day authorises nothing. */
		{ { "c", FOLLOW_UP, "*", PUPIL, "2025-02-30", NULL, NULL },
		  FOLLOW_UP, "12AB00", "2025-04-01", 0 },
		{ { "c", FOLLOW_UP, "*", PUPIL, "2025-03-01", "someday", NULL },
		  FOLLOW_UP, "12AB00", "2025-04-01", 0 },
		{ { "c", FOLLOW_UP, "*", PUPIL, "2025-03-01", NULL, NULL },
		  FOLLOW_UP, "12AB00", "2025-04-31", 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct consent c = s_build(&t[i].r);

		assert_int_equal(consent_in_force(&c, t[i].purpose, t[i].to, t[i].on), t[i].want);
	}
	assert_int_equal(consent_in_force(NULL, FOLLOW_UP, "12AB00", "2025-04-01"), 0);
}

/* ---- the authorising record ---- */

/* consent_active_on: the listing's "in force today", whatever the purpose
 * and counterpart; the same date boundaries as consent_in_force. */
static void test_active_on(void **state)
{
	static const struct {
		struct rec r;
		const char *on;
		int want;
	} t[] = {
		{ { "a", FOLLOW_UP, "*", PUPIL, "2025-05-01", NULL, NULL }, "2025-05-01", 1 },
		{ { "a", FOLLOW_UP, "*", PUPIL, "2025-05-01", NULL, NULL }, "2025-04-30", 0 },
		{ { "a", HANDOVER, "25LZ00", PARENT, "2025-05-01", "2025-06-30", NULL }, "2025-06-30", 1 },
		{ { "a", HANDOVER, "25LZ00", PARENT, "2025-05-01", "2025-06-30", NULL }, "2025-07-01", 0 },
		{ { "a", HANDOVER, "25LZ00", PUPIL, "2025-05-01", NULL, "2025-06-10" }, "2025-06-09", 1 },
		{ { "a", HANDOVER, "25LZ00", PUPIL, "2025-05-01", NULL, "2025-06-10" }, "2025-06-10", 0 },
		{ { "a", HANDOVER, "25LZ00", PUPIL, "2025-02-30", NULL, NULL }, "2025-06-10", 0 },
		{ { "a", HANDOVER, "25LZ00", PUPIL, "2025-05-01", NULL, NULL }, "not a date", 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct consent c = s_build(&t[i].r);

		if (consent_active_on(&c, t[i].on) != t[i].want)
			fail_msg("row %zu: consent_active_on(%s) != %d", i, t[i].on, t[i].want);
	}
	assert_false(consent_active_on(NULL, "2025-05-01"));
}

static void test_find(void **state)
{
	static const struct {
		struct rec v[MAX_RECS + 1];	/* ends at id NULL */
		const char *to;
		const char *on;
		const char *want;		/* id, or NULL for none */
	} t[] = {
		/* Named wins over "*", even when "*" was granted later. */
		{ { { "any", FOLLOW_UP, "*", PUPIL, "2025-05-01", NULL, NULL },
		    { "named", FOLLOW_UP, "12AB00", PUPIL, "2024-09-01", NULL, NULL } },
		  "12AB00", "2025-06-01", "named" },
		/* ... and "*" still serves everyone else. */
		{ { { "any", FOLLOW_UP, "*", PUPIL, "2025-05-01", NULL, NULL },
		    { "named", FOLLOW_UP, "12AB00", PUPIL, "2024-09-01", NULL, NULL } },
		  "34CD00", "2025-06-01", "any" },
		/* A named consent not in force does not hide a "*" one that is. */
		{ { { "any", FOLLOW_UP, "*", PUPIL, "2025-05-01", NULL, NULL },
		    { "named", FOLLOW_UP, "12AB00", PUPIL, "2024-09-01", NULL, "2025-01-10" } },
		  "12AB00", "2025-06-01", "any" },
		/* Two in force for the same recipient: the latest granted. */
		{ { { "old", FOLLOW_UP, "12AB00", PARENT, "2023-09-01", NULL, NULL },
		    { "new", FOLLOW_UP, "12AB00", PUPIL, "2025-06-01", NULL, NULL },
		    { "mid", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL } },
		  "12AB00", "2025-06-01", "new" },
		/* Withdrawn, then granted again: the new grant authorises ... */
		{ { { "gone", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, "2025-03-01" },
		    { "again", FOLLOW_UP, "12AB00", PUPIL, "2025-04-01", NULL, NULL } },
		  "12AB00", "2025-05-01", "again" },
		/* ... but between withdrawal and re-grant nothing does. */
		{ { { "gone", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, "2025-03-01" },
		    { "again", FOLLOW_UP, "12AB00", PUPIL, "2025-04-01", NULL, NULL } },
		  "12AB00", "2025-03-15", NULL },
		/* A consent for 12AB00 does not authorise 34CD00; handover consent
		 * does not authorise follow-up. */
		{ { { "named", FOLLOW_UP, "12AB00", PUPIL, "2024-09-01", NULL, NULL },
		    { "ho", HANDOVER, "34CD00", PUPIL, "2024-09-01", NULL, NULL } },
		  "34CD00", "2025-06-01", NULL },
		/* No records at all. */
		{ { { 0 } }, "12AB00", "2025-06-01", NULL },
	};
	struct consent v[MAX_RECS];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		size_t n = s_build_all(t[i].v, v);
		const struct consent *c = consent_find(v, n, FOLLOW_UP, t[i].to, t[i].on);

		if (t[i].want) {
			assert_non_null(c);
			assert_string_equal(c->id, t[i].want);
		} else {
			assert_null(c);
		}
	}
	assert_null(consent_find(NULL, 0, FOLLOW_UP, "12AB00", "2025-06-01"));
}

/* ---- decisions and their reasons ---- */

#define UUID1 "0195e7a2-4c1d-7b3e-9a10-6f2d8c4b1a01"
#define UUID2 "0195e7a2-4c1d-7b3e-9a10-6f2d8c4b1a02"

static void test_decide(void **state)
{
	static const struct {
		int basis;
		int purpose;
		struct rec v[MAX_RECS + 1];
		const char *to;
		int verdict;
		const char *id;		/* consent_id */
		const char *reason;
	} t[] = {
		/* Statute needs no record, and names none. */
		{ BASIS_STATUTE, HANDOVER, { { 0 } }, "12AB00",
		  CONSENT_ALLOWED_STATUTE, "", "statutory basis" },
		/* follow_up has no statutory basis: a "statute" setting is ignored. */
		{ BASIS_STATUTE, FOLLOW_UP, { { 0 } }, "12AB00",
		  CONSENT_DENIED_NONE, "", "no consent for this purpose and recipient" },
		/* Policy may require consent for the handover. */
		{ BASIS_CONSENT, HANDOVER, { { 0 } }, "12AB00",
		  CONSENT_DENIED_NONE, "", "no consent for this purpose and recipient" },
		{ BASIS_CONSENT, HANDOVER,
		  { { UUID1, HANDOVER, "12AB00", PARENT, "2025-01-15", NULL, NULL } }, "12AB00",
		  CONSENT_ALLOWED_CONSENT, UUID1, "consent " UUID1 " in force" },
		/* An unknown basis fails closed: consent is required. */
		{ 0, HANDOVER, { { 0 } }, "12AB00",
		  CONSENT_DENIED_NONE, "", "no consent for this purpose and recipient" },
		/* Withdrawn and nothing else: the withdrawal is the reason. */
		{ BASIS_CONSENT, FOLLOW_UP,
		  { { UUID1, FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, "2025-03-01" } },
		  "12AB00", CONSENT_DENIED_WITHDRAWN, "",
		  "consent " UUID1 " withdrawn on 2025-03-01" },
		/* Withdrawn, then granted again: the new grant authorises. */
		{ BASIS_CONSENT, FOLLOW_UP,
		  { { UUID1, FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, "2025-03-01" },
		    { UUID2, FOLLOW_UP, "12AB00", PUPIL, "2025-04-01", NULL, NULL } },
		  "12AB00", CONSENT_ALLOWED_CONSENT, UUID2, "consent " UUID2 " in force" },
		/* Ran out the day before. */
		{ BASIS_CONSENT, FOLLOW_UP,
		  { { "c-exp", FOLLOW_UP, "*", PUPIL, "2024-09-01", "2025-05-31", NULL } },
		  "12AB00", CONSENT_DENIED_EXPIRED, "", "consent c-exp expired on 2025-05-31" },
		/* Granted with a later date than the disclosure. */
		{ BASIS_CONSENT, FOLLOW_UP,
		  { { "c-fut", FOLLOW_UP, "12AB00", PUPIL, "2025-09-01", NULL, NULL } },
		  "12AB00", CONSENT_DENIED_NOT_YET_VALID, "",
		  "consent c-fut not yet valid (granted 2025-09-01)" },
		/* A consent for another recipient says nothing about this one. */
		{ BASIS_CONSENT, FOLLOW_UP,
		  { { "c-12", FOLLOW_UP, "12AB00", PUPIL, "2024-09-01", NULL, NULL } },
		  "34CD00", CONSENT_DENIED_NONE, "", "no consent for this purpose and recipient" },
		/* Nor a consent for the other purpose. */
		{ BASIS_CONSENT, FOLLOW_UP,
		  { { "c-ho", HANDOVER, "12AB00", PUPIL, "2024-09-01", NULL, NULL } },
		  "12AB00", CONSENT_DENIED_NONE, "", "no consent for this purpose and recipient" },
		/* Two records, neither in force: the named one is the closest. */
		{ BASIS_CONSENT, FOLLOW_UP,
		  { { "c-any", FOLLOW_UP, "*", PUPIL, "2025-01-01", NULL, "2025-05-01" },
		    { "c-12", FOLLOW_UP, "12AB00", PARENT, "2024-01-01", "2024-12-31", NULL } },
		  "12AB00", CONSENT_DENIED_EXPIRED, "", "consent c-12 expired on 2024-12-31" },
		/* Among "*" records, the latest granted is the closest. */
		{ BASIS_CONSENT, FOLLOW_UP,
		  { { "c-old", FOLLOW_UP, "*", PARENT, "2023-01-01", "2023-12-31", NULL },
		    { "c-new", FOLLOW_UP, "*", PUPIL, "2025-01-01", NULL, "2025-05-01" } },
		  "12AB00", CONSENT_DENIED_WITHDRAWN, "", "consent c-new withdrawn on 2025-05-01" },
		/* A damaged record is reported as such, not as "no consent". */
		{ BASIS_CONSENT, FOLLOW_UP,
		  { { "c-bad", FOLLOW_UP, "12AB00", PUPIL, "2025-02-30", NULL, NULL } },
		  "12AB00", CONSENT_DENIED_INVALID, "", "consent c-bad has an invalid date" },
		/* A recipient must be a named institution, even under statute. */
		{ BASIS_STATUTE, HANDOVER, { { 0 } }, "*",
		  CONSENT_DENIED_INVALID, "", "recipient '*' is not an institution id" },
		{ BASIS_CONSENT, 3, { { 0 } }, "12AB00",
		  CONSENT_DENIED_INVALID, "", "unknown purpose 3" },
	};
	struct consent v[MAX_RECS];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct consent_decision d;
		size_t n = s_build_all(t[i].v, v);
		int allowed = t[i].verdict == CONSENT_ALLOWED_STATUTE ||
			      t[i].verdict == CONSENT_ALLOWED_CONSENT;

		memset(&d, 0x5a, sizeof(d));
		assert_int_equal(consent_decide(t[i].basis, v, n, t[i].purpose, t[i].to,
						"2025-06-01", &d), allowed);
		assert_int_equal(d.allowed, allowed);
		assert_int_equal(d.verdict, t[i].verdict);
		assert_int_equal(d.basis, t[i].verdict == CONSENT_ALLOWED_STATUTE ?
				 BASIS_STATUTE : BASIS_CONSENT);
		assert_string_equal(d.consent_id, t[i].id);
		assert_string_equal(d.reason, t[i].reason);
	}
}

static void test_decide_args(void **state)
{
	struct rec r = { "c1", FOLLOW_UP, "*", PUPIL, "2024-09-01", NULL, NULL };
	struct consent c = s_build(&r);
	struct consent_decision d;

	(void)state;
	/* Without somewhere to put the reason, the answer is still given. */
	assert_int_equal(consent_decide(BASIS_CONSENT, &c, 1, FOLLOW_UP, "12AB00", "2025-06-01",
					NULL), 1);
	/* A day that does not exist is refused, never guessed at. */
	assert_int_equal(consent_decide(BASIS_CONSENT, &c, 1, FOLLOW_UP, "12AB00", "2025-06-31",
					&d), 0);
	assert_int_equal(d.verdict, CONSENT_DENIED_INVALID);
	assert_string_equal(d.reason, "decision date '2025-06-31' is not a date");
	assert_int_equal(consent_decide(BASIS_CONSENT, NULL, 3, FOLLOW_UP, "12AB00", "2025-06-01",
					&d), 0);
	assert_string_equal(d.reason, "no consent records passed");
	assert_int_equal(consent_decide(BASIS_CONSENT, &c, 1, FOLLOW_UP, NULL, "2025-06-01", &d),
			 0);
	assert_string_equal(d.reason, "recipient '(none)' is not an institution id");
}

/* ---- re-confirmation and expiry ---- */

#define DUE16(d) "pupil turned 16 on " d "; parental consent needs the pupil's re-confirmation"

static void test_due(void **state)
{
	static const struct {
		const char *birth;
		const char *today;
		int horizon;
		struct rec r;
		int want;
		const char *why;
	} t[] = {
		/* Parental consent; the pupil turned 16 yesterday. */
		{ "2009-06-01", "2025-06-02", 60,
		  { "c", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL },
		  1, DUE16("2025-06-01") },
		/* ... today. */
		{ "2009-06-01", "2025-06-01", 60,
		  { "c", FOLLOW_UP, "12AB00", GUARDIAN, "2024-09-01", NULL, NULL },
		  1, DUE16("2025-06-01") },
		/* ... turns 16 tomorrow: the parent still decides. */
		{ "2009-06-01", "2025-05-31", 60,
		  { "c", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL }, 0, "" },
		/* The pupil's own consent needs no re-confirmation. */
		{ "2009-06-01", "2026-01-01", 60,
		  { "c", FOLLOW_UP, "12AB00", PUPIL, "2025-06-01", NULL, NULL }, 0, "" },
		/* Withdrawn or expired consents are not due: they are over. */
		{ "2009-06-01", "2025-06-02", 60,
		  { "c", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, "2025-06-02" }, 0, "" },
		{ "2009-06-01", "2025-06-02", 60,
		  { "c", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", "2025-06-01", NULL }, 0, "" },
		/* Expiry exactly 60 days ahead is due; 61 is not. */
		{ "2008-01-01", "2025-06-01", 60,
		  { "c", FOLLOW_UP, "12AB00", PUPIL, "2024-09-01", "2025-07-31", NULL },
		  1, "expires on 2025-07-31" },
		{ "2008-01-01", "2025-06-01", 60,
		  { "c", FOLLOW_UP, "12AB00", PUPIL, "2024-09-01", "2025-08-01", NULL }, 0, "" },
		/* Counting across 29 February 2024: 31 + 29 days. */
		{ "2008-01-01", "2024-01-01", 60,
		  { "c", HANDOVER, "*", PUPIL, "2024-01-01", "2024-03-01", NULL },
		  1, "expires on 2024-03-01" },
		{ "2008-01-01", "2024-01-01", 60,
		  { "c", HANDOVER, "*", PUPIL, "2024-01-01", "2024-03-02", NULL }, 0, "" },
		/* Its last day, with no horizon: still due; a negative horizon turns
		 * the expiry check off. */
		{ "2008-01-01", "2025-06-01", 0,
		  { "c", FOLLOW_UP, "12AB00", PUPIL, "2024-09-01", "2025-06-01", NULL },
		  1, "expires on 2025-06-01" },
		{ "2008-01-01", "2025-06-01", -1,
		  { "c", FOLLOW_UP, "12AB00", PUPIL, "2024-09-01", "2025-06-01", NULL }, 0, "" },
		/* Both at once: both reasons. */
		{ "2009-06-01", "2025-06-02", 60,
		  { "c", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", "2025-07-01", NULL },
		  1, DUE16("2025-06-01") "; expires on 2025-07-01" },
		/* Born on a leap day, 16 in common year 2100: on 1 March. */
		{ "2084-02-29", "2100-02-28", 60,
		  { "c", FOLLOW_UP, "12AB00", PARENT, "2099-09-01", NULL, NULL }, 0, "" },
		{ "2084-02-29", "2100-03-01", 60,
		  { "c", FOLLOW_UP, "12AB00", PARENT, "2099-09-01", NULL, NULL },
		  1, DUE16("2100-03-01") },
	};
	char why[160];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct consent c = s_build(&t[i].r);

		memset(why, 'x', sizeof(why));
		assert_int_equal(consent_due(&c, t[i].birth, t[i].today, t[i].horizon, why,
					     sizeof(why)), t[i].want);
		assert_string_equal(why, t[i].why);
	}
}

static void test_due_args(void **state)
{
	struct rec r = { "c", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL };
	struct consent c = s_build(&r);
	char why[16];

	(void)state;
	/* A short buffer is cut, still terminated; no buffer at all is fine. */
	assert_int_equal(consent_due(&c, "2009-06-01", "2025-06-02", 60, why, sizeof(why)), 1);
	assert_string_equal(why, "pupil turned 16");
	assert_int_equal(consent_due(&c, "2009-06-01", "2025-06-02", 60, NULL, 0), 1);
	/* Without a birth date nobody can tell whether control has passed. */
	assert_int_equal(consent_due(&c, "", "2025-06-02", 60, why, sizeof(why)), -EINVAL);
	assert_int_equal(consent_due(&c, "2009-06-01", "2025-6-2", 60, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(consent_due(NULL, "2009-06-01", "2025-06-02", 60, why, sizeof(why)),
			 -EINVAL);
}

static void test_reconfirmed(void **state)
{
	static const struct {
		struct rec parental;
		struct rec pupil;
		int want;
	} t[] = {
		/* The pupil re-confirmed for the same recipient. */
		{ { "p", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL },
		  { "q", FOLLOW_UP, "12AB00", PUPIL, "2025-06-05", NULL, NULL }, 1 },
		/* ... or for any recipient. */
		{ { "p", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL },
		  { "q", FOLLOW_UP, "*", PUPIL, "2025-06-05", NULL, NULL }, 1 },
		/* Named does not cover a parental "*". */
		{ { "p", FOLLOW_UP, "*", PARENT, "2024-09-01", NULL, NULL },
		  { "q", FOLLOW_UP, "12AB00", PUPIL, "2025-06-05", NULL, NULL }, 0 },
		/* Another recipient or purpose is not a re-confirmation. */
		{ { "p", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL },
		  { "q", FOLLOW_UP, "34CD00", PUPIL, "2025-06-05", NULL, NULL }, 0 },
		{ { "p", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL },
		  { "q", HANDOVER, "12AB00", PUPIL, "2025-06-05", NULL, NULL }, 0 },
		/* The pupil's re-confirmation withdrawn again: due once more. */
		{ { "p", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL },
		  { "q", FOLLOW_UP, "12AB00", PUPIL, "2025-06-05", NULL, "2025-06-10" }, 0 },
		/* A second parental consent is no re-confirmation. */
		{ { "p", FOLLOW_UP, "12AB00", PARENT, "2024-09-01", NULL, NULL },
		  { "q", FOLLOW_UP, "12AB00", GUARDIAN, "2025-05-05", NULL, NULL }, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct consent v[2] = { s_build(&t[i].parental), s_build(&t[i].pupil) };

		assert_int_equal(consent_reconfirmed(&v[0], v, 2, "2025-06-15"), t[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_birthday),
		cmocka_unit_test(test_grant_age_rule),
		cmocka_unit_test(test_grant_errors),
		cmocka_unit_test(test_grant_limits),
		cmocka_unit_test(test_in_force),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_decide_args),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_due_args),
		cmocka_unit_test(test_reconfirmed),
		cmocka_unit_test(test_active_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* consent: the consent engine's rules (design.md §3) as pure functions. */
#include "consent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "i18n.h"
#include "util.h"
#include "vocab.h"

/* ---- string tables ---- */

static const struct vocab_entry s_purposes[] = {
	{ "handover", CONSENT_PURPOSE_HANDOVER },
	{ "follow_up", CONSENT_PURPOSE_FOLLOW_UP },
};

static const struct vocab_entry s_grantors[] = {
	{ "pupil", CONSENT_GRANTOR_PUPIL },
	{ "parent", CONSENT_GRANTOR_PARENT },
	{ "guardian", CONSENT_GRANTOR_GUARDIAN },
};

static const struct vocab_entry s_bases[] = {
	{ "statute", BASIS_STATUTE },
	{ "consent", BASIS_CONSENT },
};

/* How a consent was collected; each leaves evidence the reference points to.
 * Written once as an X-macro so the table and the "a, b" list cannot drift. */
#define EVIDENCE_METHODS(X)						\
	X("form")		/* signed paper form, kept on file */	\
	X("digital")		/* signed in the parent/pupil portal */	\
	X("email")		/* reply from the grantor's own address */ \
	X("verbal_recorded")	/* said in a meeting, minuted and filed */

#define S_METHOD(s) { s, 1 },
#define S_METHOD_LIST(s) ", " s	/* the leading ", " is skipped when returned */

static const struct vocab_entry s_methods[] = { EVIDENCE_METHODS(S_METHOD) };
static const char s_method_list[] = EVIDENCE_METHODS(S_METHOD_LIST);

/* consent_purpose_from_str and consent_purpose_str, and so on. */
VOCAB_LOOKUPS(consent_purpose, int, s_purposes)
VOCAB_LOOKUPS(consent_grantor, int, s_grantors)
VOCAB_LOOKUPS(consent_basis, int, s_bases)

int consent_evidence_method_valid(const char *s)
{
	return vocab_lookup(s_methods, ARRAY_SIZE(s_methods), s);
}

const char *consent_evidence_methods(void)
{
	return s_method_list + 2;
}

/* ---- dates ---- */

/* Days since 1970-01-01 of a valid y-m-d (H. Hinnant's days_from_civil). Only
 * called for years >= 1900 (date_valid), so every division is of a
 * non-negative number. */
static long s_day_number(int y, int m, int d)
{
	long yy = y - (m <= 2);
	long era = yy / 400;
	long yoe = yy - era * 400;
	long doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* Days from a to b (negative when b is earlier); both must be valid dates. */
static long s_days_between(const char *a, const char *b)
{
	int ay, am, ad, by, bm, bd;

	date_valid(a, &ay, &am, &ad);
	date_valid(b, &by, &bm, &bd);
	return s_day_number(by, bm, bd) - s_day_number(ay, am, ad);
}

int consent_birthday(const char *birth, int age, char out[11])
{
	int y, m, d;

	if (!out || age < 0 || age > 200 || !date_valid(birth, &y, &m, &d))
		return -EINVAL;
	y += age;
	if (y > 9999)
		return -EINVAL;
	/* The 29 February birthday of a common year falls on 1 March: the first
	 * day on which date_age_on() counts the new age. */
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
		m = 3;
		d = 1;
	}
	/* The modulos are no-ops (y <= 9999) that show the compiler the widths. */
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
	return 0;
}

/* ---- in force ---- */

static int s_purpose_valid(int purpose)
{
	return consent_purpose_str(purpose) != NULL;
}

static int s_named(const struct consent *c)
{
	return strcmp(c->counterpart, CONSENT_ANY) != 0;
}

/* Where c stands on day `on` (a valid date), as a verdict. A record with a
 * damaged date never authorises anything. Withdrawal is reported before
 * expiry, and expiry before a future grant: the grantor's own act first. */
static int s_standing(const struct consent *c, const char *on)
{
	if (!date_valid(c->granted_at, NULL, NULL, NULL) ||
	    (c->valid_until[0] && !date_valid(c->valid_until, NULL, NULL, NULL)) ||
	    (c->withdrawn_at[0] && !date_valid(c->withdrawn_at, NULL, NULL, NULL)))
		return CONSENT_DENIED_INVALID;
	if (c->withdrawn_at[0] && strcmp(c->withdrawn_at, on) <= 0)
		return CONSENT_DENIED_WITHDRAWN;
	if (c->valid_until[0] && strcmp(c->valid_until, on) < 0)
		return CONSENT_DENIED_EXPIRED;
	if (strcmp(c->granted_at, on) > 0)
		return CONSENT_DENIED_NOT_YET_VALID;
	return CONSENT_ALLOWED_CONSENT;
}

int consent_active_on(const struct consent *c, const char *on_date)
{
	return c && date_valid(on_date, NULL, NULL, NULL) &&
	       s_standing(c, on_date) == CONSENT_ALLOWED_CONSENT;
}

/* Same purpose, and its counterpart covers the recipient. */
static int s_covers(const struct consent *c, int purpose, const char *counterpart)
{
	return c->purpose == purpose &&
	       (!s_named(c) || strcmp(c->counterpart, counterpart) == 0);
}

/* 1 when a should be preferred to b (b may be NULL): named before "*", then
 * the latest granted. */
static int s_better(const struct consent *a, const struct consent *b)
{
	if (!b)
		return 1;
	if (s_named(a) != s_named(b))
		return s_named(a);
	return strcmp(a->granted_at, b->granted_at) > 0;
}

/* 1 when the query itself can be answered: a real purpose, recipient and day. */
static int s_query_valid(int purpose, const char *counterpart, const char *on_date)
{
	return s_purpose_valid(purpose) && config_institution_id_valid(counterpart) &&
	       date_valid(on_date, NULL, NULL, NULL);
}

int consent_in_force(const struct consent *c, int purpose, const char *counterpart,
		     const char *on_date)
{
	if (!c || !s_query_valid(purpose, counterpart, on_date))
		return 0;
	return s_covers(c, purpose, counterpart) &&
	       s_standing(c, on_date) == CONSENT_ALLOWED_CONSENT;
}

/* The preferred record covering the query; only those in force when
 * in_force_only, else any (the closest, to explain a denial). */
static const struct consent *s_pick(const struct consent *v, size_t n, int purpose,
				    const char *counterpart, const char *on_date,
				    int in_force_only)
{
	const struct consent *best = NULL;

	for (size_t i = 0; v && i < n; i++) {
		const struct consent *c = &v[i];

		if (!s_covers(c, purpose, counterpart))
			continue;
		if (in_force_only && s_standing(c, on_date) != CONSENT_ALLOWED_CONSENT)
			continue;
		if (s_better(c, best))
			best = c;
	}
	return best;
}

const struct consent *consent_find(const struct consent *v, size_t n, int purpose,
				   const char *counterpart, const char *on_date)
{
	if (!s_query_valid(purpose, counterpart, on_date))
		return NULL;
	return s_pick(v, n, purpose, counterpart, on_date, 1);
}

/* ---- decisions ---- */

static void s_deny(struct consent_decision *d, int verdict, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void s_deny(struct consent_decision *d, int verdict, const char *fmt, ...)
{
	va_list ap;

	d->allowed = 0;
	d->verdict = verdict;
	d->consent_id[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

/* Names the first thing wrong with the query, or returns 0 when it is sound. */
static int s_deny_bad_query(struct consent_decision *d, const struct consent *v, size_t n,
			    int purpose, const char *counterpart, const char *on_date)
{
	if (!s_purpose_valid(purpose))
		s_deny(d, CONSENT_DENIED_INVALID, "unknown purpose %d", purpose);
	else if (!config_institution_id_valid(counterpart))
		s_deny(d, CONSENT_DENIED_INVALID, "recipient '%.16s' is not an institution id",
		       counterpart ? counterpart : "(none)");
	else if (!date_valid(on_date, NULL, NULL, NULL))
		s_deny(d, CONSENT_DENIED_INVALID, "decision date '%.16s' is not a date",
		       on_date ? on_date : "(none)");
	else if (!v && n)
		s_deny(d, CONSENT_DENIED_INVALID, "no consent records passed");
	else
		return 0;
	return 1;
}

/* Explains why c, the closest record, does not authorise on on_date. */
static void s_deny_closest(struct consent_decision *d, const struct consent *c,
			   const char *on_date)
{
	switch (s_standing(c, on_date)) {
	case CONSENT_DENIED_WITHDRAWN:
		s_deny(d, CONSENT_DENIED_WITHDRAWN, "consent %.36s withdrawn on %.10s", c->id,
		       c->withdrawn_at);
		break;
	case CONSENT_DENIED_EXPIRED:
		s_deny(d, CONSENT_DENIED_EXPIRED, "consent %.36s expired on %.10s", c->id,
		       c->valid_until);
		break;
	case CONSENT_DENIED_NOT_YET_VALID:
		s_deny(d, CONSENT_DENIED_NOT_YET_VALID, "consent %.36s not yet valid (granted %.10s)",
		       c->id, c->granted_at);
		break;
	default:	/* damaged; in force cannot happen: consent_find found none */
		s_deny(d, CONSENT_DENIED_INVALID, "consent %.36s has an invalid date", c->id);
		break;
	}
}

/* Decides a sound query (see s_deny_bad_query) into *d. */
static void s_decide(struct consent_decision *d, int basis_for_purpose, const struct consent *v,
		     size_t n, int purpose, const char *counterpart, const char *on_date)
{
	const struct consent *c;

	if (purpose == CONSENT_PURPOSE_HANDOVER && basis_for_purpose == BASIS_STATUTE) {
		d->allowed = 1;
		d->basis = BASIS_STATUTE;
		d->verdict = CONSENT_ALLOWED_STATUTE;
		snprintf(d->reason, sizeof(d->reason), "statutory basis");
	} else if ((c = consent_find(v, n, purpose, counterpart, on_date))) {
		d->allowed = 1;
		d->verdict = CONSENT_ALLOWED_CONSENT;
		snprintf(d->consent_id, sizeof(d->consent_id), "%.36s", c->id);
		snprintf(d->reason, sizeof(d->reason), "consent %.36s in force", c->id);
	} else if ((c = s_pick(v, n, purpose, counterpart, on_date, 0))) {
		s_deny_closest(d, c, on_date);
	} else {
		s_deny(d, CONSENT_DENIED_NONE, "no consent for this purpose and recipient");
	}
}

int consent_decide(int basis_for_purpose, const struct consent *v, size_t n, int purpose,
		   const char *counterpart, const char *on_date, struct consent_decision *out)
{
	struct consent_decision d = { .basis = BASIS_CONSENT };

	if (!s_deny_bad_query(&d, v, n, purpose, counterpart, on_date))
		s_decide(&d, basis_for_purpose, v, n, purpose, counterpart, on_date);
	if (out)
		*out = d;
	return d.allowed;
}

/* ---- re-confirmation ---- */

int consent_due(const struct consent *c, const char *birth_date, const char *today,
		int horizon_days, char *why, size_t whylen)
{
	char b16[11];
	int parental, expiring;

	if (why && whylen)
		why[0] = '\0';
	else
		whylen = 0;
	if (!c || !date_valid(today, NULL, NULL, NULL) ||
	    consent_birthday(birth_date, CONSENT_AGE_OF_CONTROL, b16) < 0)
		return -EINVAL;
	if (s_standing(c, today) != CONSENT_ALLOWED_CONSENT)
		return 0;
	parental = (c->grantor == CONSENT_GRANTOR_PARENT || c->grantor == CONSENT_GRANTOR_GUARDIAN) &&
		   strcmp(b16, today) <= 0;
	/* In force, so valid_until >= today: a negative horizon never matches. */
	expiring = c->valid_until[0] && s_days_between(today, c->valid_until) <= horizon_days;
	if (whylen && parental)
		snprintf(why, whylen, "pupil turned %d on %s; parental consent needs the "
			 "pupil's re-confirmation", CONSENT_AGE_OF_CONTROL, b16);
	if (whylen && expiring) {
		size_t used = strnlen(why, whylen);

		snprintf(why + used, whylen - used, "%sexpires on %s", used ? "; " : "",
			 c->valid_until);
	}
	return parental || expiring;
}

int consent_reconfirmed(const struct consent *c, const struct consent *v, size_t n,
			const char *today)
{
	if (!c || !date_valid(today, NULL, NULL, NULL))
		return 0;
	for (size_t i = 0; v && i < n; i++) {
		const struct consent *p = &v[i];

		if (p->grantor == CONSENT_GRANTOR_PUPIL && p->purpose == c->purpose &&
		    (!s_named(p) || strcmp(p->counterpart, c->counterpart) == 0) &&
		    s_standing(p, today) == CONSENT_ALLOWED_CONSENT)
			return 1;
	}
	return 0;
}

/* ---- validating a new grant ---- */

/* Collects the reasons of one check; an allocation failure is kept, not lost. */
struct s_check {
	struct strlist *errors;
	int n;
	int oom;
};

/* A reason a consent cannot be recorded, for the staff member who entered it
 * (`consent grant`, `import consents`): fmt is a msgid, translated here in
 * the request's language (po/xgettext.sh: s_grant_err; design.md §10). */
static void s_grant_err(struct s_check *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void s_grant_err(struct s_check *k, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), gettext(fmt), ap);
	va_end(ap);
	if (strlist_addf(k->errors, "%s", buf) < 0)
		k->oom = 1;
	else
		k->n++;
}

/* Non-empty, printable ASCII, and NUL-terminated within len bytes. ASCII only:
 * a reference or a user name is an identifier, and a pupil's name (which
 * would need more) does not belong in it. */
static int s_text_ok(const char *s, size_t len)
{
	size_t n = strnlen(s, len);

	if (n == 0 || n == len)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static void s_check_parties(struct s_check *k, const struct consent *c)
{
	if (!s_text_ok(c->pupil_ref, sizeof(c->pupil_ref)))
		s_grant_err(k, "pupil_ref must be non-empty printable ASCII");
	if (!s_purpose_valid(c->purpose))
		s_grant_err(k, "purpose must be handover or follow_up");
	if (strcmp(c->counterpart, CONSENT_ANY) != 0 && !config_institution_id_valid(c->counterpart))
		s_grant_err(k, "counterpart '%.16s' must be an institution id (2 digits, 2 capitals "
		      "or digits, 2 digits, e.g. 12AB00) or *", c->counterpart);
	if (!consent_grantor_str(c->grantor))
		s_grant_err(k, "grantor must be pupil, parent or guardian");
}

/* The age rule on the day of granting; only called with both dates valid and
 * the grant not before the birth. */
static void s_check_age(struct s_check *k, const struct consent *c, const char *birth)
{
	int age = date_age_on(birth, c->granted_at);
	int pupil = c->grantor == CONSENT_GRANTOR_PUPIL;

	if (!consent_grantor_str(c->grantor))
		return;	/* reported already */
	if (age < CONSENT_AGE_OF_CONTROL && pupil)
		s_grant_err(k, "the pupil was %d on %s: under %d only a parent or guardian can grant",
		      age, c->granted_at, CONSENT_AGE_OF_CONTROL);
	else if (age >= CONSENT_AGE_OF_CONTROL && !pupil)
		s_grant_err(k, "the pupil was %d on %s: from %d only the pupil can grant, not a %s",
		      age, c->granted_at, CONSENT_AGE_OF_CONTROL, consent_grantor_str(c->grantor));
}

static void s_check_granted(struct s_check *k, const struct consent *c, const char *birth,
			    const char *today)
{
	int birth_ok = date_valid(birth, NULL, NULL, NULL);

	if (!birth_ok)
		s_grant_err(k, "birth date '%.16s' is not a date (YYYY-MM-DD): the age rule cannot "
		      "be checked", birth);
	if (!date_valid(c->granted_at, NULL, NULL, NULL)) {
		s_grant_err(k, "granted_at '%.16s' is not a date (YYYY-MM-DD)", c->granted_at);
		return;
	}
	if (strcmp(c->granted_at, today) > 0)
		s_grant_err(k, "granted_at %s is in the future (today is %s)", c->granted_at, today);
	if (birth_ok && strcmp(c->granted_at, birth) < 0)
		s_grant_err(k, "granted_at %s is before the pupil's birth date %s", c->granted_at, birth);
	else if (birth_ok)
		s_check_age(k, c, birth);
}

static void s_check_valid_until(struct s_check *k, const struct consent *c)
{
	if (!c->valid_until[0])
		return;
	if (!date_valid(c->valid_until, NULL, NULL, NULL))
		s_grant_err(k, "valid_until '%.16s' is not a date (YYYY-MM-DD)", c->valid_until);
	else if (date_valid(c->granted_at, NULL, NULL, NULL) &&
		 strcmp(c->valid_until, c->granted_at) < 0)
		s_grant_err(k, "valid_until %s is before granted_at %s", c->valid_until, c->granted_at);
}

static void s_check_evidence(struct s_check *k, const struct consent *c)
{
	if (!consent_evidence_method_valid(c->evidence_method))
		s_grant_err(k, "evidence method '%.31s' must be one of: %s", c->evidence_method,
		      consent_evidence_methods());
	if (!c->evidence_ref[0])
		s_grant_err(k, "evidence reference is required");
	else if (!s_text_ok(c->evidence_ref, sizeof(c->evidence_ref)))
		s_grant_err(k, "evidence reference must be printable ASCII, at most %zu characters",
		      sizeof(c->evidence_ref) - 1);
}

/* Who recorded it and when; a new grant cannot carry a withdrawal. recorded_at
 * may be left empty for the store to fill in. */
static void s_check_recording(struct s_check *k, const struct consent *c, const char *today)
{
	const char *at = c->recorded_at;

	if (!s_text_ok(c->recorded_by, sizeof(c->recorded_by)))
		s_grant_err(k, "recorded_by must be a non-empty printable ASCII user name");
	if (at[0] && !date_valid(at, NULL, NULL, NULL))
		s_grant_err(k, "recorded_at '%.16s' is not a date (YYYY-MM-DD)", at);
	else if (at[0] && strcmp(at, today) > 0)
		s_grant_err(k, "recorded_at %s is in the future (today is %s)", at, today);
	else if (at[0] && date_valid(c->granted_at, NULL, NULL, NULL) &&
		 strcmp(at, c->granted_at) < 0)
		s_grant_err(k, "recorded_at %s is before granted_at %s", at, c->granted_at);
	if (c->withdrawn_at[0] || c->withdrawn_by[0])
		s_grant_err(k, "a new grant cannot already be withdrawn (withdrawn_at and "
		      "withdrawn_by must be empty)");
}

int consent_grant_check(const struct consent *c, const char *birth_date, const char *today,
			struct strlist *errors)
{
	struct s_check k = { .errors = errors };

	if (!c || !birth_date || !errors || !date_valid(today, NULL, NULL, NULL))
		return -EINVAL;
	s_check_parties(&k, c);
	s_check_granted(&k, c, birth_date, today);
	s_check_valid_until(&k, c);
	s_check_evidence(&k, c);
	s_check_recording(&k, c, today);
	return k.oom ? -ENOMEM : k.n;
}

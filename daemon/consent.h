/* consent: the rules of design.md §3 as pure functions — who may grant, when a
 * consent is in force, which record authorises a disclosure, why one is
 * refused, and which consents are due for re-confirmation. No store, no
 * network, no logging: callers pass the records and the date, and log the
 * decision themselves. All dates are YYYY-MM-DD strings (local calendar days);
 * every range is inclusive at both ends. */
#ifndef OVERSTAP_CONSENT_H
#define OVERSTAP_CONSENT_H

#include <stddef.h>

#include "vocab.h"

struct strlist;

/* What a disclosure is for. `status` is statutory and never needs consent, so it
 * has no value here; `quality_report` is covered by the follow_up consent. */
enum consent_purpose { CONSENT_PURPOSE_HANDOVER = 1, CONSENT_PURPOSE_FOLLOW_UP = 2 };
/* Who gave the consent. */
enum consent_grantor { CONSENT_GRANTOR_PUPIL = 1, CONSENT_GRANTOR_PARENT = 2, CONSENT_GRANTOR_GUARDIAN = 3 };
/* The legal basis a disclosure rests on. */
enum consent_basis { BASIS_STATUTE = 1, BASIS_CONSENT = 2 };

#define CONSENT_AGE_OF_CONTROL 16	/* from this birthday on, the pupil decides */
#define CONSENT_ANY "*"		/* counterpart: any institution */

/* One consent record: every field design.md §3 names. Strings are NUL-terminated;
 * "" means not set. */
struct consent {
	char id[37];			/* UUID, assigned by the store */
	char pupil_ref[65];		/* the school's own pupil number */
	int purpose;			/* enum consent_purpose */
	char counterpart[7];		/* institution id, or "*" for any */
	int grantor;			/* enum consent_grantor */
	char granted_at[11];		/* the day it was given */
	char valid_until[11];		/* last day it is valid; "" = no end date */
	char evidence_method[32];	/* how it was collected: see consent_evidence_methods() */
	char evidence_ref[129];		/* document reference, printable ASCII */
	char recorded_by[64];		/* staff user who recorded it */
	char recorded_at[11];		/* the day it was recorded */
	char withdrawn_at[11];		/* "" = not withdrawn; effective from that day */
	char withdrawn_by[64];		/* staff user who recorded the withdrawal */
};

/* Why a decision came out as it did; stable values, for the audit log. */
enum consent_verdict {
	CONSENT_ALLOWED_STATUTE = 1,	/* the purpose has a statutory basis */
	CONSENT_ALLOWED_CONSENT,	/* a consent in force authorises it */
	CONSENT_DENIED_NONE,		/* no record for this purpose and recipient */
	CONSENT_DENIED_WITHDRAWN,	/* the closest record was withdrawn */
	CONSENT_DENIED_EXPIRED,		/* the closest record ran out */
	CONSENT_DENIED_NOT_YET_VALID,	/* the closest record is granted later */
	CONSENT_DENIED_INVALID,		/* bad arguments or a damaged record */
};

/* The outcome of consent_decide(), self-contained (no pointers) so that it can
 * be queued and audited after the records are gone. */
struct consent_decision {
	int allowed;			/* 1 = the disclosure may go ahead */
	int basis;			/* enum consent_basis relied on (or that was needed) */
	int verdict;			/* enum consent_verdict */
	char consent_id[37];		/* the authorising consent; "" under statute or when denied */
	char reason[160];		/* human-readable, e.g. "consent <id> withdrawn on D" */
};

/* String tables. Each _from_str returns the enum value, or 0 for NULL or an
 * unknown string. Each _str returns the canonical string, or NULL for an
 * unknown value. */
VOCAB_DECLARE(consent_purpose, int);	/* handover, follow_up */
VOCAB_DECLARE(consent_grantor, int);	/* pupil, parent, guardian */
VOCAB_DECLARE(consent_basis, int);	/* statute, consent */
/* Returns 1 when s is a known evidence collection method, else 0. */
int consent_evidence_method_valid(const char *s);
/* Returns the comma-separated list of evidence methods, for messages and --help. */
const char *consent_evidence_methods(void);

/* Validates a new grant against the pupil's birth date and today's date.
 * Appends one human-readable reason per problem to errors (in field order) and
 * returns how many it appended: 0 means the grant may be recorded. Returns
 * -EINVAL when c, birth_date, today or errors is NULL or today is not a date,
 * -ENOMEM when a reason could not be appended. */
int consent_grant_check(const struct consent *c, const char *birth_date, const char *today,
			struct strlist *errors);

/* Returns 1 when c authorises a disclosure for purpose to counterpart (an
 * institution id) on on_date: same purpose, counterpart "*" or equal, granted
 * on or before on_date, valid_until empty or on/after on_date, and not withdrawn
 * (withdrawn_at empty or after on_date: a withdrawal takes effect on the day it
 * is recorded). Returns 0 otherwise, also for any invalid argument or date. */
/* 1 when c is granted by on_date, not expired and not withdrawn on it,
 * whatever its purpose and counterpart (for listings); 0 otherwise. */
int consent_active_on(const struct consent *c, const char *on_date);

int consent_in_force(const struct consent *c, int purpose, const char *counterpart,
		     const char *on_date);

/* Returns a borrowed pointer to the consent in v[0..n) that authorises the
 * disclosure on on_date — a named counterpart before "*", then the latest
 * granted; on a full tie the first in v — or NULL when none is in force.
 * v must hold one pupil's consents only: pupil_ref is not compared. */
const struct consent *consent_find(const struct consent *v, size_t n, int purpose,
				   const char *counterpart, const char *on_date);

/* Decides one disclosure of purpose to counterpart on on_date, given the basis
 * the configuration assigns to the purpose and the pupil's consents v[0..n).
 * follow_up has no statutory basis (design.md §3): for it, BASIS_STATUTE is ignored
 * and consent is required; any basis other than BASIS_STATUTE also means
 * consent is required. When denied, the reason names the closest record (the
 * one consent_find would prefer) and why it does not authorise. Fills *out
 * (when not NULL) and returns out->allowed: 1 allowed, 0 denied, also for
 * invalid arguments (fail closed). */
int consent_decide(int basis_for_purpose, const struct consent *v, size_t n, int purpose,
		   const char *counterpart, const char *on_date, struct consent_decision *out);

/* Returns the date on which someone born on birth turns age years old into out:
 * 29 February births turn a year older on 1 March in common years, as
 * date_age_on() counts. Returns 0, or -EINVAL for an invalid birth, out NULL,
 * an age outside 0..200, or a birthday after the year 9999. */
int consent_birthday(const char *birth, int age, char out[11]);

/* Returns 1 when c is in force today (granted, not expired, not withdrawn) and
 * needs attention: (a) a parent or guardian granted it and the pupil is 16 or
 * older today, so the pupil must re-confirm it; or (b) it expires within
 * horizon_days of today (valid_until - today <= horizon_days; a negative horizon
 * turns this off). why (when whylen > 0) gets "pupil turned 16 on D; parental
 * consent needs the pupil's re-confirmation" and/or "expires on D", joined by
 * "; " when both apply. Returns 0 when not due (why = ""), -EINVAL when c is
 * NULL or today or birth_date is not a date.
 * A re-confirmation recorded as a new pupil grant does not end the parental
 * record: the caller should skip parental consents that consent_reconfirmed()
 * reports as covered. */
int consent_due(const struct consent *c, const char *birth_date, const char *today,
		int horizon_days, char *why, size_t whylen);

/* Returns 1 when a consent in v[0..n) granted by the pupil and in force on
 * today covers every disclosure c covers (same purpose; counterpart "*" or the
 * same as c's), so c no longer needs re-confirmation; 0 otherwise. */
int consent_reconfirmed(const struct consent *c, const struct consent *v, size_t n,
			const char *today);

#endif

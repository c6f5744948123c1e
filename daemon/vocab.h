/* vocab: the domain's code lists (design.md §6, §8) and their mapping to the wire
 * enums. One table per list; the CSV import, the CLI and the reports all read
 * the same tables. */
#ifndef OVERSTAP_VOCAB_H
#define OVERSTAP_VOCAB_H

#include <stddef.h>

#include "overstap.pb-c.h"

/* One entry of a code list: the canonical string and its value; 0 is every
 * list's unknown/unspecified value and has no entry. */
struct vocab_entry {
	const char *str;
	int value;
};

/* The value of s in t[0..n), or 0 for NULL or a string not in it (exact,
 * case-sensitive). */
int vocab_lookup(const struct vocab_entry *t, size_t n, const char *s);
/* The string of value v in t[0..n) (static storage), or NULL. */
const char *vocab_name(const struct vocab_entry *t, size_t n, int v);

/* Declares T PREFIX_from_str(const char *s) and const char *PREFIX_str(T v). */
#define VOCAB_DECLARE(prefix, T)							\
	T prefix##_from_str(const char *s);						\
	const char *prefix##_str(T v)

/* Defines T PREFIX_from_str(const char *s) and const char *PREFIX_str(T v)
 * over the table t: the pair every list has, written once. */
#define VOCAB_LOOKUPS(prefix, T, t)							\
	T prefix##_from_str(const char *s)						\
	{										\
		return (T)vocab_lookup(t, sizeof(t) / sizeof((t)[0]), s);		\
	}										\
	const char *prefix##_str(T v)							\
	{										\
		return vocab_name(t, sizeof(t) / sizeof((t)[0]), (int)v);		\
	}

/* Each _from_str returns the enum value, or 0 (the UNSPECIFIED value) for an
 * unknown string. Each _str returns the canonical string, or NULL for an
 * unknown/unspecified value. */
VOCAB_DECLARE(vocab_program, Overstap__Program);
VOCAB_DECLARE(vocab_destination, Overstap__Destination);
VOCAB_DECLARE(vocab_advice, Overstap__Advice);
VOCAB_DECLARE(vocab_level, Overstap__RefLevel);		/* none, 1F, 2F, 3F */
VOCAB_DECLARE(vocab_reviewer, Overstap__Reviewer);	/* pupil, parent, guardian */
VOCAB_DECLARE(vocab_yesno, Overstap__Tristate);		/* yes, no */
VOCAB_DECLARE(vocab_diploma, Overstap__Diploma);	/* none, vmbo_b, ..., vwo */

/* The staff's spellings (design.md §8.8): the canonical code (static storage)
 * of s written in any case, with blanks, '-', '_', '.' or '/' between its
 * words, or as one of the Dutch names in vocab.c's alias tables (`ja`, `PrO`,
 * `mbo-2`, `niveau 2`, `Havo`, ...); NULL when s is none of them. */
const char *vocab_program_canon(const char *s);
const char *vocab_destination_canon(const char *s);
const char *vocab_advice_canon(const char *s);
const char *vocab_level_canon(const char *s);
const char *vocab_yesno_canon(const char *s);
const char *outcome_event_canon(const char *s);
const char *vocab_diploma_canon(const char *s);
/* An MBO level "1".."4" for "niveau 2", "mbo-2", "N2", ...; NULL otherwise. */
const char *vocab_mbo_level_canon(const char *s);

/* One alias: a name folded as csvdialect_fold() does, and its code. */
struct vocab_alias {
	const char *alias;
	const char *code;
};
/* The alias tables, for the tests (every alias folded, every code known)
 * and the man page: *n entries. */
const struct vocab_alias *vocab_aliases(const char *list, size_t *n);
/* The staff's spelling of s for a list kept elsewhere (the consents'): a code
 * of t[0..n) in any case or separators, or an alias of a[0..na) (folded). */
const char *vocab_canon(const struct vocab_entry *t, size_t n, const struct vocab_alias *a,
			size_t na, const char *s);

/* Support-need codes: a fixed, non-medical vocabulary (special categories never
 * go into structured fields, design.md §3). Returns 1 when known. */
int vocab_support_code_valid(const char *code);
/* Comma-separated list of the valid codes, for error messages and --help. */
const char *vocab_support_codes(void);

/* Comma-separated lists of valid strings, for error messages. */
const char *vocab_program_list(void);
const char *vocab_destination_list(void);
const char *vocab_advice_list(void);
const char *vocab_diploma_list(void);

/* The outcome events of design.md §3/§8, in design.md §8 order: what the outcomes import,
 * `overstap registration status` / `outcome record` and the reports share. 0 is
 * "unknown", as above. The numbers are stored (store.c): append only. */
enum outcome_event {
	OUTCOME_EV_UNKNOWN = 0,
	/* statuses: purpose `status`, statutory */
	OUTCOME_EV_REGISTERED,
	OUTCOME_EV_AGREEMENT_OFFERED,
	OUTCOME_EV_NOT_ENROLLED,
	OUTCOME_EV_WITHDRAWN,
	OUTCOME_EV_ENROLLED,
	OUTCOME_EV_INTAKE_HELD,
	/* outcomes: purpose `follow_up`, consent-based */
	OUTCOME_EV_STILL_ENROLLED,
	OUTCOME_EV_DIPLOMA,
	OUTCOME_EV_PROGRESSED,
	OUTCOME_EV_SWITCHED,
	OUTCOME_EV_LEFT_WITHOUT_DIPLOMA,
	OUTCOME_EV_COUNT
};

#define OUTCOME_LEVEL_MIN 1	/* MBO levels: 1 = entree .. 4 */
#define OUTCOME_LEVEL_MAX 4

/* The event for its name in design.md §8 (exact, case-sensitive), or OUTCOME_EV_UNKNOWN;
 * the design.md §8 name of an event (static storage), or NULL for an unknown value. */
VOCAB_DECLARE(outcome_event, enum outcome_event);
/* 1 for a registration status (purpose `status`, statutory), 0 for a
 * follow-up outcome (purpose `follow_up`, needs consent) or an unknown value. */
int outcome_event_is_status(enum outcome_event ev);
/* 1 when the event carries an MBO level (diploma, progressed), else 0. */
int outcome_event_needs_level(enum outcome_event ev);
/* Every event name, comma-separated in design.md §8 order (static storage): for error
 * messages and --help. */
const char *outcome_event_list(void);

#endif

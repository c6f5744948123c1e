/* vocab: the domain's code lists (SPEC §6, §8) and their mapping to the wire
 * enums. One table per list; the CSV import, the CLI and the reports all read
 * the same tables. */
#ifndef OVERSTAP_VOCAB_H
#define OVERSTAP_VOCAB_H

#include "overstap.pb-c.h"

/* Each _from_str returns the enum value, or 0 (the UNSPECIFIED value) for an
 * unknown string. Each _str returns the canonical string, or NULL for an
 * unknown/unspecified value. */
Overstap__Program vocab_program_from_str(const char *s);
const char *vocab_program_str(Overstap__Program v);
Overstap__Destination vocab_destination_from_str(const char *s);
const char *vocab_destination_str(Overstap__Destination v);
Overstap__Advice vocab_advice_from_str(const char *s);
const char *vocab_advice_str(Overstap__Advice v);
Overstap__RefLevel vocab_level_from_str(const char *s);	/* none, 1F, 2F, 3F */
const char *vocab_level_str(Overstap__RefLevel v);
Overstap__Reviewer vocab_reviewer_from_str(const char *s);	/* pupil, parent, guardian */
const char *vocab_reviewer_str(Overstap__Reviewer v);
Overstap__Tristate vocab_yesno_from_str(const char *s);	/* yes, no */
const char *vocab_yesno_str(Overstap__Tristate v);

/* Support-need codes: a fixed, non-medical vocabulary (special categories never
 * go into structured fields, SPEC §3). Returns 1 when known. */
int vocab_support_code_valid(const char *code);
/* Comma-separated list of the valid codes, for error messages and --help. */
const char *vocab_support_codes(void);

/* Comma-separated lists of valid strings, for error messages. */
const char *vocab_program_list(void);
const char *vocab_destination_list(void);
const char *vocab_advice_list(void);

#endif

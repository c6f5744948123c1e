/* pgn: the pupil's personal number (persoonsgebonden nummer): a 9-digit BSN or
 * onderwijsnummer, checked with the elfproef (11-test). */
#ifndef OVERSTAP_PGN_H
#define OVERSTAP_PGN_H

/* Returns 0 when valid, or a negative code with a reason:
 *   -EINVAL and *why = "must be 9 digits" for wrong length or a non-digit,
 *   -EDOM   and *why = "fails the elfproef (11-test)" for a wrong checksum.
 * BSN weights 9..2 and -1: sum(d_i * w_i) % 11 == 0 and not all zeroes.
 * An onderwijsnummer (starts with 10) uses the weights 9..1: sum % 11 == 5.
 * why may be NULL. */
int pgn_check(const char *pgn, const char **why);

#endif

/* pgn: the pupil's personal number (BSN or onderwijsnummer) and its elfproef. */
#include "pgn.h"
#include "i18n.h"

#include <errno.h>
#include <stddef.h>

#define PGN_LEN 9

/* BSN: weights 9..2 and -1 on the check digit; the sum is a multiple of 11.
 * Onderwijsnummer (DUO's number for pupils without a BSN, always 10xxxxxxx):
 * weights 9..1; the sum leaves remainder 5, so that no onderwijsnummer can
 * pass as a BSN. */
static const int s_bsn_weights[PGN_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, -1 };
static const int s_onr_weights[PGN_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };

int pgn_check(const char *pgn, const char **why)
{
	const int *w;
	int sum = 0, nonzero = 0, want;
	size_t i;

	for (i = 0; pgn && i < PGN_LEN; i++)
		if (pgn[i] < '0' || pgn[i] > '9')
			break;
	if (!pgn || i != PGN_LEN || pgn[PGN_LEN] != '\0') {
		if (why)
			*why = N_("must be 9 digits");	/* translated where shown */
		return -EINVAL;
	}
	if (pgn[0] == '1' && pgn[1] == '0') {
		w = s_onr_weights;
		want = 5;
	} else {
		w = s_bsn_weights;
		want = 0;
	}
	for (i = 0; i < PGN_LEN; i++) {
		sum += (pgn[i] - '0') * w[i];
		nonzero |= pgn[i] != '0';
	}
	/* The BSN sum can be negative (000000001): normalise before comparing. */
	if (!nonzero || ((sum % 11) + 11) % 11 != want) {
		if (why)
			*why = N_("fails the elfproef (11-test)");
		return -EDOM;
	}
	return 0;
}

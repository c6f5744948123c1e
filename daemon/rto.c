/* rto: RFC 6298's estimator (rto.h). */
#include "rto.h"

void rto_sample(struct rto *t, int64_t r)
{
	if (r < 1)
		r = 1;
	if (!t->srtt) {
		t->srtt = r;
		t->rttvar = r / 2;
		return;
	}
	t->rttvar = (3 * t->rttvar + (t->srtt > r ? t->srtt - r : r - t->srtt)) / 4;
	t->srtt = (7 * t->srtt + r) / 8;
}

int64_t rto_timeout(const struct rto *t, int64_t initial, int64_t max)
{
	int64_t floor = initial < RTO_MIN_MS ? initial : RTO_MIN_MS, v;

	if (!t->srtt)
		return initial < max ? initial : max;
	v = t->srtt + (4 * t->rttvar > RTO_GRANULARITY_MS ? 4 * t->rttvar : RTO_GRANULARITY_MS);
	return v < floor ? floor : v > max ? max : v;
}

int64_t rto_backoff(const struct rto *t, int64_t initial, int64_t max, unsigned attempts)
{
	int64_t ms = rto_timeout(t, initial, max);

	for (unsigned i = 1; i < attempts && ms < max; i++)
		ms *= 2;
	return ms < max ? ms : max;
}

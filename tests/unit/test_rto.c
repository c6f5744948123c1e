/* Unit tests for rto: the timeout follows the acks' round trips as RFC 6298
 * computes it, stays within its bounds, and doubles per retry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rto.h"

static void test_before_and_after_samples(void **state)
{
	struct rto t = { 0 };

	(void)state;
	assert_int_equal(rto_timeout(&t, 1000, 60000), 1000);	/* no sample: as configured */
	rto_sample(&t, 400);
	/* first sample: SRTT = R, RTTVAR = R/2, RTO = R + 4 R/2 */
	assert_int_equal(t.srtt, 400);
	assert_int_equal(t.rttvar, 200);
	assert_int_equal(rto_timeout(&t, 1000, 60000), 1200);
	rto_sample(&t, 800);
	/* RTTVAR = 3/4 200 + 1/4 |400 - 800| = 250; SRTT = 7/8 400 + 1/8 800 = 450 */
	assert_int_equal(t.rttvar, 250);
	assert_int_equal(t.srtt, 450);
	assert_int_equal(rto_timeout(&t, 1000, 60000), 1450);
}

/* A receiver that needs 3 s per ack under load: retries wait longer than
 * the configured first second, which is what stops the retry storm. */
static void test_slow_receiver_gets_time(void **state)
{
	struct rto t = { 0 };

	(void)state;
	for (int i = 0; i < 50; i++)
		rto_sample(&t, 3000);
	assert_true(rto_timeout(&t, 1000, 60000) >= 3000);
	assert_true(rto_timeout(&t, 1000, 60000) < 3500);
}

static void test_bounds_and_backoff(void **state)
{
	struct rto t = { 0 };

	(void)state;
	for (int i = 0; i < 50; i++)
		rto_sample(&t, 2);
	assert_int_equal(rto_timeout(&t, 1000, 60000), RTO_MIN_MS);	/* floor */
	assert_int_equal(rto_timeout(&t, 50, 60000), 50);		/* a smaller configured start */
	for (int i = 0; i < 50; i++)
		rto_sample(&t, 100000);
	assert_int_equal(rto_timeout(&t, 1000, 60000), 60000);	/* ceiling */
	t = (struct rto){ 0 };
	rto_sample(&t, 100);	/* RTO 300 */
	assert_int_equal(rto_backoff(&t, 1000, 2000, 1), 300);
	assert_int_equal(rto_backoff(&t, 1000, 2000, 2), 600);
	assert_int_equal(rto_backoff(&t, 1000, 2000, 3), 1200);
	assert_int_equal(rto_backoff(&t, 1000, 2000, 4), 2000);
	assert_int_equal(rto_backoff(&t, 1000, 2000, 40), 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_and_after_samples),
		cmocka_unit_test(test_slow_receiver_gets_time),
		cmocka_unit_test(test_bounds_and_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for store_events.c: the timeline, retries, expiry, and which
 * failures count as "already applied". */
#include "store_fixture.h"

static void test_events_expire_and_delete(void **state)
{
	struct fx *f = *state;
	unsigned n = 99;

	fx_event(f, REC_A, "2024-01-01");
	fx_event(f, REC_A, "2024-06-30");
	fx_event(f, REC_B, "2024-07-01");
	fx_event(f, REC_B, "2025-01-01");
	fx_event(f, REC_C, "2025-02-01");
	assert_int_equal(store_events_expire(f->s, "2024-07-01", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fx_events(f, REC_A), 0);
	assert_int_equal(fx_events(f, REC_B), 2);
	assert_int_equal(store_events_expire(f->s, "2024-07-01", &n), 0);
	assert_int_equal(n, 0);

	assert_int_equal(store_events_delete(f->s, REC_B, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fx_events(f, REC_B), 0);
	assert_int_equal(fx_events(f, REC_C), 1);
	assert_int_equal(store_events_delete(f->s, REC_B, &n), 0);
	assert_int_equal(n, 0);
}

/*NEWTESTS*/
int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_events_expire_and_delete),
		/*NEW*/
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

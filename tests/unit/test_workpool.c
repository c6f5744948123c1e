/* Unit tests for workpool.c: every item runs exactly once per job, job after
 * job, the helpers really take items, and no item outlives its job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workpool.h"

#define N_MAX 600

struct job {
	int runs[N_MAX];		/* each index is written by the one thread that runs it */
	pthread_t who[N_MAX];
	long sleep_ns;
};

static void s_item(void *ctx, size_t i)
{
	struct job *j = ctx;

	if (j->sleep_ns)
		nanosleep(&(struct timespec){ 0, j->sleep_ns }, NULL);
	j->runs[i]++;
	j->who[i] = pthread_self();
}

static void test_each_item_once(void **state)
{
	struct workpool *wp = workpool_new(3);
	struct job *j = calloc(1, sizeof(*j));

	(void)state;
	assert_non_null(wp);
	/* job after job of every size, as batches arrive */
	for (size_t round = 0; round < 2000; round++) {
		size_t n = (round * 7919) % (N_MAX + 1);

		memset(j->runs, 0, sizeof(j->runs));
		workpool_for(wp, n, s_item, j);
		/* all done when workpool_for returns, each exactly once */
		for (size_t i = 0; i < N_MAX; i++)
			assert_int_equal(j->runs[i], i < n ? 1 : 0);
	}
	workpool_free(&wp);
	assert_null(wp);
	workpool_free(&wp);	/* a NULLed pool is fine */
	workpool_free(NULL);
	free(j);
}

static void test_helpers_take_items(void **state)
{
	struct workpool *wp = workpool_new(1);
	struct job *j = calloc(1, sizeof(*j));
	pthread_t me = pthread_self();
	size_t theirs = 0;

	(void)state;
	assert_non_null(wp);
	j->sleep_ns = 2000000;	/* 2 ms an item: the helper wakes long before the end */
	workpool_for(wp, 50, s_item, j);
	for (size_t i = 0; i < 50; i++) {
		assert_int_equal(j->runs[i], 1);
		theirs += !pthread_equal(j->who[i], me);
	}
	assert_true(theirs > 0);
	assert_true(theirs < 50);	/* the caller works too */
	workpool_free(&wp);
	free(j);
}

static void test_no_pool_runs_in_order(void **state)
{
	struct job *j = calloc(1, sizeof(*j));
	struct workpool *none = workpool_new(0);

	(void)state;
	workpool_for(NULL, 10, s_item, j);
	workpool_for(none, 10, s_item, j);
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(j->runs[i], 2);
		assert_true(pthread_equal(j->who[i], pthread_self()));
	}
	assert_true(workpool_helpers_for_cpus() <= WORKPOOL_MAX_HELPERS);
	workpool_free(&none);
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_item_once),
		cmocka_unit_test(test_helpers_take_items),
		cmocka_unit_test(test_no_pool_runs_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

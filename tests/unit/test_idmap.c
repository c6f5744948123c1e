/* Unit tests for idmap: ids found, removed and moved as a window of in-flight
 * messages uses them, checked against a plain scan after every step, with
 * ids that collide in the table (a small table, many ids) and the swap-last
 * removal net_tx.c does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"

#define N 600

static char s_ids[N][40];	/* the caller's entries: their ids */
static size_t s_n;

static const char *s_key(const void *ctx, uint32_t i)
{
	(void)ctx;
	return s_ids[i];
}

/* Every entry is found at its index, and some ids that are not, are not. */
static void s_check(const struct idmap *m)
{
	for (size_t i = 0; i < s_n; i++)
		assert_int_equal(idmap_find(m, s_ids[i]), (long)i);
	assert_int_equal(idmap_find(m, "01890a5d-0000-7000-8000-ffffffffffff"), -1);
}

/* net_tx.c's removal: forget, then the last entry moves into the hole. */
static void s_remove(struct idmap *m, size_t i)
{
	idmap_del(m, s_ids[i]);
	if (i != s_n - 1) {
		idmap_move(m, s_ids[s_n - 1], (uint32_t)i);
		memcpy(s_ids[i], s_ids[s_n - 1], sizeof(s_ids[i]));
	}
	s_n--;
}

static void test_window_in_random_order(void **state)
{
	struct idmap m;
	unsigned seed = 7;

	(void)state;
	assert_int_equal(idmap_init(&m, N, s_key, NULL), 0);
	for (int round = 0; round < 20; round++) {
		/* fill to the top, then ack a random half in random order */
		while (s_n < N) {
			snprintf(s_ids[s_n], sizeof(s_ids[s_n]), "01890a5d-%04x-7000-8000-%012x",
				 (unsigned)round, (unsigned)rand_r(&seed));
			idmap_put(&m, (uint32_t)s_n);
			s_n++;
		}
		s_check(&m);
		for (int k = 0; k < N / 2; k++) {
			s_remove(&m, (size_t)rand_r(&seed) % s_n);
			if (k % 37 == 0)
				s_check(&m);
		}
		s_check(&m);
	}
	while (s_n)
		s_remove(&m, 0);
	for (size_t i = 0; i <= m.mask; i++)
		assert_int_equal(m.slots[i], 0);	/* nothing left behind */
	idmap_free(&m);
}

/* Ids that all land on one home slot: the probe chains, and removal from
 * the middle of a chain that wraps around the end of the table. */
static void test_collisions_and_wraparound(void **state)
{
	struct idmap m;
	char want[40];

	(void)state;
	assert_int_equal(idmap_init(&m, 4, s_key, NULL), 0);	/* 16 slots */
	s_n = 0;
	/* keep the ids whose home is the last slot */
	for (unsigned v = 0; s_n < 6; v++) {
		uint32_t h = 2166136261u;

		snprintf(want, sizeof(want), "id-%u", v);
		for (const char *p = want; *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		if ((h & m.mask) != m.mask)
			continue;
		memcpy(s_ids[s_n], want, sizeof(want));
		idmap_put(&m, (uint32_t)s_n);
		s_n++;
	}
	s_check(&m);
	s_remove(&m, 1);
	s_check(&m);
	s_remove(&m, 0);
	s_check(&m);
	idmap_clear(&m);
	s_n = 0;
	s_check(&m);
	idmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_in_random_order),
		cmocka_unit_test(test_collisions_and_wraparound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_pgn: the elfproef for BSNs and onderwijsnummers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pgn.h"

static void test_bsn_valid(void **state)
{
	const char *why = "untouched";

	(void)state;
	/* 1*9 + 1*8 + 1*7 + 2*6 + 2*5 + 2*4 + 3*3 + 3*2 - 3*1 = 66 = 6 * 11 */
	assert_int_equal(pgn_check("111222333", &why), 0);
	assert_string_equal(why, "untouched");
	/* 1*9 + 2*8 + 3*7 + 4*6 + 5*5 + 6*4 + 7*3 + 8*2 - 2*1 = 154 = 14 * 11 */
	assert_int_equal(pgn_check("123456782", &why), 0);
	assert_int_equal(pgn_check("123456782", NULL), 0);
}

static void test_bsn_checksum(void **state)
{
	const char *why = NULL;

	(void)state;
	/* 156 - 9 = 147 = 13 * 11 + 4 */
	assert_int_equal(pgn_check("123456789", &why), -EDOM);
	assert_string_equal(why, "fails the elfproef (11-test)");
	/* One digit off from a valid number. */
	assert_int_equal(pgn_check("111222334", &why), -EDOM);
	/* Swapped neighbours: the weights catch it. */
	assert_int_equal(pgn_check("111223233", &why), -EDOM);
	/* Sum 0 is a multiple of 11, but nobody has number zero. */
	assert_int_equal(pgn_check("000000000", &why), -EDOM);
	/* Sum -1: a negative remainder must not pass. */
	assert_int_equal(pgn_check("000000001", NULL), -EDOM);
}

static void test_format(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_int_equal(pgn_check("12345678", &why), -EINVAL);
	assert_string_equal(why, "must be 9 digits");
	assert_int_equal(pgn_check("1234567820", &why), -EINVAL);
	assert_int_equal(pgn_check("12345678a", &why), -EINVAL);
	assert_int_equal(pgn_check("123 456 782", &why), -EINVAL);
	assert_int_equal(pgn_check(" 123456782", &why), -EINVAL);
	assert_int_equal(pgn_check("-12345678", &why), -EINVAL);
	assert_int_equal(pgn_check("", &why), -EINVAL);
	assert_int_equal(pgn_check(NULL, &why), -EINVAL);
	assert_int_equal(pgn_check("12345678", NULL), -EINVAL);
}

static void test_onderwijsnummer(void **state)
{
	const char *why = NULL;

	(void)state;
	/* Weights 9..1, the sum must leave remainder 5:
	 * 1*9 + 0*8 + 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 6*2 + 7*1
	 *   = 9 + 0 + 7 + 12 + 15 + 16 + 15 + 12 + 7 = 93 = 8 * 11 + 5 */
	assert_int_equal(pgn_check("101234567", &why), 0);
	/* 1*9 + 7*1 = 16 = 11 + 5 */
	assert_int_equal(pgn_check("100000007", &why), 0);
	/* 93 + 1 = 94 = 8 * 11 + 6 */
	assert_int_equal(pgn_check("101234568", &why), -EDOM);
	assert_string_equal(why, "fails the elfproef (11-test)");
	/* Passes the BSN rule (1*9 - 9*1 = 0) but starts with 10, so the
	 * onderwijsnummer rule applies: 9 + 9 = 18 = 11 + 7. */
	assert_int_equal(pgn_check("100000009", &why), -EDOM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bsn_valid),
		cmocka_unit_test(test_bsn_checksum),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_onderwijsnummer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

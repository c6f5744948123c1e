/* Unit tests for store_inbox.c: idempotent receipt, listing, assertions. */
#include "store_fixture.h"

static void test_inbox_idempotent(void **state)
{
	struct fx *f = *state;
	Overstap__Handover h = OVERSTAP__HANDOVER__INIT;
	uint8_t packed[] = "signed envelope bytes", *out = NULL;
	struct inbox_row row;
	uint64_t count = 0;
	size_t len = 0;

	h.record_id = "01890a5d-ac96-774b-bcce-b302099a8057";
	h.pgn = "123456782";
	h.cohort = "2024-2025";
	h.exit_date = "2025-07-04";
	h.program = OVERSTAP__PROGRAM__PRO;
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000001", "12AB00", &h,
					 packed, sizeof(packed), 5), 0);
	/* The same message again, and another message for the same record. */
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000001", "12AB00", &h,
					 packed, sizeof(packed), 6), 1);
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000002", "12AB00", &h,
					 packed, sizeof(packed), 6), -EEXIST);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_inbox_count(f->s, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_inbox_get(f->s, h.record_id, &row, &out, &len), 0);
	assert_int_equal(len, sizeof(packed));
	assert_memory_equal(out, packed, len);
	assert_string_equal(row.sender, "12AB00");
	assert_int_equal(row.received_at, 5);
	free(out);
	assert_int_equal(store_inbox_get(f->s, "nope", &row, &out, &len), -ENOENT);
}

/*NEWTESTS*/
int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_inbox_idempotent),
		/*NEW*/
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

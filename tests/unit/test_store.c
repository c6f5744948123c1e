/* Unit tests for store.c: migrations, sealed personal data, all-or-nothing
 * import, the outbox life cycle and idempotent receipt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

struct fx {
	char dir[64];
	char path[128];
	uint8_t master[32];
	struct store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(crypto_random(f->master, sizeof(f->master)), 0);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(&f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static Overstapctl__Leaver *s_leaver(const char *ref, const char *pgn, const char *given,
				     const char *family)
{
	Overstapctl__Leaver *l = malloc(sizeof(*l));

	overstapctl__leaver__init(l);
	l->pupil_ref = (char *)ref;
	l->pgn = (char *)pgn;
	l->given_name = (char *)given;
	l->family_name = (char *)family;
	l->birth_date = "2008-02-29";
	l->program = "pro";
	l->cohort = "2024-2025";
	l->exit_date = "2025-07-04";
	l->destination_type = "mbo_entree";
	l->destination_institution = "25LZ00";
	l->advice = "entree";
	l->advice_followed = "no";
	l->level_taal = "1F";
	l->level_rekenen = "2F";
	l->support_needs = " job_coach ; structure: vast rooster";
	l->mentor_name = "Mevr. Kaya";
	l->line = 2;
	return l;
}

/* Read a whole file (db or wal) for the plaintext search. */
static size_t s_slurp(const char *path, char **out)
{
	FILE *fp = fopen(path, "rb");
	size_t n = 0, cap = 1 << 16;
	char *buf = malloc(cap);

	if (fp) {
		size_t got;
		while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
			n += got;
			if (n == cap)
				buf = realloc(buf, cap *= 2);
		}
		fclose(fp);
	}
	*out = buf;
	return n;
}

static int s_contains(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

static void test_import_sealed_and_found(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[2] = { s_leaver("R1", "123456782", "Zwaantje", "Oudewater"),
					 s_leaver("R2", "111222333", "Bartholomeus", "Kwakernaak") };
	struct strlist errors = { 0 };
	struct leaver l;
	char *buf, wal[160];
	size_t n;

	assert_int_equal(store_leavers_import(f->s, "f.csv", rows, 2, "mentor1", &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(store_leaver_find(f->s, "R2", 1, &l), 0);
	assert_string_equal(l.pupil_ref, "R2");
	assert_string_equal(l.priv->pgn, "111222333");
	assert_string_equal(l.priv->given_name, "Bartholomeus");
	assert_string_equal(l.cohort, "2024-2025");
	assert_string_equal(l.destination_institution, "25LZ00");
	assert_int_equal(l.advice_followed, OVERSTAP__TRISTATE__TRI_NO);
	assert_int_equal(l.state, LEAVER_IMPORTED);
	assert_int_equal(l.priv->n_support_needs, 2);
	assert_string_equal(l.priv->support_needs[0]->code, "job_coach");
	assert_string_equal(l.priv->support_needs[1]->code, "structure");
	assert_string_equal(l.priv->support_needs[1]->note, "vast rooster");
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R3", 0, &l), -ENOENT);

	/* No personal data in the clear, neither in the db nor in its WAL. */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	for (int i = 0; i < 2; i++) {
		n = s_slurp(i ? wal : f->path, &buf);
		assert_true(n > 0);
		assert_false(s_contains(buf, n, "Zwaantje"));
		assert_false(s_contains(buf, n, "Kwakernaak"));
		assert_false(s_contains(buf, n, "123456782"));
		assert_false(s_contains(buf, n, "111222333"));
		assert_false(s_contains(buf, n, "Mevr. Kaya"));
		free(buf);
	}
	free(rows[0]);
	free(rows[1]);
}

static void test_import_all_or_nothing(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *first[1] = { s_leaver("R1", "123456782", "A", "B") };
	Overstapctl__Leaver *second[2] = { s_leaver("R9", "111222333", "C", "D"),
					   s_leaver("R1", "123456782", "A", "B") };
	struct strlist errors = { 0 };
	struct leaver l;

	second[1]->line = 3;
	assert_int_equal(store_leavers_import(f->s, "a.csv", first, 1, "u", &errors), 0);
	assert_int_equal(store_leavers_import(f->s, "b.csv", second, 2, "u", &errors), -EINVAL);
	assert_int_equal(errors.n, 1);
	assert_string_equal(errors.v[0], "b.csv:3: pupil_ref: R1 is already imported");
	/* R9 came in the same file: it was not stored either. */
	assert_int_equal(store_leaver_find(f->s, "R9", 0, &l), -ENOENT);
	strlist_clear(&errors);
	free(first[0]);
	free(second[0]);
	free(second[1]);
}

static void test_wrong_master_key_cannot_read(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { s_leaver("R1", "123456782", "A", "B") };
	struct strlist errors = { 0 };
	struct store *other = NULL;
	uint8_t wrong[32];
	struct leaver l;
	char err[256];

	assert_int_equal(store_leavers_import(f->s, "a.csv", rows, 1, "u", &errors), 0);
	memcpy(wrong, f->master, 32);
	wrong[0] ^= 0x80;
	/* Another master key: refused at open, with a reason an administrator
	 * can act on, rather than failing on every pupil later. */
	assert_int_equal(store_open(f->path, wrong, &other, err, sizeof(err)), -EKEYREJECTED);
	assert_null(other);
	assert_non_null(strstr(err, "master key does not match"));
	/* And the right key still reads it. */
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_string_equal(l.priv->given_name, "A");
	store_leaver_clear(&l);
	free(rows[0]);
}

static void test_outbox_life_cycle(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { s_leaver("R1", "123456782", "A", "B") };
	struct strlist errors = { 0 };
	char ids[3][CRYPTO_UUID_STR_LEN + 1];
	struct outbox_msg *m = NULL;
	struct leaver l;
	uint64_t depth = 0;
	int64_t oldest = 0;
	size_t n = 0;

	assert_int_equal(store_leavers_import(f->s, "a.csv", rows, 1, "u", &errors), 0);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), 0);
	assert_int_equal(store_begin(f->s), 0);
	for (int i = 0; i < 3; i++) {
		char payload[32];

		assert_int_equal(crypto_uuidv7(ids[i]), 0);
		usleep(2000);	/* distinct milliseconds: ids in order */
		snprintf(payload, sizeof(payload), "envelope %d", i);
		assert_int_equal(store_outbox_add(f->s, ids[i], "25LZ00", 2, (uint8_t *)payload,
						  strlen(payload) + 1, i == 0 ? l.key_id : 0, 1000 + i), 0);
	}
	assert_int_equal(store_leaver_set_queued(f->s, l.id, "rec", ids[0], 1000), 0);
	assert_int_equal(store_leaver_set_queued(f->s, l.id, "rec", ids[0], 1000), -EALREADY);
	assert_int_equal(store_commit(f->s), 0);

	assert_int_equal(store_outbox_pending(f->s, "25LZ00", "", 10, &m, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(m[0].message_id, ids[0]);
	assert_string_equal((char *)m[2].packed, "envelope 2");
	for (size_t i = 0; i < n; i++)
		free(m[i].packed);
	free(m);
	/* After the cursor: only the later ones; another peer: none. */
	assert_int_equal(store_outbox_pending(f->s, "25LZ00", ids[0], 10, &m, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		free(m[i].packed);
	free(m);
	assert_int_equal(store_outbox_pending(f->s, "99XX00", "", 10, &m, &n), 0);
	assert_int_equal(n, 0);
	free(m);

	assert_int_equal(store_outbox_ack(f->s, "25LZ00", ids[0], 0, NULL, 1001, 1, 1002), 0);
	assert_int_equal(store_outbox_ack(f->s, "25LZ00", ids[0], 0, NULL, 1001, 1, 1003), 1);
	/* An ack from the wrong peer changes nothing. */
	assert_int_equal(store_outbox_ack(f->s, "99XX00", ids[1], 0, NULL, 1001, 1, 1003), 1);
	assert_int_equal(store_outbox_depth(f->s, "25LZ00", &depth), 0);
	assert_int_equal(store_outbox_oldest(f->s, "25LZ00", &oldest), 0);
	assert_int_equal(depth, 2);
	assert_int_equal(oldest, 1001);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), 0);
	assert_int_equal(l.state, LEAVER_DELIVERED);
	assert_int_equal(l.delivered_at, 1002);
	store_leaver_clear(&l);
	free(rows[0]);
}

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

static void test_reopen_and_newer_schema(void **state)
{
	struct fx *f = *state;
	struct store *s2 = NULL;
	sqlite3 *db;
	char err[256] = "";

	store_close(&f->s);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	store_close(&f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, f->master, &s2, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "newer"));
	assert_null(s2);
	/* teardown closes a NULL store happily */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_sealed_and_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_master_key_cannot_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_life_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_and_newer_schema, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for audit.c: the keyed hash chain finds edits, gaps, reordering,
 * re-chaining and a wrong key; checkpoints find truncation; rollbacks do not
 * break the chain; the export is valid JSON; a known-answer test pins the
 * canonical encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "crypto.h"

#define AT0 INT64_C(1795462340123)	/* 2026-11-23T19:32:20.123Z */

struct fx {
	char dir[64];
	char path[128];
	uint8_t key[32];
	sqlite3 *db;
	struct audit *a;
};

static void s_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
}

/* Tampering as someone with the database file would: the append-only
 * triggers are no obstacle to them. */
static void s_tamper(sqlite3 *db, const char *sql)
{
	s_exec(db, "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete");
	s_exec(db, sql);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_audit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/audit.db", f->dir);
	assert_int_equal(sqlite3_open(f->path, &f->db), SQLITE_OK);
	/* As store.c opens its database. */
	s_exec(f->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
	assert_int_equal(audit_schema_apply(f->db), 0);
	assert_int_equal(crypto_random(f->key, sizeof(f->key)), 0);
	assert_int_equal(audit_open(f->db, f->key, &f->a), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	audit_free(&f->a);
	assert_null(f->a);
	assert_int_equal(sqlite3_close(f->db), SQLITE_OK);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const char *const s_actions[] = {
	"consent.grant", "disclosure.allowed", "disclosure.denied", "receipt.stored",
	"erase", "report", "subject_access", "key.rollover",
};

/* Append entries first..last (their seq, when the log holds first - 1). */
static void s_fill(struct audit *a, int first, int last)
{
	for (int i = first; i <= last; i++) {
		char subject[32], detail[64];

		snprintf(subject, sizeof(subject), "rec-%04d", i % 4);
		snprintf(detail, sizeof(detail), "{\"n\":%d}", i);
		assert_int_equal(audit_append(a, AT0 + i, i % 2 ? "mentor1" : "daemon",
					      s_actions[i % 8], subject, "25LZ00", detail), 0);
	}
}

static void s_verify_bad(struct audit *a, int64_t want_seq, const char *want_why)
{
	int64_t bad = -1;
	char why[256];

	assert_int_equal(audit_verify(a, &bad, why, sizeof(why)), -EBADMSG);
	if (!strstr(why, want_why))
		fail_msg("why = \"%s\", expected it to contain \"%s\"", why, want_why);
	assert_int_equal(bad, want_seq);
}

static void s_verify_ok(struct audit *a)
{
	int64_t bad = -1;
	char why[256];

	if (audit_verify(a, &bad, why, sizeof(why)) != 0)
		fail_msg("verify: %s", why);
	assert_int_equal(bad, 0);
}

static void test_append_and_verify(void **state)
{
	struct fx *f = *state;
	uint8_t mac[32], zero[32] = { 0 };
	int64_t seq = -1, bad = -1;
	char why[64];

	assert_int_equal(audit_head(f->a, &seq, mac), 0);
	assert_int_equal(seq, 0);
	assert_memory_equal(mac, zero, 32);
	assert_int_equal(audit_verify(f->a, &bad, why, sizeof(why)), 0);
	assert_string_equal(why, "intact: 0 entries");
	s_fill(f->a, 1, 20);
	assert_int_equal(audit_head(f->a, &seq, mac), 0);
	assert_int_equal(seq, 20);
	assert_int_equal(audit_verify(f->a, &bad, why, sizeof(why)), 0);
	assert_string_equal(why, "intact: 20 entries");
	assert_int_equal(bad, 0);
	/* A reopened handle continues the same chain. */
	audit_free(&f->a);
	assert_int_equal(audit_open(f->db, f->key, &f->a), 0);
	s_fill(f->a, 21, 22);
	s_verify_ok(f->a);
}

static void test_edit_one_entry(void **state)
{
	static const char *const edits[] = {
		"UPDATE audit SET detail = '{\"n\":0}' WHERE seq = 7",
		"UPDATE audit SET actor = 'intruder' WHERE seq = 7",
		"UPDATE audit SET at = at + 1 WHERE seq = 7",
		"UPDATE audit SET subject = 'rec-9999' WHERE seq = 7",
		"UPDATE audit SET mac = randomblob(32) WHERE seq = 12",	/* the newest */
	};
	struct fx *f = *state;

	s_fill(f->a, 1, 12);
	s_verify_ok(f->a);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		s_exec(f->db, "SAVEPOINT edit");
		s_tamper(f->db, edits[i]);
		s_verify_bad(f->a, i < 4 ? 7 : 12, "mac does not match (edited?)");
		s_exec(f->db, "ROLLBACK TO edit; RELEASE edit");
		s_verify_ok(f->a);
	}
}

static void test_delete_middle(void **state)
{
	struct fx *f = *state;

	s_fill(f->a, 1, 10);
	s_exec(f->db, "SAVEPOINT edit");
	s_tamper(f->db, "DELETE FROM audit WHERE seq = 5");
	s_verify_bad(f->a, 5, "entry 5 missing (gap after 4)");
	s_exec(f->db, "ROLLBACK TO edit; RELEASE edit");
	s_tamper(f->db, "DELETE FROM audit WHERE seq BETWEEN 5 AND 7");
	s_verify_bad(f->a, 5, "entry 5 missing (gap after 4; entries 5 to 7 are gone)");
	s_tamper(f->db, "DELETE FROM audit WHERE seq = 1");
	s_verify_bad(f->a, 1, "entry 1 missing (gap after 0)");
}

static void test_truncation_needs_checkpoint(void **state)
{
	struct fx *f = *state;
	uint8_t mac10[32], mac7[32], other[32];
	int64_t seq;
	char why[128];

	s_fill(f->a, 1, 7);
	assert_int_equal(audit_head(f->a, &seq, mac7), 0);
	s_fill(f->a, 8, 10);
	assert_int_equal(audit_head(f->a, &seq, mac10), 0);	/* the checkpoint a peer holds */
	assert_int_equal(seq, 10);
	assert_int_equal(audit_check_checkpoint(f->a, 10, mac10, why, sizeof(why)), 0);

	s_tamper(f->db, "DELETE FROM audit WHERE seq > 7");
	s_verify_ok(f->a);	/* the known limit of a chain on its own */
	assert_int_equal(audit_check_checkpoint(f->a, 10, mac10, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "entry 10 is missing: the log was truncated after 7");
	assert_int_equal(audit_check_checkpoint(f->a, 7, mac7, why, sizeof(why)), 0);
	memcpy(other, mac7, 32);
	other[0] ^= 1;
	assert_int_equal(audit_check_checkpoint(f->a, 7, other, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "entry 7: mac differs from the checkpoint (the log was rewritten?)");
	assert_int_equal(audit_check_checkpoint(f->a, 0, mac7, why, sizeof(why)), -EINVAL);

	/* Hiding the cut by appending other entries does not help: entry 10 differs
	 * now. (Appending the very same entries again gives the very same macs.) */
	for (int i = 8; i <= 10; i++)
		assert_int_equal(audit_append(f->a, AT0 + i, "daemon", "report", "", "", "other"), 0);
	s_verify_ok(f->a);
	assert_int_equal(audit_check_checkpoint(f->a, 10, mac10, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "entry 10: mac differs from the checkpoint (the log was rewritten?)");

	/* A hole below the head is named as such. */
	s_tamper(f->db, "DELETE FROM audit WHERE seq = 4");
	assert_int_equal(audit_check_checkpoint(f->a, 4, mac7, NULL, 0), -ENOENT);
	assert_int_equal(audit_check_checkpoint(f->a, 4, mac7, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "entry 4 is missing (removed from the middle of the log)");
}

static void test_rechained_with_wrong_key(void **state)
{
	struct fx *f = *state;
	struct audit *forger = NULL;
	uint8_t wrong[32];

	s_fill(f->a, 1, 10);
	/* Replace entry 4's mac, then rebuild 5..10 on top of it with a key the
	 * forger made up: each forged entry chains to the stored one before it. */
	s_tamper(f->db, "DELETE FROM audit WHERE seq > 4;"
			"UPDATE audit SET mac = randomblob(32) WHERE seq = 4");
	assert_int_equal(crypto_random(wrong, sizeof(wrong)), 0);
	assert_int_equal(audit_open(f->db, wrong, &forger), 0);
	s_fill(forger, 5, 10);
	audit_free(&forger);
	s_verify_bad(f->a, 4, "mac does not match the chain");
}

static void test_wrong_key(void **state)
{
	struct fx *f = *state;
	struct audit *other = NULL;
	uint8_t key[32];

	s_fill(f->a, 1, 5);
	memcpy(key, f->key, 32);
	key[31] ^= 0x80;
	assert_int_equal(audit_open(f->db, key, &other), 0);
	s_verify_bad(other, 1, "no entry verifies: wrong audit key?");
	audit_free(&other);
	s_verify_ok(f->a);
}

static void test_reordered_and_renumbered(void **state)
{
	struct fx *f = *state;

	s_fill(f->a, 1, 10);
	s_exec(f->db, "SAVEPOINT edit");
	/* Swap entries 3 and 4 (a seq is unique, so go through -1). */
	s_tamper(f->db, "UPDATE audit SET seq = -1 WHERE seq = 3;"
			"UPDATE audit SET seq = 3 WHERE seq = 4;"
			"UPDATE audit SET seq = 4 WHERE seq = -1");
	s_verify_bad(f->a, 3, "mac does not match the chain");
	s_exec(f->db, "ROLLBACK TO edit; RELEASE edit");
	/* Remove entry 5 and close the gap by renumbering what follows. */
	s_tamper(f->db, "DELETE FROM audit WHERE seq = 5");
	for (int i = 6; i <= 10; i++) {
		char sql[64];

		snprintf(sql, sizeof(sql), "UPDATE audit SET seq = %d WHERE seq = %d", i - 1, i);
		s_exec(f->db, sql);
	}
	s_verify_bad(f->a, 5, "mac does not match the chain");
	/* A row with seq 0 in front. */
	s_exec(f->db, "INSERT INTO audit SELECT 0, at, actor, action, subject, counterpart,"
		      " detail, mac FROM audit WHERE seq = 1");
	s_verify_bad(f->a, 0, "entry 0: unexpected seq (expected 1)");
}

static void test_rollback_keeps_chain(void **state)
{
	struct fx *f = *state;
	int64_t seq;
	uint8_t mac[32];

	s_fill(f->a, 1, 3);
	s_exec(f->db, "BEGIN IMMEDIATE");
	s_fill(f->a, 4, 5);
	assert_int_equal(audit_head(f->a, &seq, mac), 0);
	assert_int_equal(seq, 5);	/* seen inside the transaction */
	s_exec(f->db, "ROLLBACK");
	assert_int_equal(audit_head(f->a, &seq, mac), 0);
	assert_int_equal(seq, 3);
	s_fill(f->a, 4, 4);		/* own transaction */
	s_exec(f->db, "BEGIN IMMEDIATE");
	s_fill(f->a, 5, 6);
	s_exec(f->db, "COMMIT");
	assert_int_equal(audit_head(f->a, &seq, mac), 0);
	assert_int_equal(seq, 6);
	s_verify_ok(f->a);
}

static void test_append_only_triggers(void **state)
{
	struct fx *f = *state;

	s_fill(f->a, 1, 2);
	assert_int_equal(sqlite3_exec(f->db, "UPDATE audit SET detail = '' WHERE seq = 1", NULL, NULL,
				      NULL), SQLITE_CONSTRAINT);
	assert_int_equal(sqlite3_exec(f->db, "DELETE FROM audit", NULL, NULL, NULL),
			 SQLITE_CONSTRAINT);
	assert_int_equal(sqlite3_exec(f->db, "INSERT INTO audit VALUES (3, 0, 'a', 'b', '', '', '',"
				      " x'00')", NULL, NULL, NULL), SQLITE_CONSTRAINT);
	s_verify_ok(f->a);
}

static void test_rejects_bad_fields(void **state)
{
	struct fx *f = *state;
	char big[AUDIT_FIELD_MAX + 2];
	int64_t seq;
	uint8_t mac[32];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(audit_append(f->a, AT0, "", "erase", "r", "", ""), -EINVAL);
	assert_int_equal(audit_append(f->a, AT0, "daemon", NULL, "r", "", ""), -EINVAL);
	assert_int_equal(audit_append(f->a, AT0, "daemon", "erase", "123456782", "", ""), -EINVAL);
	assert_int_equal(audit_append(f->a, AT0, "daemon", "erase", "r", "", "bad \xc3("), -EINVAL);
	assert_int_equal(audit_append(f->a, AT0, "daemon", "erase", "r", "", "\xed\xa0\x80"),
			 -EINVAL);	/* a UTF-16 surrogate */
	assert_int_equal(audit_append(f->a, AT0, "daemon", "erase", "r", "", big), -E2BIG);
	assert_int_equal(audit_head(f->a, &seq, mac), 0);
	assert_int_equal(seq, 0);
	/* NULL optional fields are stored as "". */
	assert_int_equal(audit_append(f->a, AT0, "daemon", "key.rollover", NULL, NULL, NULL), 0);
	s_verify_ok(f->a);
}

/* Two logs, one entry each: the field boundaries must be part of the mac. */
static void s_one_mac(const uint8_t key[32], const char *actor, const char *action,
		      const char *subject, const char *counterpart, uint8_t mac[32])
{
	sqlite3 *db = NULL;
	struct audit *a = NULL;
	int64_t seq;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(audit_schema_apply(db), 0);
	assert_int_equal(audit_open(db, key, &a), 0);
	assert_int_equal(audit_append(a, AT0, actor, action, subject, counterpart, "d"), 0);
	assert_int_equal(audit_head(a, &seq, mac), 0);
	assert_int_equal(seq, 1);
	audit_free(&a);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_canonical_unambiguous(void **state)
{
	struct fx *f = *state;
	uint8_t m1[32], m2[32], m3[32], m4[32];

	s_one_mac(f->key, "ab", "c", "s", "", m1);
	s_one_mac(f->key, "a", "bc", "s", "", m2);
	s_one_mac(f->key, "a", "b", "x", "", m3);
	s_one_mac(f->key, "a", "b", "", "x", m4);
	assert_memory_not_equal(m1, m2, 32);
	assert_memory_not_equal(m3, m4, 32);
}

static void s_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* Expected macs computed once outside this code base, from the definition in
 * audit.h, with key = bytes 0x00..0x1f:
 *   python3: F = lambda b: struct.pack('>I', len(b)) + b
 *     canon = F(b'overstap-audit-v1') + F(struct.pack('>q', seq))
 *             + F(struct.pack('>q', at)) + F(actor) + F(action) + F(subject)
 *             + F(counterpart) + F(detail)
 *     hmac.new(key, prev_mac + canon, hashlib.sha256).hexdigest()
 * and entry 1 cross-checked with the OpenSSL command line on the same bytes:
 *   openssl mac -digest SHA256 -macopt hexkey:000102..1f -in entry1.bin HMAC */
static void test_known_answer(void **state)
{
	uint8_t key[32], mac[32];
	sqlite3 *db = NULL;
	struct audit *a = NULL;
	int64_t seq;
	char hex[65];

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(audit_schema_apply(db), 0);
	assert_int_equal(audit_open(db, key, &a), 0);
	assert_int_equal(audit_append(a, AT0, "mentor1", "consent.grant",
				      "0190a5b2-7c3e-7def-8abc-0123456789ab", "25LZ00",
				      "{\"purpose\":\"follow_up\"}"), 0);
	assert_int_equal(audit_head(a, &seq, mac), 0);
	s_hex(mac, 32, hex);
	assert_string_equal(hex, "2c6d9f9e678cb53db67940a04c2c5965c34f799540cacabf18c64ac26d6255ae");
	assert_int_equal(audit_append(a, AT0 + 1, "daemon", "disclosure.denied", "", "peer:25LZ00",
				      "no consent"), 0);
	assert_int_equal(audit_head(a, &seq, mac), 0);
	assert_int_equal(seq, 2);
	s_hex(mac, 32, hex);
	assert_string_equal(hex, "4b120479e041a4a1a7dc6339dc09cc90a74170811c2928fbe740a42fdd8e78ec");
	audit_free(&a);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Parses every line as JSON and checks the awkward fields' values. */
static const char s_check_py[] =
	"import json, sys\n"
	"lines = sys.stdin.read().split('\\n')\n"
	"assert lines[-1] == '', 'no final newline'\n"
	"objs = [json.loads(l) for l in lines[:-1]]\n"
	"assert len(objs) == 3, len(objs)\n"
	"keys = ['seq', 'at', 'actor', 'action', 'subject', 'counterpart', 'detail', 'mac']\n"
	"assert all(list(o) == keys for o in objs)\n"
	"assert [o['seq'] for o in objs] == [1, 2, 3]\n"
	"assert objs[0]['at'] == '2026-11-23T19:32:20.123Z', objs[0]['at']\n"
	"assert objs[2]['at'] == '1969-12-31T23:59:59.999Z', objs[2]['at']\n"
	"d = objs[1]['detail']\n"
	"assert d == 'say \"hi\"\\n\\tna\\u00efve \\u20ac \\\\ \\x01 end', repr(d)\n"
	"assert objs[1]['actor'] == 'peer:25LZ00'\n"
	"assert all(len(o['mac']) == 64 and int(o['mac'], 16) >= 0 for o in objs)\n";

static void test_export_json(void **state)
{
	struct fx *f = *state;
	char path[160], script[160], cmd[400];
	FILE *fp;

	assert_int_equal(audit_append(f->a, AT0, "mentor1", "consent.grant", "rec-1", "25LZ00",
				      "{\"purpose\":\"follow_up\"}"), 0);
	assert_int_equal(audit_append(f->a, AT0 + 1, "peer:25LZ00", "receipt.stored", "rec-1", "",
				      "say \"hi\"\n\tna\xc3\xafve \xe2\x82\xac \\ \x01 end"), 0);
	assert_int_equal(audit_append(f->a, -1, "daemon", "report", "", "", ""), 0);
	snprintf(path, sizeof(path), "%s/export.jsonl", f->dir);
	snprintf(script, sizeof(script), "%s/check.py", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(audit_export(f->a, fp, 1), 0);
	assert_int_equal(fclose(fp), 0);
	fp = fopen(script, "w");
	assert_non_null(fp);
	fputs(s_check_py, fp);
	assert_int_equal(fclose(fp), 0);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s < %s", script, path);
	assert_int_equal(system(cmd), 0);
	/* from_seq skips the older entries. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(audit_export(f->a, fp, 3), 0);
	assert_true(ftell(fp) > 0);
	assert_int_equal(fclose(fp), 0);
}

struct collect {
	int64_t seqs[32];
	int n;
	int stop_after;		/* 0 = never */
};

static int s_collect(const struct audit_entry *e, void *arg)
{
	struct collect *c = arg;

	if (c->n < 32)
		c->seqs[c->n++] = e->seq;
	return c->stop_after && c->n >= c->stop_after ? 1 : 0;
}

static int s_fail(const struct audit_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	return -ECANCELED;
}

static void test_each_and_subject(void **state)
{
	struct fx *f = *state;
	struct collect c = { .n = 0 };
	sqlite3_stmt *st;
	const char *plan;

	s_fill(f->a, 1, 10);	/* subject rec-000(i % 4) */
	assert_int_equal(audit_subject_each(f->a, "rec-0002", s_collect, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.seqs[0], 2);
	assert_int_equal(c.seqs[1], 6);
	assert_int_equal(c.seqs[2], 10);
	assert_int_equal(audit_subject_each(f->a, "", s_collect, &c), -EINVAL);
	/* Paging: stop after 4, resume after the last one seen. */
	c = (struct collect){ .stop_after = 4 };
	assert_int_equal(audit_each(f->a, 1, s_collect, &c), 0);
	assert_int_equal(c.n, 4);
	c = (struct collect){ .n = 0 };
	assert_int_equal(audit_each(f->a, 5, s_collect, &c), 0);
	assert_int_equal(c.n, 6);
	assert_int_equal(c.seqs[0], 5);
	assert_int_equal(audit_each(f->a, 1, s_fail, NULL), -ECANCELED);
	/* The subject query uses the index. */
	assert_int_equal(sqlite3_prepare_v2(f->db, "EXPLAIN QUERY PLAN SELECT * FROM audit"
					    " WHERE subject = ?1 ORDER BY seq", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	plan = (const char *)sqlite3_column_text(st, 3);
	assert_non_null(strstr(plan, "audit_subject"));
	sqlite3_finalize(st);
	assert_non_null(strstr(audit_schema_sql(), "CREATE TABLE audit"));
}

static double s_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Not a pass/fail test: prints what an append costs, re-reading the head
 * each time, in one transaction on a WAL file with synchronous=FULL, and what
 * its parts cost: the head re-read and the HMAC. */
static void test_append_cost(void **state)
{
	struct fx *f = *state;
	const int n = 10000;
	uint8_t mac[32], buf[160] = { 0 };
	int64_t seq = 0;
	double t0, t1, t2, t3, t4;

	s_exec(f->db, "BEGIN IMMEDIATE");
	t0 = s_now_us();
	for (int i = 1; i <= n; i++)
		assert_int_equal(audit_append(f->a, AT0 + i, "mentor1", "disclosure.allowed",
					      "0190a5b2-7c3e-7def-8abc-0123456789ab", "25LZ00",
					      "{\"purpose\":\"follow_up\",\"basis\":\"consent\"}"), 0);
	t1 = s_now_us();
	for (int i = 0; i < n; i++)
		assert_int_equal(audit_head(f->a, &seq, mac), 0);
	t2 = s_now_us();
	s_exec(f->db, "COMMIT");
	t3 = s_now_us();
	for (int i = 0; i < n; i++)
		assert_int_equal(crypto_hmac_sha256(f->key, 32, buf, sizeof(buf), mac), 0);
	t4 = s_now_us();
	printf("audit: %d appends in one transaction: %.2f us/append, commit %.0f us\n"
	       "audit:   of which head re-read %.2f us, HMAC %.2f us\n",
	       n, (t1 - t0) / n, t3 - t2, (t2 - t1) / n, (t4 - t3) / n);
	t0 = s_now_us();
	for (int i = 0; i < 1000; i++)
		assert_int_equal(audit_head(f->a, &seq, mac), 0);
	t1 = s_now_us();
	s_verify_ok(f->a);
	t2 = s_now_us();
	printf("audit: head read outside a transaction: %.2f us; verify of %d entries: %.1f ms"
	       " (%.2f us/entry)\n", (t1 - t0) / 1000, n, (t2 - t1) / 1e3, (t2 - t1) / n);
	assert_int_equal(seq, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_one_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_middle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_needs_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rechained_with_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reordered_and_renumbered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_keeps_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_only_triggers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_bad_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canonical_unambiguous, setup, teardown),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test_setup_teardown(test_export_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_and_subject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_cost, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

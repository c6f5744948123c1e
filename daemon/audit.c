/* audit: the append-only audit log as a keyed hash chain; see audit.h. */
#include "audit.h"
#include "crypto.h"
#include "jdetail.h"
#include "pgn.h"
#include "sqlerr.h"
#include "util.h"
#include "watchdog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_HEAD, ST_INSERT, ST_GET, ST_EACH, ST_SUBJECT,
	ST__N
};

#define ENTRY_COLS "seq, at, actor, action, subject, counterpart, detail, mac"

static const char *const s_sql[ST__N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* A rowid lookup from the end of the table: cheap enough to run on every
	 * append, which keeps no head in memory that a rollback could falsify. */
	[ST_HEAD] = "SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1",
	[ST_INSERT] = "INSERT INTO audit(" ENTRY_COLS ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
	[ST_GET] = "SELECT mac FROM audit WHERE seq = ?1",
	[ST_EACH] = "SELECT " ENTRY_COLS " FROM audit WHERE seq >= ?1 ORDER BY seq",
	[ST_SUBJECT] = "SELECT " ENTRY_COLS " FROM audit WHERE subject = ?1 ORDER BY seq",
};

/* The text fields in canonical order; ENTRY_COLS columns 2..6. */
enum { F_ACTOR, F_ACTION, F_SUBJECT, F_COUNTERPART, F_DETAIL, F__N };

static const char s_tag[] = "overstap-audit-v1";

struct audit {
	sqlite3 *db;			/* borrowed from the caller */
	sqlite3_stmt *st[ST__N];	/* prepared once at open */
	uint8_t key[AUDIT_MAC_LEN];	/* HMAC key of the chain; wiped at free */
	uint8_t *buf;			/* scratch for prev mac || canonical(entry) */
	size_t cap;			/* allocated size of buf */
};

static void s_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void s_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* ---- canonical encoding and mac ---- */

static uint8_t *s_put(uint8_t *p, const void *data, size_t len)
{
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	if (len)
		memcpy(p + 4, data, len);
	return p + 4 + len;
}

static uint8_t *s_put_i64(uint8_t *p, int64_t v)
{
	uint64_t u = (uint64_t)v;
	uint8_t be[8];

	for (int i = 7; i >= 0; i--, u >>= 8)
		be[i] = (uint8_t)u;
	return s_put(p, be, sizeof(be));
}

static int s_reserve(struct audit *a, size_t need)
{
	uint8_t *n;

	if (need <= a->cap)
		return 0;
	n = realloc(a->buf, need);
	if (!n)
		return -ENOMEM;
	a->buf = n;
	a->cap = need;
	return 0;
}

/* mac = HMAC(key, prev || canonical(e)); len[] holds the byte length of each
 * text field (a tampered row may hold a NUL, so strlen is not used here). */
static int s_mac(struct audit *a, const uint8_t prev[AUDIT_MAC_LEN], const struct audit_entry *e,
		 const size_t len[F__N], uint8_t out[AUDIT_MAC_LEN])
{
	const char *f[F__N] = { e->actor, e->action, e->subject, e->counterpart, e->detail };
	size_t need = AUDIT_MAC_LEN + 4 + strlen(s_tag) + 2 * (4 + 8);
	uint8_t *p;

	for (int i = 0; i < F__N; i++) {
		if (len[i] > UINT32_MAX)
			return -E2BIG;
		need += 4 + len[i];
	}
	if (s_reserve(a, need) < 0)
		return -ENOMEM;
	memcpy(a->buf, prev, AUDIT_MAC_LEN);
	p = s_put(a->buf + AUDIT_MAC_LEN, s_tag, strlen(s_tag));
	p = s_put_i64(p, e->seq);
	p = s_put_i64(p, e->at_ms);
	for (int i = 0; i < F__N; i++)
		p = s_put(p, f[i], len[i]);
	/* the same MAC; HMAC fetched once, not per entry (issue 14) */
	return crypto_hmac_sha256(a->key, sizeof(a->key), a->buf, (size_t)(p - a->buf), out);
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 when invalid:
 * overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t s_utf8_seq(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t k;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

static int s_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = s_utf8_seq(p + i, n - i)))
			return 0;
	return 1;
}

/* ---- schema, open, free ---- */

const char *audit_schema_sql(void)
{
	return AUDIT_SCHEMA_SQL;
}

int audit_schema_apply(sqlite3 *db)
{
	int rc = sqlite3_exec(db, AUDIT_SCHEMA_SQL, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sqlerr_errno(rc);
}

int audit_open(sqlite3 *db, const uint8_t key[AUDIT_MAC_LEN], struct audit **out)
{
	struct audit *a = calloc(1, sizeof(*a));
	uint8_t mac[AUDIT_MAC_LEN];
	int64_t seq;
	int r = -EIO;

	if (!a)
		return -ENOMEM;
	a->db = db;
	memcpy(a->key, key, sizeof(a->key));
	for (int i = 0; i < ST__N; i++) {
		int rc = sqlite3_prepare_v3(db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &a->st[i],
					    NULL);
		if (rc != SQLITE_OK) {
			r = sqlerr_errno(rc);
			goto out;
		}
	}
	/* A check that the table is there and readable. A head mac of the wrong
	 * length is not fatal here: audit_verify reports it, audit_append refuses. */
	r = audit_head(a, &seq, mac);
	if (r < 0 && r != -EUCLEAN)
		goto out;
	*out = a;
	r = 0;
	a = NULL; /* transferred */
out:
	audit_free(&a);
	return r;
}

void audit_free(struct audit **ap)
{
	struct audit *a = ap ? *ap : NULL;

	if (!a)
		return;
	for (int i = 0; i < ST__N; i++)
		sqlite3_finalize(a->st[i]);
	free(a->buf);
	crypto_wipe(a, sizeof(*a));
	free(a);
	*ap = NULL;
}

/* ---- head and append ---- */

int audit_head(struct audit *a, int64_t *seq, uint8_t mac[AUDIT_MAC_LEN])
{
	sqlite3_stmt *st = sqlerr_ready(a->st[ST_HEAD]);
	int rc = sqlite3_step(st), r = 0;

	*seq = 0;
	memset(mac, 0, AUDIT_MAC_LEN);
	if (rc == SQLITE_ROW) {
		const void *m = sqlite3_column_blob(st, 1);

		*seq = sqlite3_column_int64(st, 0);
		if (m && sqlite3_column_bytes(st, 1) == AUDIT_MAC_LEN)
			memcpy(mac, m, AUDIT_MAC_LEN);
		else
			r = -EUCLEAN;
	} else if (rc != SQLITE_DONE) {
		r = sqlerr_errno(rc);
	}
	sqlite3_reset(st);
	return r;
}

/* Check the fields of a new entry and note their lengths. */
static int s_check_fields(const struct audit_entry *e, size_t len[F__N])
{
	const char *f[F__N] = { e->actor, e->action, e->subject, e->counterpart, e->detail };

	for (int i = 0; i < F__N; i++) {
		len[i] = strlen(f[i]);
		if (len[i] > AUDIT_FIELD_MAX)
			return -E2BIG;
		if (!s_utf8_valid(f[i], len[i]))
			return -EINVAL;
	}
	if (!len[F_ACTOR] || !len[F_ACTION])
		return -EINVAL;
	/* Nine digits is the shape of a PGN/BSN, never of a pseudonym or record id. */
	if (pgn_check(e->subject, NULL) != -EINVAL)
		return -EINVAL;
	return 0;
}

/* Read the head, chain e to it and insert it, inside the open transaction. */
static int s_insert(struct audit *a, struct audit_entry *e, const size_t len[F__N])
{
	const char *f[F__N] = { e->actor, e->action, e->subject, e->counterpart, e->detail };
	uint8_t prev[AUDIT_MAC_LEN];
	sqlite3_stmt *st;
	int r;

	r = audit_head(a, &e->seq, prev);
	if (r < 0)
		return r;
	e->seq++;
	r = s_mac(a, prev, e, len, e->mac);
	if (r < 0)
		return r;
	st = sqlerr_ready(a->st[ST_INSERT]);
	sqlite3_bind_int64(st, 1, e->seq);
	sqlite3_bind_int64(st, 2, e->at_ms);
	for (int i = 0; i < F__N; i++)
		sqlite3_bind_text(st, 3 + i, f[i], (int)len[i], SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, e->mac, AUDIT_MAC_LEN, SQLITE_STATIC);
	r = sqlerr_exec(st);
	sqlite3_clear_bindings(st);	/* drop the borrowed pointers */
	return r;
}

int audit_append(struct audit *a, int64_t at_ms, const char *actor, const char *action,
		 const char *subject, const char *counterpart, const char *detail)
{
	struct audit_entry e = {
		.at_ms = at_ms, .actor = actor, .action = action,
		.subject = subject ? subject : "", .counterpart = counterpart ? counterpart : "",
		.detail = detail ? detail : "",
	};
	size_t len[F__N];
	int own_tx, r;

	if (!actor || !action)
		return -EINVAL;
	r = s_check_fields(&e, len);
	if (r < 0)
		return r;
	/* Without the caller's transaction, make head read + insert one unit. */
	own_tx = sqlite3_get_autocommit(a->db);
	if (own_tx && (r = sqlerr_exec(sqlerr_ready(a->st[ST_BEGIN]))) < 0)
		return r;
	r = s_insert(a, &e, len);
	if (own_tx) {
		if (r == 0)
			r = sqlerr_exec(sqlerr_ready(a->st[ST_COMMIT]));
		if (r < 0 && !sqlite3_get_autocommit(a->db))
			sqlerr_exec(sqlerr_ready(a->st[ST_ROLLBACK]));
	}
	return r;
}

/* ---- reading entries ---- */

/* Fill e and len from the current row of an ENTRY_COLS statement. A mac that
 * is not 32 bytes (only possible by tampering) reads as zeros, which no
 * recomputed mac matches. */
static void s_row(sqlite3_stmt *st, struct audit_entry *e, size_t len[F__N])
{
	const char **f[F__N] = { &e->actor, &e->action, &e->subject, &e->counterpart, &e->detail };
	const void *m;

	e->seq = sqlite3_column_int64(st, 0);
	e->at_ms = sqlite3_column_int64(st, 1);
	for (int i = 0; i < F__N; i++) {
		const unsigned char *t = sqlite3_column_text(st, 2 + i);

		*f[i] = t ? (const char *)t : "";
		len[i] = t ? (size_t)sqlite3_column_bytes(st, 2 + i) : 0;
	}
	m = sqlite3_column_blob(st, 7);
	if (m && sqlite3_column_bytes(st, 7) == AUDIT_MAC_LEN)
		memcpy(e->mac, m, AUDIT_MAC_LEN);
	else
		memset(e->mac, 0, AUDIT_MAC_LEN);
}

/* Step st to the end, calling fn per row (see audit_each_fn). */
static int s_walk(sqlite3_stmt *st, audit_each_fn fn, void *arg)
{
	struct audit_entry e;
	size_t len[F__N];
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s_row(st, &e, len);
		r = fn(&e, arg);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	return r > 0 ? 0 : r;
}

int audit_each(struct audit *a, int64_t from_seq, audit_each_fn fn, void *arg)
{
	sqlite3_stmt *st = sqlerr_ready(a->st[ST_EACH]);

	sqlite3_bind_int64(st, 1, from_seq);
	return s_walk(st, fn, arg);
}

int audit_subject_each(struct audit *a, const char *subject, audit_each_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int r;

	if (!subject || !*subject)
		return -EINVAL;
	st = sqlerr_ready(a->st[ST_SUBJECT]);
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	r = s_walk(st, fn, arg);
	sqlite3_clear_bindings(st);
	return r;
}

/* ---- verify ---- */

enum { V_OK, V_GAP, V_SEQ, V_MISMATCH };

/* State of one walk over the log. */
struct s_verify {
	struct audit *a;
	int64_t expect;			/* the seq the next row should have */
	uint8_t prev[AUDIT_MAC_LEN];	/* stored mac of the previous row */
	int kind;			/* V_*: the first problem found */
	int64_t bad;			/* its seq */
	int64_t found, want;		/* V_GAP/V_SEQ: the seq found, the seq expected */
	int next_chains;		/* V_MISMATCH: the next row verifies against bad's
					 * stored mac (1), does not (0), no next row (-1) */
	int64_t rows, ok;		/* rows seen; rows whose mac matches */
};

/* Every row is checked against its predecessor's stored mac, also after the
 * first problem: the count of matching rows tells a wrong key from tampering. */
static int s_verify_row(struct s_verify *v, sqlite3_stmt *st)
{
	struct audit_entry e;
	uint8_t mac[AUDIT_MAC_LEN];
	size_t len[F__N];
	int r, match;

	s_row(st, &e, len);
	r = s_mac(v->a, v->prev, &e, len, mac);
	if (r < 0)
		return r;
	match = memcmp(mac, e.mac, AUDIT_MAC_LEN) == 0;
	v->rows++;
	v->ok += match;
	if (v->kind == V_MISMATCH && v->next_chains < 0)
		v->next_chains = match && e.seq == v->bad + 1;
	if (v->kind == V_OK && e.seq != v->expect) {
		v->kind = e.seq > v->expect ? V_GAP : V_SEQ;
		v->bad = e.seq > v->expect ? v->expect : e.seq;
		v->found = e.seq;
		v->want = v->expect;
	} else if (v->kind == V_OK && !match) {
		v->kind = V_MISMATCH;
		v->bad = e.seq;
		v->next_chains = -1;
	}
	v->expect = e.seq + 1;
	memcpy(v->prev, e.mac, AUDIT_MAC_LEN);
	return 0;
}

static void s_verify_why(const struct s_verify *v, char *why, size_t whylen)
{
	int64_t n = v->bad;

	if (v->kind == V_GAP && v->found == n + 1)
		s_why(why, whylen, "entry %" PRId64 " missing (gap after %" PRId64 ")", n, n - 1);
	else if (v->kind == V_GAP)
		s_why(why, whylen, "entry %" PRId64 " missing (gap after %" PRId64 "; entries %"
		      PRId64 " to %" PRId64 " are gone)", n, n - 1, n, v->found - 1);
	else if (v->kind == V_SEQ)
		s_why(why, whylen, "entry %" PRId64 ": unexpected seq (expected %" PRId64 ")",
		      n, v->want);
	else if (v->rows >= 2 && v->ok == 0)
		s_why(why, whylen, "entry %" PRId64 ": mac does not match"
		      " (no entry verifies: wrong audit key?)", n);
	else if (v->next_chains != 0)
		s_why(why, whylen, "entry %" PRId64 ": mac does not match (edited?)", n);
	else
		s_why(why, whylen, "entry %" PRId64 ": mac does not match the chain (an earlier"
		      " entry was removed or reordered, or the log was re-chained?)", n);
}

int audit_verify(struct audit *a, int64_t *first_bad_seq, char *why, size_t whylen)
{
	struct s_verify v = { .a = a, .expect = 1 };
	sqlite3_stmt *st = sqlerr_ready(a->st[ST_EACH]);
	int rc = SQLITE_DONE, r = 0;

	if (first_bad_seq)
		*first_bad_seq = 0;
	s_why(why, whylen, "intact");
	/* One statement: one consistent snapshot of the table, seq <= 0 included. */
	sqlite3_bind_int64(st, 1, INT64_MIN);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = s_verify_row(&v, st);
		/* millions of entries take longer than WatchdogSec= (watchdog.h) */
		if ((v.rows & 4095) == 0)
			watchdog_progress("verifying the audit log", (uint64_t)v.rows, 0);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (v.kind == V_OK) {
		s_why(why, whylen, "intact: %" PRId64 " entries", v.rows);
		return 0;
	}
	if (first_bad_seq)
		*first_bad_seq = v.bad;
	s_verify_why(&v, why, whylen);
	return -EBADMSG;
}

int audit_check_checkpoint(struct audit *a, int64_t seq, const uint8_t mac[AUDIT_MAC_LEN],
			   char *why, size_t whylen)
{
	sqlite3_stmt *st;
	uint8_t head_mac[AUDIT_MAC_LEN];
	int64_t head;
	int rc, r;

	if (seq < 1)
		return -EINVAL;
	st = sqlerr_ready(a->st[ST_GET]);
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *m = sqlite3_column_blob(st, 0);
		int same = m && sqlite3_column_bytes(st, 0) == AUDIT_MAC_LEN &&
			   memcmp(m, mac, AUDIT_MAC_LEN) == 0;

		sqlite3_reset(st);
		if (same)
			return 0;
		s_why(why, whylen, "entry %" PRId64 ": mac differs from the checkpoint"
		      " (the log was rewritten?)", seq);
		return -EBADMSG;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlerr_errno(rc);
	r = audit_head(a, &head, head_mac);
	if (r < 0 && r != -EUCLEAN)
		return r;
	if (head < seq)
		s_why(why, whylen, "entry %" PRId64 " is missing: the log was truncated after %"
		      PRId64, seq, head);
	else
		s_why(why, whylen, "entry %" PRId64 " is missing (removed from the middle of the log)",
		      seq);
	return -ENOENT;
}

int audit_mac_at(struct audit *a, int64_t seq, uint8_t mac[AUDIT_MAC_LEN])
{
	sqlite3_stmt *st = sqlerr_ready(a->st[ST_GET]);
	int rc, r = -ENOENT;

	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == AUDIT_MAC_LEN) {
		memcpy(mac, sqlite3_column_blob(st, 0), AUDIT_MAC_LEN);
		r = 0;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = sqlerr_errno(rc);
	}
	sqlite3_reset(st);
	return r;
}

/* ---- JSON export ---- */

int audit_entry_write_json(const struct audit_entry *e, FILE *out)
{
	char at[TIME_ISO_MS_LEN], mac[2 * AUDIT_MAC_LEN + 1];
	json_t *j;
	int r;

	time_format_iso_ms(e->at_ms, at);
	for (int i = 0; i < AUDIT_MAC_LEN; i++)
		snprintf(mac + 2 * i, 3, "%02x", e->mac[i]);
	/* The text fields hold what users, files and peers supplied: made valid
	 * UTF-8 (an invalid byte becomes U+FFFD), escaped by jansson. */
	j = json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "seq", (json_int_t)e->seq,
		      "at", at, "actor", jdetail_text(e->actor), "action", jdetail_text(e->action),
		      "subject", jdetail_text(e->subject),
		      "counterpart", jdetail_text(e->counterpart), "detail", jdetail_text(e->detail),
		      "mac", mac);
	if (!j)
		return -ENOMEM;
	r = json_dumpf(j, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (r < 0 || putc('\n', out) == EOF || ferror(out))
		return -EIO;
	return 0;
}

static int s_export_one(const struct audit_entry *e, void *arg)
{
	return audit_entry_write_json(e, arg);
}

int audit_export(struct audit *a, FILE *out, int64_t from_seq)
{
	int r = audit_each(a, from_seq, s_export_one, out);

	if (r == 0 && fflush(out) != 0)
		r = -EIO;
	return r;
}

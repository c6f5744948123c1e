/* fault: the test-only fault injector and the sweep that uses it; see fault.h. */
#include "fault.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "audit.h"
#include "crypto.h"
#include "log.h"
#include "store.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define FAULT_LSAN 1
#else
#define FAULT_LSAN 0
#endif

/* ---- the counter ---- */

static struct {
	unsigned mask;			/* kinds counted now; 0 = disarmed */
	unsigned persist;		/* fail every event from target on */
	unsigned long count;		/* events counted since reset */
	unsigned long target;		/* the event to fail, 0 = none */
	int fired;
	int det;			/* deterministic random and clock */
	uint64_t rng;			/* splitmix64 state */
} s_f;

/* Count one event of kind; 1 when it is to fail. */
static int s_hit(unsigned kind)
{
	if (!(s_f.mask & kind))
		return 0;
	s_f.count++;
	if (s_f.target && (s_f.count == s_f.target || (s_f.persist && s_f.count > s_f.target))) {
		s_f.fired = 1;
		return 1;
	}
	return 0;
}

void fault_reset(void)
{
	s_f.mask = s_f.persist = 0;
	s_f.count = s_f.target = 0;
	s_f.fired = 0;
}

void fault_arm(unsigned kind_mask, unsigned long n)
{
	s_f.mask = kind_mask & FAULT_ALL;
	s_f.persist = !!(kind_mask & FAULT_PERSIST);
	s_f.target = n;
}

void fault_disarm(void) { s_f.mask = 0; }
unsigned long fault_count(void) { return s_f.count; }
int fault_fired(void) { return s_f.fired; }

const char *fault_kind_str(unsigned kind)
{
	switch (kind) {
	case FAULT_MALLOC: return "malloc";
	case FAULT_SQLITE_MALLOC: return "sqlite_malloc";
	case FAULT_STEP: return "step";
	case FAULT_IO: return "io";
	case FAULT_SSL_MALLOC: return "ssl_malloc";
	default: return "mixed";
	}
}

/* ---- our allocations (ld --wrap) ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

#define S_OOM(kind)                  \
	do {                         \
		if (s_hit(kind)) {   \
			errno = ENOMEM; \
			return NULL; \
		}                    \
	} while (0)

void *__wrap_malloc(size_t n) { S_OOM(FAULT_MALLOC); return __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { S_OOM(FAULT_MALLOC); return __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { S_OOM(FAULT_MALLOC); return __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { S_OOM(FAULT_MALLOC); return __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { S_OOM(FAULT_MALLOC); return __real_strndup(s, n); }

/* ---- OpenSSL's allocations ---- */

static void *s_ssl_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	S_OOM(FAULT_SSL_MALLOC);
	return __real_malloc(n);
}

static void *s_ssl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	S_OOM(FAULT_SSL_MALLOC);
	return __real_realloc(p, n);
}

static void s_ssl_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	free(p);
}

/* ---- sqlite's allocations ---- */

static sqlite3_mem_methods s_sq_real;

static void *s_sq_malloc(int n)
{
	S_OOM(FAULT_SQLITE_MALLOC);
	return s_sq_real.xMalloc(n);
}

static void *s_sq_realloc(void *p, int n)
{
	S_OOM(FAULT_SQLITE_MALLOC);
	return s_sq_real.xRealloc(p, n);
}

/* ---- sqlite3_step from our code (ld --wrap) ---- */

int __real_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st)
{
	if (s_hit(FAULT_STEP))
		return SQLITE_IOERR;	/* as a failed read or write would; not stepped */
	return __real_sqlite3_step(st);
}

/* ---- real I/O errors: a VFS shim over the default one ---- */

struct s_file {
	sqlite3_file base;
	sqlite3_file *real;		/* the wrapped VFS's file, right after this struct */
};

static sqlite3_vfs *s_vfs_real;
static sqlite3_vfs s_vfs;

#define REAL(f) (((struct s_file *)(f))->real)

static int s_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int s_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int s_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	if (s_hit(FAULT_IO))
		return SQLITE_IOERR_WRITE;
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int s_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	if (s_hit(FAULT_IO))
		return SQLITE_IOERR_TRUNCATE;
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int s_sync(sqlite3_file *f, int flags)
{
	if (s_hit(FAULT_IO))
		return SQLITE_IOERR_FSYNC;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int s_size(sqlite3_file *f, sqlite3_int64 *size) { return REAL(f)->pMethods->xFileSize(REAL(f), size); }
static int s_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int s_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int s_reserved(sqlite3_file *f, int *out) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out); }
static int s_fcntl(sqlite3_file *f, int op, void *arg) { return REAL(f)->pMethods->xFileControl(REAL(f), op, arg); }
static int s_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int s_devchar(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int s_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **p)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, p);
}
static int s_shm_lock(sqlite3_file *f, int o, int n, int fl) { return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl); }
static void s_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int s_shm_unmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }
static int s_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **p) { return REAL(f)->pMethods->xFetch(REAL(f), o, n, p); }
static int s_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p) { return REAL(f)->pMethods->xUnfetch(REAL(f), o, p); }

static const sqlite3_io_methods s_io = {
	.iVersion = 3, .xClose = s_close, .xRead = s_read, .xWrite = s_write,
	.xTruncate = s_truncate, .xSync = s_sync, .xFileSize = s_size, .xLock = s_lock,
	.xUnlock = s_unlock, .xCheckReservedLock = s_reserved, .xFileControl = s_fcntl,
	.xSectorSize = s_sector, .xDeviceCharacteristics = s_devchar, .xShmMap = s_shm_map,
	.xShmLock = s_shm_lock, .xShmBarrier = s_shm_barrier, .xShmUnmap = s_shm_unmap,
	.xFetch = s_fetch, .xUnfetch = s_unfetch,
};

static int s_open_file(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct s_file *sf = (struct s_file *)f;
	int rc;

	(void)vfs;
	sf->real = (sqlite3_file *)(sf + 1);
	rc = s_vfs_real->xOpen(s_vfs_real, name, sf->real, flags, out);
	/* the real file's methods say whether xClose will be called */
	sf->base.pMethods = sf->real->pMethods ? &s_io : NULL;
	if (sf->real->pMethods && sf->real->pMethods->iVersion < 3)
		return SQLITE_CANTOPEN;	/* the shim forwards version 3 methods */
	return rc;
}

/* ---- deterministic randomness and wall clock for our code (ld --wrap) ---- */

int __real_RAND_bytes(unsigned char *buf, int num);
int __wrap_RAND_bytes(unsigned char *buf, int num);
int __real_clock_gettime(clockid_t clk, struct timespec *ts);
int __wrap_clock_gettime(clockid_t clk, struct timespec *ts);

static uint64_t s_splitmix(void)
{
	uint64_t z = (s_f.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int __wrap_RAND_bytes(unsigned char *buf, int num)
{
	if (!s_f.det)
		return __real_RAND_bytes(buf, num);
	for (int i = 0; i < num; i += 8) {
		uint64_t v = s_splitmix();

		memcpy(buf + i, &v, num - i < 8 ? (size_t)(num - i) : 8);
	}
	return 1;
}

int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (!s_f.det || clk != CLOCK_REALTIME)
		return __real_clock_gettime(clk, ts);
	ts->tv_sec = 1748779200;	/* 2025-06-01 12:00:00 UTC, frozen */
	ts->tv_nsec = 0;
	return 0;
}

/* sqlite's randomblob() and friends: its PRNG, reseeded from here. */
static int s_vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	__wrap_RAND_bytes((unsigned char *)out, n);
	return n;
}

void fault_seed(unsigned long seed)
{
	s_f.det = 1;
	s_f.rng = seed;
	crypto_uuidv7_reset();	/* ids depend on the frozen clock and the seed only */
	crypto_nonce_reset();	/* and seal nonces on the seed only, not on a pool drawn before */
	if (s_vfs_real)
		sqlite3_randomness(0, NULL);	/* reseeds from s_vfs_randomness */
	s_f.rng = seed;
}

int fault_init(void)
{
	static sqlite3_mem_methods mem;

	if (!CRYPTO_set_mem_functions(s_ssl_malloc, s_ssl_realloc, s_ssl_free))
		return -1;
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &s_sq_real) != SQLITE_OK)
		return -1;
	mem = s_sq_real;
	mem.xMalloc = s_sq_malloc;
	mem.xRealloc = s_sq_realloc;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK || sqlite3_initialize() != SQLITE_OK)
		return -1;
	s_vfs_real = sqlite3_vfs_find(NULL);
	if (!s_vfs_real)
		return -1;
	s_vfs = *s_vfs_real;	/* name-level methods act on the real VFS's pAppData */
	s_vfs.zName = "fault";
	s_vfs.szOsFile = (int)sizeof(struct s_file) + s_vfs_real->szOsFile;
	s_vfs.xOpen = s_open_file;
	s_vfs.xRandomness = s_vfs_randomness;
	s_vfs.pNext = NULL;
	if (sqlite3_vfs_register(&s_vfs, 1) != SQLITE_OK)
		return -1;
	fault_seed(1);
	return 0;
}

/* ---- the canonical dump ---- */

struct s_buf {
	char *p;
	size_t n, cap;
	int oom;
};

static void s_add(struct s_buf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->n + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void s_adds(struct s_buf *b, const char *s) { s_add(b, s, strlen(s)); }

/* One row as text: NULL, integers and reals as text, text quoted, blobs hex. */
static void s_add_row(struct s_buf *b, sqlite3_stmt *st)
{
	static const char hex[] = "0123456789abcdef";
	char num[64];

	for (int i = 0; i < sqlite3_column_count(st); i++) {
		s_adds(b, i ? "|" : "  ");
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL: s_adds(b, "NULL"); break;
		case SQLITE_INTEGER:
			snprintf(num, sizeof(num), "%lld", (long long)sqlite3_column_int64(st, i));
			s_adds(b, num);
			break;
		case SQLITE_FLOAT:
			snprintf(num, sizeof(num), "%.17g", sqlite3_column_double(st, i));
			s_adds(b, num);
			break;
		case SQLITE_TEXT:
			s_adds(b, "'");
			s_add(b, sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
			s_adds(b, "'");
			break;
		default: {
			const uint8_t *p = sqlite3_column_blob(st, i);

			s_adds(b, "x");
			for (int k = 0; k < sqlite3_column_bytes(st, i); k++) {
				char h[2] = { hex[p[k] >> 4], hex[p[k] & 15] };

				s_add(b, h, 2);
			}
		}
		}
	}
	s_adds(b, "\n");
}

static int s_dump_table(sqlite3 *db, const char *table, struct s_buf *b)
{
	sqlite3_stmt *st = NULL;
	char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", table);
	int ncol, rc;

	if (!sql || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	ncol = sqlite3_column_count(st);
	sqlite3_finalize(st);
	st = NULL;
	sqlite3_free(sql);
	/* every column in the ORDER BY: canonical with or without rowids */
	sql = sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY 1", table);
	for (int i = 2; sql && i <= ncol; i++) {
		char *more = sqlite3_mprintf("%s, %d", sql, i);

		sqlite3_free(sql);
		sql = more;
	}
	if (!sql || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	s_adds(b, "table ");
	s_adds(b, table);
	s_adds(b, "\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		s_add_row(b, st);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return rc == SQLITE_DONE ? 0 : -1;
fail:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return -1;
}

char *fault_dump(const char *path)
{
	struct s_buf b = { 0 };
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc, ok = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	/* The schema and its version are part of the state too. */
	if (sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_schema "
			       "ORDER BY type, name", -1, &st, NULL) != SQLITE_OK)
		goto out;
	s_adds(&b, "schema\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		s_add_row(&b, st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE ||
	    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (s_dump_table(db, (const char *)sqlite3_column_text(st, 0), &b) < 0)
			goto out;
	ok = rc == SQLITE_DONE && !b.oom;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (!ok) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---- the sweep ---- */

struct s_sweep {
	const struct fault_case *c;
	struct fault_fx fx;
	char dir[128], tpl[160], path[160];
	uint8_t master[CRYPTO_KEY_LEN];
	void *img;			/* the template database file */
	size_t img_len;
	char *before;			/* its dump */
	char *after;			/* dump after the fault-free run */
	int ref;			/* the fault-free run's result */
	struct fault_stats *st;
};

static void s_unlink3(const char *path)
{
	char p[200];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int s_slurp(const char *path, void **out, size_t *len)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p = NULL;
	int ok;

	if (fd < 0 || fstat(fd, &sb) < 0 || !(p = malloc(sb.st_size ? (size_t)sb.st_size : 1))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = read(fd, p, (size_t)sb.st_size) == sb.st_size;
	close(fd);
	if (!ok) {
		free(p);
		return -1;
	}
	*out = p;
	*len = (size_t)sb.st_size;
	return 0;
}

static void s_sweep_close(struct s_sweep *w)
{
	if (w->fx.s && w->c->detach)
		w->c->detach(&w->fx);
	w->fx.ctx = NULL;
	store_close(&w->fx.s);
}

/* A fresh store from the template, with the case's context around it. */
static int s_restore(struct s_sweep *w)
{
	char err[256];
	int fd, ok;

	s_sweep_close(w);
	s_unlink3(w->path);
	fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ok = write(fd, w->img, w->img_len) == (ssize_t)w->img_len;
	close(fd);
	if (!ok || store_open(w->path, w->master, &w->fx.s, err, sizeof(err)) < 0) {
		fprintf(stderr, "fault: %s: cannot restore the store: %s\n", w->c->name, err);
		return -1;
	}
	if (w->c->attach && w->c->attach(&w->fx) < 0) {
		store_close(&w->fx.s);
		return -1;
	}
	return 0;
}

/* Run the op with kinds armed at n (n = 0: counting only). */
static int s_run(struct s_sweep *w, unsigned kinds, unsigned long n)
{
	int r;

	fault_seed(1);
	fault_reset();
	fault_arm(kinds, n);
	r = w->c->op(&w->fx);
	fault_disarm();
	return r;
}

/* Compare the store's committed state, read through a connection of its
 * own, with want. */
static int s_same(struct s_sweep *w, const char *want, const char **why)
{
	char *got = fault_dump(w->path);
	int same;

	if (!got) {
		*why = "cannot dump the store";
		return 0;
	}
	same = strcmp(got, want) == 0;
	if (!same) {
		size_t i = 0, line = 1;

		while (got[i] && got[i] == want[i])
			line += got[i++] == '\n';
		while (i > 0 && got[i - 1] != '\n')
			i--;
		fprintf(stderr, "fault: %s: first difference at line %zu of the dump:\n"
			"  want %.*s\n  got  %.*s\n", w->c->name, line,
			(int)strcspn(want + i, "\n"), want + i, (int)strcspn(got + i, "\n"), got + i);
	}
	free(got);
	return same;
}

/* The audit chain must still verify after whatever happened. */
static int s_chain_ok(struct s_sweep *w)
{
	int64_t bad = 0;
	char why[128];

	return audit_verify(store_audit_peek(w->fx.s), &bad, why, sizeof(why)) == 0;
}

/* What is wrong after the op returned r (NULL = nothing); the retry of a
 * failed op runs on the same handle, as the daemon's next request would. */
static const char *s_judge(struct s_sweep *w, int r)
{
	const char *why = NULL;
	int r2;

	if (r >= 0 && r != w->ref)
		return "completed with another result";
	if (store_begin(w->fx.s) < 0) {
		store_rollback(w->fx.s);
		return "left a transaction open";
	}
	store_rollback(w->fx.s);
	if (r >= 0) {
		if (!s_chain_ok(w))
			return "completed, but the audit chain does not verify";
		if (!s_same(w, w->after, &why))
			return why ? why : "completed, but the store differs from the fault-free run";
		return NULL;
	}
	if (!s_same(w, w->before, &why))
		return why ? why : "failed and left the store changed (half done)";
	if ((r2 = s_run(w, 0, 0)) != w->ref)
		return r2 < 0 ? "failed, and the retry without fault failed too" :
				"failed, and the retry gave another result";
	if (!s_chain_ok(w))
		return "the audit chain does not verify after the retry";
	if (!s_same(w, w->after, &why))
		return why ? why : "the retry left another store than the fault-free run";
	return NULL;
}

/* One injection: the outcome counted in w->st; a bad one is printed. */
static int s_point(struct s_sweep *w, unsigned kind, unsigned long n, unsigned long total)
{
	const char *why;
	int r;

	if (s_restore(w) < 0)
		return -1;
	r = s_run(w, kind | (w->c->kinds & FAULT_PERSIST), n);
	w->st->points++;
	if (!fault_fired())
		w->st->not_fired++;
	why = s_judge(w, r);
	if (why) {
		w->st->bad++;
		fprintf(stderr, "fault: %s: BAD at %s %lu/%lu (op returned %d): %s\n", w->c->name,
			fault_kind_str(kind), n, total, r, why);
	} else if (r < 0) {
		w->st->failed++;
	} else {
		w->st->completed++;
	}
	return 0;
}

/* The template store: opened, filled by setup, closed (checkpointed). */
static int s_template(struct s_sweep *w)
{
	char err[256];
	int r = 0;

	memset(w->master, 0x42, sizeof(w->master));
	w->fx.path = w->tpl;
	fault_seed(7);
	if (store_open(w->tpl, w->master, &w->fx.s, err, sizeof(err)) < 0) {
		fprintf(stderr, "fault: %s: template: %s\n", w->c->name, err);
		return -1;
	}
	if (w->c->setup)
		r = w->c->setup(&w->fx);
	store_close(&w->fx.s);
	w->fx.path = w->path;
	if (r < 0) {
		fprintf(stderr, "fault: %s: setup failed: %d\n", w->c->name, r);
		return -1;
	}
	if (s_slurp(w->tpl, &w->img, &w->img_len) < 0 || !(w->before = fault_dump(w->tpl)))
		return -1;
	return 0;
}

/* The fault-free runs: a warm-up (lazy initialisation in the libraries must
 * not shift the counts) and the reference result and store. */
static int s_reference(struct s_sweep *w)
{
	const char *why = NULL;

	for (int i = 0; i < 2; i++) {
		if (s_restore(w) < 0)
			return -1;
		w->ref = s_run(w, 0, 0);
		if (w->ref < 0) {
			fprintf(stderr, "fault: %s: the op fails without a fault: %d\n", w->c->name, w->ref);
			return -1;
		}
	}
	s_sweep_close(w);
	if (!(w->after = fault_dump(w->path)))
		return -1;
	/* and it is deterministic: the same again */
	if (s_restore(w) < 0 || s_run(w, 0, 0) != w->ref || (s_sweep_close(w), !s_same(w, w->after, &why))) {
		fprintf(stderr, "fault: %s: two fault-free runs differ\n", w->c->name);
		return -1;
	}
	return 0;
}

static const char *s_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	if (access("/dev/shm", W_OK) == 0)
		return "/dev/shm";	/* synchronous=FULL: fsync on tmpfs is free */
	return t && *t ? t : "/tmp";
}

/* Sweep one kind; the number of events it counted goes into *total. */
static int s_sweep_kind(struct s_sweep *w, unsigned kind, unsigned long *total)
{
	unsigned stride = w->c->stride > 1 ? w->c->stride : 1;
	unsigned long n;

	if (s_restore(w) < 0)
		return -1;
	s_run(w, kind, 0);
	*total = n = fault_count();
	for (unsigned long i = 1; i <= n; i += stride)
		if (s_point(w, kind, i, n) < 0)
			return -1;
	return 0;
}

int fault_sweep(const struct fault_case *c, struct fault_stats *stats)
{
	static const unsigned kinds[] = { FAULT_MALLOC, FAULT_SQLITE_MALLOC, FAULT_STEP, FAULT_IO,
					  FAULT_SSL_MALLOC };
	struct fault_stats local = { 0 };
	struct s_sweep w = { .c = c, .st = stats ? stats : &local };
	unsigned mask = c->kinds & FAULT_ALL ? c->kinds & FAULT_ALL : FAULT_ALL;
	char per[256] = "";
	size_t o = 0;
	int r = -1;

	memset(w.st, 0, sizeof(*w.st));
	snprintf(w.dir, sizeof(w.dir), "%s/fault.XXXXXX", s_tmpdir());
	if (!mkdtemp(w.dir))
		return -1;
	snprintf(w.tpl, sizeof(w.tpl), "%s/template.db", w.dir);
	snprintf(w.path, sizeof(w.path), "%s/store.db", w.dir);
	w.fx.dir = w.dir;
	w.fx.arg = c->arg;
	if (s_template(&w) < 0 || s_reference(&w) < 0)
		goto out;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		unsigned long total = 0;

		if (!(mask & kinds[k]))
			continue;
		if (s_sweep_kind(&w, kinds[k], &total) < 0)
			goto out;
		o += (size_t)snprintf(per + o, sizeof(per) - o, "%s%s %lu", o ? ", " : "",
				      fault_kind_str(kinds[k]), total);
	}
#if FAULT_LSAN
	/* Once per case (a check costs a scan of the heap): leaks persist, so the
	 * first case that shows one is where it happened. */
	if (__lsan_do_recoverable_leak_check()) {
		fprintf(stderr, "fault: %s: BAD: memory leaked (report above)\n", c->name);
		w.st->bad++;
	}
#endif
	printf("fault: %s: %lu points, %lu failed cleanly, %lu completed, %lu bad (events: %s)\n",
	       c->name, w.st->points, w.st->failed, w.st->completed, w.st->bad, per);
	if (c->kinds & FAULT_PERSIST)
		printf("fault: %s: persistent: each point fails every later event of its kind too\n",
		       c->name);
	if (c->stride > 1)
		printf("fault: %s: sampled: every %u-th point only\n", c->name, c->stride);
	if (w.st->not_fired)
		printf("fault: %s: %lu armed points were not reached (counts drift)\n", c->name,
		       w.st->not_fired);
	fflush(stdout);
	r = w.st->bad ? 1 : 0;
out:
	s_sweep_close(&w);
	s_unlink3(w.path);
	s_unlink3(w.tpl);
	rmdir(w.dir);
	free(w.img);
	free(w.before);
	free(w.after);
	return r < 0 ? -1 : r;
}

int fault_import_leaver(struct store *s, const char *file, const char *ref, const char *pgn,
			const char *dest, const char *support_needs, const char *mentor)
{
	Overstapctl__Leaver l = OVERSTAPCTL__LEAVER__INIT, *rows[1] = { &l };
	struct strlist errors = { 0 };
	int r;

	l.pupil_ref = (char *)ref;
	l.pgn = (char *)pgn;
	l.given_name = "Zwaantje";
	l.family_name = "Oudewater";
	l.birth_date = "2008-02-29";
	l.program = "pro";
	l.cohort = "2024-2025";
	l.exit_date = "2025-07-04";
	l.destination_type = "mbo_entree";
	l.destination_institution = (char *)dest;
	l.advice = "entree";
	l.advice_followed = "no";
	l.level_taal = "1F";
	l.level_rekenen = "2F";
	if (support_needs)
		l.support_needs = (char *)support_needs;
	if (mentor)
		l.mentor_name = (char *)mentor;
	l.line = 2;
	r = store_leavers_import(s, file, rows, 1, "mentor1", &errors);
	strlist_clear(&errors);
	return r;
}

void fault_test_sweep(void **state)
{
	const struct fault_case *c = *state;
	struct fault_stats st;

	assert_int_equal(fault_sweep(c, &st), 0);
	assert_true(st.points > 0);
	assert_int_equal(st.bad, 0);
}

int fault_start(const char *debug_env)
{
	if (fault_init() < 0) {
		fprintf(stderr, "fault_init: too late, a library was already initialised\n");
		return -1;
	}
	if (!getenv(debug_env))
		log_set_level(LOG_LVL_ERR - 1);
	return 0;
}

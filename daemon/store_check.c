/* store_check: the store's quick_check at start, on a worker thread with its
 * own read-only connection (design.md §5.8), so that a big store answers its
 * first request at once. The poll loop stays the only writer; it collects
 * the result (store_check_poll) and a failed check marks the store broken,
 * as damage met while running does. */
#include "store_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sqlerr.h"

struct store_bgcheck {
	pthread_t th;
	sqlite3 *db;			/* the worker's read-only connection */
	atomic_int done;		/* the worker finished: r, why and ms are set */
	int joined;
	int r;				/* 0 ok, -EUCLEAN damaged, else -errno */
	char why[160];			/* sqlite's first complaint */
	int64_t started, ms;		/* monotonic ms: when, and how long */
};

int store_conn_open(const char *path, int flags, sqlite3 **db)
{
	int rc = sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		sqlite3_close(*db);
		*db = NULL;
		return sqlerr_errno(rc);
	}
	sqlite3_busy_timeout(*db, 5000);
	return 0;
}

int store_check_db(sqlite3 *db, int full, struct strlist *problems)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0, ok = 0;

	rc = sqlite3_prepare_v2(db, full ? "PRAGMA integrity_check(100)" : "PRAGMA quick_check(100)",
				-1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		rc = SQLITE_OK;	/* every line, not only the first */
		if (t && strcmp(t, "ok") == 0)
			ok = 1;
		else if ((r = strlist_addf(problems, "%s", t ? t : "(no text)")) < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_OK) {
		r = sqlerr_errno(rc);
		if (r == -EUCLEAN && strlist_addf(problems, "%s", sqlite3_errmsg(db)) < 0)
			r = -ENOMEM;
	}
	sqlite3_finalize(st);
	return r == 0 && !ok ? -EUCLEAN : r;
}

static void *s_worker(void *arg)
{
	struct store_bgcheck *bg = arg;
	sqlite3_stmt *st = NULL;
	int rc, ok = 0, bad = 0;

	rc = sqlite3_prepare_v2(bg->db, "PRAGMA quick_check(1)", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (t && strcmp(t, "ok") == 0) {
			ok = 1;
		} else if (!bad++) {
			str_copy(bg->why, sizeof(bg->why), t ? t : "(no text)");
		}
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK) {
		bg->r = sqlerr_errno(rc);
		if (!bad)
			str_copy(bg->why, sizeof(bg->why), sqlite3_errmsg(bg->db));
	} else {
		bg->r = ok && !bad ? 0 : -EUCLEAN;
	}
	sqlite3_finalize(st);
	/* The connection is closed by the joining thread: sqlite3_interrupt
	 * (store_check_stop) must never meet a closed one. */
	bg->ms = time_mono_ms() - bg->started;
	atomic_store(&bg->done, 1);
	return NULL;
}

/* The store's threads take no signal, whatever the caller's mask is now:
 * the daemon blocks its signals only after the store is open and reads them
 * from a signalfd, and a process-directed SIGHUP or SIGTERM that found such
 * a thread unblocked would take its default action, killing the daemon
 * (test_quick_check_thread_takes_no_signal). */
int store_thread_create(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int store_check_start(struct store *s, const char *path)
{
	struct store_bgcheck *bg;
	int rc;

	if (s->bg)
		return -EALREADY;
	if (!(bg = calloc(1, sizeof(*bg))))
		return -ENOMEM;
	if ((rc = store_conn_open(path, SQLITE_OPEN_READONLY, &bg->db)) < 0) {
		free(bg);
		return rc;
	}
	bg->started = time_mono_ms();
	rc = store_thread_create(&bg->th, s_worker, bg);
	if (rc != 0) {
		sqlite3_close(bg->db);
		free(bg);
		return -rc;
	}
	s->bg = bg;
	return 0;
}

int store_check_poll(struct store *s, const char **why, int64_t *ms)
{
	struct store_bgcheck *bg = s->bg;

	if (!bg)
		return -ENOENT;
	if (!atomic_load(&bg->done))
		return 1;
	if (!bg->joined) {
		pthread_join(bg->th, NULL);
		bg->joined = 1;
		/* its pages were all read: let them go rather than keep them */
		sqlite3_close(bg->db);
		bg->db = NULL;
		if (bg->r == -EUCLEAN)
			store_mark_broken(s, bg->why);
	}
	if (why)
		*why = bg->why;
	if (ms)
		*ms = bg->ms;
	return bg->r;
}

int store_check_running(const struct store *s)
{
	return s->bg && !atomic_load(&s->bg->done);
}

void store_check_stop(struct store *s)
{
	struct store_bgcheck *bg = s->bg;

	if (!bg)
		return;
	if (!bg->joined) {
		/* a stop during the check: cut it short rather than wait for it */
		if (!atomic_load(&bg->done))
			sqlite3_interrupt(bg->db);
		pthread_join(bg->th, NULL);
		sqlite3_close(bg->db);
	}
	free(bg);
	s->bg = NULL;
}

/* ---- `overstap store check`, on its own thread ---- */

struct store_fullcheck {
	struct store *s;		/* counts it among its long readers */
	pthread_t th;
	sqlite3 *db;			/* the worker's read-only connection */
	atomic_int done;		/* the worker finished: r and problems are set */
	int joined;
	int r;				/* as store_check */
	struct strlist problems;	/* the worker's until done */
};

static void *s_full_worker(void *arg)
{
	struct store_fullcheck *fc = arg;

	fc->r = store_check_db(fc->db, 1, &fc->problems);
	atomic_store(&fc->done, 1);
	return NULL;
}

int store_fullcheck_start(struct store *s, struct store_fullcheck **out)
{
	const char *path = sqlite3_db_filename(s->db, "main");
	struct store_fullcheck *fc;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return -ENOENT;
	if (!(fc = calloc(1, sizeof(*fc))))
		return -ENOMEM;
	if ((rc = store_conn_open(path, SQLITE_OPEN_READONLY, &fc->db)) < 0) {
		free(fc);
		return rc;
	}
	if ((rc = store_thread_create(&fc->th, s_full_worker, fc)) != 0) {
		sqlite3_close(fc->db);
		free(fc);
		return -rc;
	}
	fc->s = s;
	s->long_readers++;
	*out = fc;
	return 0;
}

static void s_full_join(struct store_fullcheck *fc)
{
	if (fc->joined)
		return;
	if (!atomic_load(&fc->done))
		sqlite3_interrupt(fc->db);	/* cut short rather than waited for */
	pthread_join(fc->th, NULL);
	sqlite3_close(fc->db);
	fc->db = NULL;
	fc->joined = 1;
	fc->s->long_readers--;
}

int store_fullcheck_poll(struct store *s, struct store_fullcheck *fc, struct strlist *problems)
{
	if (!atomic_load(&fc->done))
		return 1;
	s_full_join(fc);
	for (size_t i = 0; i < fc->problems.n; i++)
		if (strlist_addf(problems, "%s", fc->problems.v[i]) < 0)
			return -ENOMEM;
	if (fc->r == -EUCLEAN)
		store_mark_broken(s, fc->problems.n ? fc->problems.v[0] : NULL);
	return fc->r;
}

void store_fullcheck_free(struct store_fullcheck **fcp)
{
	struct store_fullcheck *fc = *fcp;

	if (!fc)
		return;
	s_full_join(fc);
	strlist_clear(&fc->problems);
	free(fc);
	*fcp = NULL;
}

int store_schema_current(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v == STORE_SCHEMA_VERSION;
}

/* quick_check before anything is read or written: a store with damaged pages
 * is refused at start instead of accepting imports it cannot keep. */
int store_check_now(struct store *s, const char *path, char *err, size_t errlen)
{
	struct strlist problems = { 0 };
	int r = store_check(s, 0, &problems);

	if (r == -EUCLEAN)
		snprintf(err, errlen, "%s: PRAGMA quick_check failed: %s%s", path,
			 problems.n ? problems.v[0] : "damaged",
			 problems.n > 1 ? " (and more)" : "");
	else if (r < 0)
		snprintf(err, errlen, "%s: cannot run PRAGMA quick_check: %s", path, strerror(-r));
	strlist_clear(&problems);
	/* Its pages were all read: let them go rather than keep them cached. */
	sqlite3_db_release_memory(s->db);
	return r;
}

/* store_wal: the WAL checkpoint on a thread of its own (design.md §5.1).
 *
 * sqlite's automatic checkpoint runs inside the COMMIT that passes 1000 WAL
 * pages, on the committing thread: copying those pages into the database and
 * two fsyncs, on the poll loop, while acks and control requests wait (7 % of
 * the school's loop while sending, and the fsyncs' wait besides). Here the
 * loop's connection has no automatic checkpoint; its WAL hook wakes a thread
 * that runs a PASSIVE checkpoint on a connection of its own. PASSIVE never
 * waits for and never blocks the writer, and a checkpoint only copies what is
 * committed already, so durability is that of the commit (synchronous=FULL)
 * as before. The erasure's TRUNCATE checkpoint stays on the loop's
 * connection (store_checkpoint_wal), which waits for this one's lock. */
#include "store_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "sqlerr.h"

/* sqlite's own default for the automatic checkpoint */
#define S_WAL_PAGES 1000

struct store_walck {
	pthread_t th;
	sqlite3 *db;			/* the thread's connection */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int wanted;			/* the WAL passed S_WAL_PAGES since the last run */
	int stop;
	unsigned long runs;		/* checkpoints done (tests) */
	int last_rc;			/* the last checkpoint's sqlite code */
};

static void *s_thread(void *arg)
{
	struct store_walck *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->wanted && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		w->wanted = 0;
		pthread_mutex_unlock(&w->mu);
		/* SQLITE_BUSY (another checkpoint, e.g. the erasure's TRUNCATE,
		 * holds the lock) is fine: the next commit's hook asks again */
		int rc = sqlite3_wal_checkpoint_v2(w->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL,
						   NULL);
		pthread_mutex_lock(&w->mu);
		w->runs++;
		w->last_rc = rc;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Called by sqlite on the loop's thread after each commit, with the WAL's
 * size in pages; it must be cheap. */
static int s_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_walck *w = arg;

	(void)db;
	(void)name;
	if (pages >= S_WAL_PAGES) {
		pthread_mutex_lock(&w->mu);
		if (!w->wanted) {
			w->wanted = 1;
			pthread_cond_signal(&w->cv);
		}
		pthread_mutex_unlock(&w->mu);
	}
	return SQLITE_OK;
}

int store_wal_start(struct store *s, const char *path)
{
	struct store_walck *w;
	int rc;

	if (s->walck)
		return -EALREADY;
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	if ((rc = store_conn_open(path, SQLITE_OPEN_READWRITE, &w->db)) < 0) {
		free(w);
		return rc;
	}
	/* the checkpoint's fsyncs follow the connection's setting */
	sqlite3_exec(w->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rc = store_thread_create(&w->th, s_thread, w)) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		sqlite3_close(w->db);
		free(w);
		return -rc;
	}
	/* replaces sqlite's automatic checkpoint, itself a WAL hook */
	sqlite3_wal_hook(s->db, s_hook, w);
	s->walck = w;
	return 0;
}

void store_wal_stop(struct store *s)
{
	struct store_walck *w = s->walck;

	if (!w)
		return;
	/* the loop's connection checkpoints by itself again */
	sqlite3_wal_autocheckpoint(s->db, S_WAL_PAGES);
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	sqlite3_close(w->db);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	s->walck = NULL;
}

int store_wal_runs(struct store *s, unsigned long *runs)
{
	struct store_walck *w = s->walck;
	int rc;

	if (!w)
		return -ENOENT;
	pthread_mutex_lock(&w->mu);
	*runs = w->runs;
	rc = w->last_rc;
	pthread_mutex_unlock(&w->mu);
	return sqlerr_errno(rc);
}

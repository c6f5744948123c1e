/* store_backup: `overstap store backup FILE` (design.md §5.8), a consistent
 * copy of the store by sqlite's online backup API, made on a thread of its
 * own with its own read-only connection, so that the loop goes on sending,
 * receiving and answering while a store of some GiB is copied (before, the
 * copy ran inside one turn of the loop: minutes without an ack at that
 * size). The copy is one read transaction, so it is the store as committed
 * when the copy began, whatever the loop commits meanwhile (WAL: a reader's
 * snapshot does not move). */
#include "i18n.h"
#include "store_int.h"
#include "watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Pages copied between two looks at the stop flag: 4 MiB. */
#define S_BACKUP_PAGES 1024

struct store_backup {
	struct store *s;		/* counts it among its long readers */
	pthread_t th;
	sqlite3 *src;			/* the worker's read-only connection to the store */
	sqlite3 *dst;			/* the copy */
	atomic_int done;		/* the worker finished: rc and err are set */
	atomic_int stop;		/* the daemon stops: give up between slices */
	atomic_int_fast64_t copied, total;	/* pages, for the progress shown */
	int joined;
	int rc;				/* sqlite's result */
	char err[256];			/* sqlite's message when rc is not SQLITE_OK */
	char path[PATH_MAX];
};

/* Create path 0600, refusing what is there unless force. */
static int s_backup_create(const char *path, int force, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	if (lstat(path, &sb) == 0) {
		if (!force) {
			snprintf(err, errlen,
				 S_ISLNK(sb.st_mode) ? _("%s exists (a symbolic link); give --force to replace it")
						       : _("%s exists; give --force to replace it"),
				 path);
			return -EEXIST;
		}
		if (!S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode)) {
			snprintf(err, errlen, _("%s is not a regular file"), path);
			return -EINVAL;
		}
		if (unlink(path) < 0) {	/* a symlink itself, never its target */
			int e = errno;	/* gettext may set errno */

			snprintf(err, errlen, _("cannot replace %s: %s"), path, strerror(e));
			return -e;
		}
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;	/* gettext may set errno */

		snprintf(err, errlen, _("cannot create %s: %s"), path, strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}

static void *s_worker(void *arg)
{
	struct store_backup *b = arg;
	sqlite3_backup *bk = NULL;
	int rc;

	/* One read transaction over every slice: the snapshot stays put while
	 * the loop commits, so the copy never restarts and is one state. */
	rc = sqlite3_exec(b->src, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	if (rc == SQLITE_OK && !(bk = sqlite3_backup_init(b->dst, "main", b->src, "main")))
		rc = sqlite3_errcode(b->dst);
	while (bk && rc == SQLITE_OK && !atomic_load(&b->stop)) {
		rc = sqlite3_backup_step(bk, S_BACKUP_PAGES);
		atomic_store(&b->total, sqlite3_backup_pagecount(bk));
		atomic_store(&b->copied, sqlite3_backup_pagecount(bk) - sqlite3_backup_remaining(bk));
	}
	if (rc == SQLITE_OK)	/* stopped before the end */
		rc = SQLITE_INTERRUPT;
	if (bk) {
		sqlite3_backup_finish(bk);
		if (rc == SQLITE_DONE)
			rc = sqlite3_errcode(b->dst);
	}
	if (rc != SQLITE_OK)
		snprintf(b->err, sizeof(b->err), "%s",
			 sqlite3_errcode(b->dst) != SQLITE_OK ? sqlite3_errmsg(b->dst)
			 : sqlite3_errcode(b->src) != SQLITE_OK ? sqlite3_errmsg(b->src)
								  : sqlite3_errstr(rc));
	sqlite3_exec(b->src, "COMMIT", NULL, NULL, NULL);
	b->rc = rc;
	atomic_store(&b->done, 1);
	return NULL;
}

int store_backup_start(struct store *s, const char *path, int force, struct store_backup **out,
		       char *err, size_t errlen)
{
	const char *src = sqlite3_db_filename(s->db, "main");
	struct store_backup *b;
	int r;

	*out = NULL;
	if (!src || !*src) {
		snprintf(err, errlen, _("the store has no file to copy"));
		return -ENOENT;
	}
	if (strlen(path) >= PATH_MAX) {
		snprintf(err, errlen, _("the backup file's name is too long"));
		return -ENAMETOOLONG;
	}
	if (s->backup) {
		snprintf(err, errlen, _("a backup to %s is still running; start the next when it has "
					"finished"), s->backup->path);
		return -EBUSY;
	}
	if ((r = s_backup_create(path, force, err, errlen)) < 0)
		return r;
	if (!(b = calloc(1, sizeof(*b)))) {
		unlink(path);
		return -ENOMEM;
	}
	str_copy(b->path, sizeof(b->path), path);
	if ((r = store_conn_open(src, SQLITE_OPEN_READONLY, &b->src)) < 0 ||
	    (r = store_conn_open(path, SQLITE_OPEN_READWRITE, &b->dst)) < 0 ||
	    (r = -store_thread_create(&b->th, s_worker, b)) < 0) {
		snprintf(err, errlen, _("backup to %s failed: %s"), path, strerror(-r));
		sqlite3_close(b->src);
		sqlite3_close(b->dst);
		unlink(path);
		free(b);
		return r;
	}
	b->s = s;
	s->long_readers++;
	s->backup = b;
	*out = b;
	return 0;
}

static void s_join(struct store_backup *b)
{
	if (b->joined)
		return;
	pthread_join(b->th, NULL);
	sqlite3_close(b->src);
	sqlite3_close(b->dst);
	b->src = b->dst = NULL;
	b->joined = 1;
	b->s->long_readers--;
	b->s->backup = NULL;
}

int store_backup_poll(struct store *s, struct store_backup *b, uint64_t *bytes, char *err,
		      size_t errlen)
{
	struct stat sb;
	int r;

	*bytes = 0;
	if (!atomic_load(&b->done))
		return 1;
	s_join(b);
	if (b->rc != SQLITE_OK) {
		snprintf(err, errlen, _("backup to %s failed: %s"), b->path, b->err);
		/* damage met reading the store marks it broken, as on the loop */
		r = store_note(s, sqlerr_errno(b->rc));
		unlink(b->path);
		b->path[0] = '\0';
		return r < 0 ? r : -EIO;
	}
	if (stat(b->path, &sb) == 0)
		*bytes = (uint64_t)sb.st_size;
	b->path[0] = '\0';	/* kept: the caller decides (it audits the copy) */
	return 0;
}

int store_backup_progress(const struct store_backup *b, uint64_t *done, uint64_t *total)
{
	*done = (uint64_t)atomic_load(&b->copied);
	*total = (uint64_t)atomic_load(&b->total);
	return atomic_load(&b->done);
}

void store_backup_free(struct store_backup **bp)
{
	struct store_backup *b = *bp;

	if (!b)
		return;
	if (!b->joined) {	/* the daemon stops mid-copy: no half copy is left */
		atomic_store(&b->stop, 1);
		s_join(b);
	}
	if (b->path[0])
		unlink(b->path);
	free(b);
	*bp = NULL;
}

int store_backup(struct store *s, const char *path, int force, uint64_t *bytes, char *err,
		 size_t errlen)
{
	struct store_backup *b = NULL;
	uint64_t done, total, told = 0;
	int r = store_backup_start(s, path, force, &b, err, errlen);

	/* No loop to go back to: wait here, telling the watchdog that we get
	 * on (watchdog.h) after each slice, as a copy of some GiB takes longer
	 * than WatchdogSec=. */
	while (r == 0 && (r = store_backup_poll(s, b, bytes, err, errlen)) == 1) {
		store_backup_progress(b, &done, &total);
		if (done != told)
			watchdog_progress("backing up the store", done, total);
		told = done;
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
		r = 0;
	}
	store_backup_free(&b);
	return r;
}

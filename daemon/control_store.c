/* control_store: `overstap store check` and `overstap store backup FILE`: the
 * store's full integrity check and a consistent copy to restore from
 * (design.md §5.8). Both are audited; on a damaged store, where the audit log
 * cannot be written any more, the answer still comes. */
#include "control_int.h"
#include "jdetail.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A job's thread is still at work: 1 when the step returns to the loop
 * (c->waiting: its next rounds look without spinning), else 0 after a
 * millisecond's wait here (no loop to go back to: a test, the fuzzer). */
static int s_defer(struct req_ctx *c)
{
	if (c->can_defer) {
		c->waiting = 1;
		return 1;
	}
	nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	return 0;
}

/* The check under way (its job): the worker's handle, and the result. */
struct s_check {
	struct store_fullcheck *fc;
	Overstapctl__StoreCheckResult *res;
};

static void s_check_free(struct req_ctx *c)
{
	struct s_check *k = c->job;

	store_fullcheck_free(&k->fc);
	free(k);
}

/* A step of `store check`: still running (the loop goes on, c->waiting:
 * without spinning), or its result, audited. */
static int s_check_step(struct req_ctx *c)
{
	struct s_check *k = c->job;
	Overstapctl__StoreCheckResult *res = k->res;
	struct store *s = c->h->store;
	struct strlist problems = { 0 };
	int r, ra;

	while ((r = store_fullcheck_poll(s, k->fc, &problems)) == 1)
		if (s_defer(c))
			return 0;
	c->step = NULL;
	c->waiting = 0;
	if (r < 0 && r != -EUCLEAN) {
		strlist_clear(&problems);
		return ctl_fail(c, r, "cannot run the integrity check: %s", strerror(-r));
	}
	res->ok = r == 0;
	res->problems = ctl_keep(&c->pool, calloc(problems.n + 1, sizeof(char *)));
	for (size_t i = 0; i < problems.n && res->problems; i++)
		if ((res->problems[res->n_problems] = ctl_strdup(&c->pool, problems.v[i])))
			res->n_problems++;
	strlist_clear(&problems);
	if (!res->ok && res->n_problems == 0)
		return -ENOMEM;	/* a damaged store must never read as "ok, no problems" */
	ra = store_auditf(s, c->user, "store.checked", "", "", "{s:s, s:I}", "result",
			  res->ok ? "ok" : "damaged", "problems", (json_int_t)res->n_problems);
	if (ra < 0 && res->ok)
		return ctl_fail(c, ra, "the store is intact, but the check could not be audited: %s",
				strerror(-ra));
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_STORE_CHECK;
	c->rep->store_check = res;
	return 0;
}

/* The integrity check reads the whole store: at some GiB a minute or more,
 * so it runs on a thread of its own (store_fullcheck_start) and the loop
 * answers everything else meanwhile (design.md §5.8). */
int ctl_store_check(struct req_ctx *c)
{
	Overstapctl__StoreCheckResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	struct s_check *k;
	int r;

	if (!res || !(k = calloc(1, sizeof(*k))))
		return -ENOMEM;
	overstapctl__store_check_result__init(res);
	k->res = res;
	if ((r = store_fullcheck_start(c->h->store, &k->fc)) < 0) {
		free(k);
		return ctl_fail(c, r, "cannot run the integrity check: %s", strerror(-r));
	}
	c->job = k;
	c->job_free = s_check_free;
	c->step = s_check_step;
	return 0;
}

/* The copy under way (its job). */
struct s_backup {
	struct store_backup *b;
	char *file;			/* the request's, borrowed */
	Overstapctl__StoreBackupResult *res;
};

static void s_backup_free(struct req_ctx *c)
{
	struct s_backup *k = c->job;

	store_backup_free(&k->b);	/* a daemon stopped mid-copy leaves no half file */
	free(k);
}

/* A step of `store backup`: still copying (the loop goes on, c->waiting),
 * or the copy done, audited. */
static int s_backup_step(struct req_ctx *c)
{
	struct s_backup *k = c->job;
	struct store *s = c->h->store;
	char err[PATH_MAX + 256] = "";
	uint64_t bytes = 0;
	int r;

	while ((r = store_backup_poll(s, k->b, &bytes, err, sizeof(err))) == 1)
		if (s_defer(c))
			return 0;
	c->step = NULL;
	c->waiting = 0;
	if (r < 0)
		return ctl_fail(c, r, "%s", err);
	r = store_auditf(s, c->user, "store.backup", "", "", "{s:o, s:I}", "file",
			 jdetail_text(k->file), "bytes", (json_int_t)bytes);
	/* A copy of every pupil's (sealed) data that the audit log does not show
	 * is not kept, unless the store is damaged: then the copy is the rescue. */
	if (r < 0 && !store_broken(s, NULL)) {
		unlink(k->file);
		return ctl_fail(c, r, "no backup kept: cannot write the audit log: %s", strerror(-r));
	}
	k->res->file = ctl_strdup(&c->pool, k->file);
	k->res->bytes = bytes;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_STORE_BACKUP;
	c->rep->store_backup = k->res;
	return k->res->file ? 0 : -ENOMEM;
}

/* A copy of a store of some GiB takes minutes: it runs on a thread of its
 * own (store_backup_start) and the loop goes on sending, receiving and
 * answering meanwhile (design.md §5.8). */
int ctl_store_backup(struct req_ctx *c)
{
	const Overstapctl__StoreBackup *q = c->req->store_backup;
	Overstapctl__StoreBackupResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	char err[PATH_MAX + 256] = "";
	struct s_backup *k;
	int r;

	if (!res)
		return -ENOMEM;
	overstapctl__store_backup_result__init(res);
	if (!q->file || q->file[0] != '/' || strlen(q->file) >= PATH_MAX)
		return ctl_fail(c, -EINVAL, "the backup file must be an absolute path");
	if (!(k = calloc(1, sizeof(*k))))
		return -ENOMEM;
	k->file = q->file;
	k->res = res;
	if ((r = store_backup_start(c->h->store, q->file, q->force, &k->b, err, sizeof(err))) < 0) {
		free(k);
		return ctl_fail(c, r, "%s", err);
	}
	c->job = k;
	c->job_free = s_backup_free;
	c->step = s_backup_step;
	return 0;
}

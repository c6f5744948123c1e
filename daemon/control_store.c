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

	while ((r = store_fullcheck_poll(s, k->fc, &problems)) == 1) {
		if (c->can_defer) {
			c->waiting = 1;	/* the next round of the loop */
			return 0;
		}
		/* no loop to go back to (a test, the fuzzer): wait here */
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
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

int ctl_store_backup(struct req_ctx *c)
{
	const Overstapctl__StoreBackup *q = c->req->store_backup;
	struct store *s = c->h->store;
	Overstapctl__StoreBackupResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	char err[PATH_MAX + 256] = "";
	uint64_t bytes = 0;
	int r;

	if (!res)
		return -ENOMEM;
	overstapctl__store_backup_result__init(res);
	if (!q->file || q->file[0] != '/' || strlen(q->file) >= PATH_MAX)
		return ctl_fail(c, -EINVAL, "the backup file must be an absolute path");
	if ((r = store_backup(s, q->file, q->force, &bytes, err, sizeof(err))) < 0)
		return ctl_fail(c, r, "%s", err);
	r = store_auditf(s, c->user, "store.backup", "", "", "{s:o, s:I}", "file",
			 jdetail_text(q->file), "bytes", (json_int_t)bytes);
	/* A copy of every pupil's (sealed) data that the audit log does not show
	 * is not kept, unless the store is damaged: then the copy is the rescue. */
	if (r < 0 && !store_broken(s, NULL)) {
		unlink(q->file);
		return ctl_fail(c, r, "no backup kept: cannot write the audit log: %s", strerror(-r));
	}
	res->file = ctl_strdup(&c->pool, q->file);
	res->bytes = bytes;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_STORE_BACKUP;
	c->rep->store_backup = res;
	return res->file ? 0 : -ENOMEM;
}

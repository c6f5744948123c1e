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
#include <unistd.h>

int ctl_store_check(struct req_ctx *c)
{
	struct store *s = c->h->store;
	Overstapctl__StoreCheckResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	struct strlist problems = { 0 };
	int r, ra;

	if (!res)
		return -ENOMEM;
	overstapctl__store_check_result__init(res);
	r = store_check(s, 1, &problems);
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

/* control_enrolments: `overstap import enrolments` at the MBO (design.md
 * §6.3, §8.4): every new enrolment, with or without a dossier, stored with
 * its PGN sealed like a dossier and linked to the dossier received for the
 * pupil, so that the receiving report counts the whole intake. All or
 * nothing; a row already held (same pupil, same start) changes nothing, or
 * corrects its level and previous education, so a longer or corrected list
 * can be imported again. Audited without a PGN. A check
 * (`--check`) runs every step in a transaction that is rolled back. */
#include "control_int.h"
#include "enrolments.h"
#include "jdetail.h"
#include "i18n.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_import_enrolments(struct req_ctx *c)
{
	const Overstapctl__ImportEnrolments *im = c->req->import_enrolments;
	const char *name = im->file[0] ? im->file : "-";
	Overstapctl__ImportResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	struct enrolment_row_in *rows = calloc(im->n_rows ? im->n_rows : 1, sizeof(*rows));
	struct strlist errors = { 0 };
	int64_t now = time_now_ms();
	unsigned added = 0, fixed = 0;
	int r = 0, rt;

	if (!res || !rows) {
		free(rows);
		return -ENOMEM;
	}
	overstapctl__import_result__init(res);
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT;
	c->rep->import_result = res;
	/* the daemon checks again: it never trusts the client */
	for (size_t i = 0; i < im->n_rows; i++) {
		const Overstapctl__EnrolmentRow *e = im->rows[i];
		char level[12] = "";
		struct enrolment_input in = { e->pgn, level, e->start_date, e->previous, e->line };

		if (e->level)
			snprintf(level, sizeof(level), "%u", e->level);
		enrolment_row_validate(name, &in, &rows[i], &errors);
	}
	if (errors.n == 0 && (r = store_begin(c->h->store)) == 0) {
		for (size_t i = 0; i < im->n_rows && r >= 0; i++) {
			struct enrolment_in e = { rows[i].pgn, rows[i].level, rows[i].start_date,
						  rows[i].previous };

			if ((r = store_enrolment_put(c->h->store, &e, c->user, now)) == 0)
				added++;
			else if (r == 2)
				fixed++;
		}
		if (r >= 0)
			r = store_auditf(c->h->store, c->user, "enrolments.imported", "", "",
					 "{s:o, s:i, s:i, s:i}", "file", jdetail_text(name), "rows",
					 (int)im->n_rows, "new", (int)added, "corrected", (int)fixed);
		if (r >= 0 && !im->check)
			r = store_commit(c->h->store);
		else
			store_rollback(c->h->store);
	}
	OPENSSL_cleanse(rows, (im->n_rows ? im->n_rows : 1) * sizeof(*rows));
	free(rows);
	if ((rt = ctl_errors_take(c, res, &errors, NULL)) < 0 && r >= 0)
		r = rt;
	if (r < 0)
		return ctl_fail(c, r, "nothing imported: %s", strerror(-r));
	if (res->n_errors)
		return ctl_fail(c, -EINVAL, ngettext("nothing imported: %zu problem", "nothing imported: %zu problems",
						     res->n_errors), res->n_errors);
	res->imported = added;
	res->added = added;
	res->updated = fixed;
	res->unchanged = (uint32_t)(im->n_rows - added - fixed);
	res->check = im->check;
	if (!im->check)
		log_notice("user %s imported %zu enrolments (%u new, %u corrected)", c->user,
			   im->n_rows, added, fixed);
	return 0;
}

/* control_import: `import leavers` and `handover registered` at the sending school. */
#include "control_int.h"
#include "import.h"
#include "jdetail.h"
#include "leavers.h"
#include "i18n.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A strlist into a pooled reply field (never a NULL in it); the list is
 * emptied. */
static int s_take(struct req_ctx *c, struct strlist *l, char ***v, size_t *n)
{
	int r = 0;

	*v = ctl_keep(&c->pool, calloc(l->n + 1, sizeof(char *)));
	for (size_t i = 0; i < l->n && *v && r == 0; i++) {
		char *d = ctl_strdup(&c->pool, l->v[i]);

		if (d)
			(*v)[(*n)++] = d;
		else
			r = -ENOMEM;
	}
	if (!*v && l->n)
		r = -ENOMEM;
	strlist_clear(l);
	return r;
}

/* Building an import's reply. */
struct s_reply {
	struct req_ctx *c;
	int check;
	int built;		/* the reply holds the result */
	int committing;		/* built just before the commit: imported counts */
};

/* The reply: counts, warnings, notes (errors follow in the handler). Built
 * inside the import's transaction when it stores (import_result's
 * before_commit), as ctl_consent_grant does: built after the commit, an
 * allocation that failed answered -ENOMEM for a file that was imported
 * (test_fault_control.c). */
static int s_build(void *arg, struct import_result *ir)
{
	struct s_reply *rp = arg;
	struct req_ctx *c = rp->c;
	Overstapctl__ImportResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));

	if (!res)
		return -ENOMEM;
	overstapctl__import_result__init(res);
	res->check = rp->check;
	res->added = ir->added;
	res->updated = ir->updated;
	res->unchanged = ir->unchanged;
	res->unchanged_sent = ir->unchanged_sent;
	res->refused = ir->refused;
	if (rp->committing)
		res->imported = ir->added + ir->updated;
	if (s_take(c, &ir->warnings, &res->warnings, &res->n_warnings) < 0 ||
	    s_take(c, &ir->notes, &res->notes, &res->n_notes) < 0)
		return -ENOMEM;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT;
	c->rep->import_result = res;
	rp->built = 1;
	return 0;
}

static int s_build_committing(void *arg, struct import_result *ir)
{
	((struct s_reply *)arg)->committing = 1;
	return s_build(arg, ir);
}

/* After the import (r): the reply as built, or built now (checked, or
 * refused with errors), or a failure with no body. */
static int s_result(struct s_reply *rp, int r, struct import_result *ir)
{
	struct req_ctx *c = rp->c;

	if (r < 0 && r != -EINVAL) {
		import_result_clear(ir);
		c->rep->body_case = OVERSTAPCTL__REPLY__BODY__NOT_SET;
		c->rep->import_result = NULL;
		return ctl_fail(c, r, "cannot store the import: %s", strerror(-r));
	}
	if (!rp->built && (r = s_build(rp, ir)) < 0) {
		import_result_clear(ir);
		return r;
	}
	if (ir->errors.n)	/* the errors are the answer; nothing was stored */
		return ctl_errors_take(c, c->rep->import_result, &ir->errors, NULL);
	import_result_clear(ir);
	return 0;
}

_Static_assert(ARRAY_SIZE(((struct hctx *)0)->imports) == IMPORT_SESSIONS, "one slot a session");

/* The slot of session id of user, or of a new one (id 0), or NULL. */
static struct import_stage **s_session_slot(struct hctx *h, uint64_t id, const char *user)
{
	for (size_t i = 0; i < IMPORT_SESSIONS; i++) {
		struct import_stage *st = h->imports[i];

		if (id ? st && import_stage_id(st) == id && strcmp(import_stage_user(st), user) == 0
		       : !st)
			return &h->imports[i];
	}
	return NULL;
}

/* A chunk of a session that goes on: the session and the rows so far. */
static int s_session_reply(struct req_ctx *c, const struct import_stage *st)
{
	Overstapctl__ImportResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));

	if (!res)
		return -ENOMEM;
	overstapctl__import_result__init(res);
	res->session = import_stage_id(st);
	res->staged = import_stage_staged(st);
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT;
	c->rep->import_result = res;
	return 0;
}

/* A leavers file in chunks (design.md §8.5): staged request by request,
 * applied or checked whole by the last, dropped by an abort. */
static int s_import_session(struct req_ctx *c, const char *file)
{
	const Overstapctl__ImportLeavers *im = c->req->import_leavers;
	struct import_stage **slot;
	struct s_reply rp = { c, im->check, 0, 0 };
	struct import_result ir = { .before_commit = s_build_committing, .arg = &rp };
	int r;

	import_sessions_expire(c->h, time_mono_ms());
	slot = s_session_slot(c->h, im->session, c->user);
	if (!slot && !im->session)
		return ctl_fail(c, -EBUSY, "%d imports are under way: try again later",
				IMPORT_SESSIONS);
	if (!slot)
		return ctl_fail(c, -ENOENT, "no such import session (it ended, or was dropped "
				"after %d minutes without a request): nothing was imported",
				IMPORT_SESSION_IDLE_MS / 60000);
	if (!*slot) {
		if ((r = import_stage_open(c->h->store, file, c->user, im->check, slot)) < 0)
			return ctl_fail(c, r, "cannot start the import: %s", strerror(-r));
		log_info("user %s started an import session for %s", c->user, str_visbuf(file).s);
	}
	if (im->abort) {
		r = import_stage_errors(*slot, &ir);
		import_stage_free(slot);
		return s_result(&rp, r < 0 ? r : -EINVAL, &ir);
	}
	rp.check = import_stage_check(*slot);
	if ((r = import_stage_add(*slot, c->h->cfg, (Overstapctl__Leaver *const *)im->leavers,
				  im->n_leavers)) < 0) {
		import_stage_free(slot);
		return ctl_fail(c, r, "cannot store the import: %s", strerror(-r));
	}
	if (im->more)
		return s_session_reply(c, *slot);
	log_info("import session of %s: %u rows received, %s", c->user, import_stage_staged(*slot),
		 rp.check ? "checking" : "importing");
	r = import_stage_finish(*slot, c->user, &ir);
	import_stage_free(slot);
	if (r == 0 && !rp.check)
		log_notice("user %s imported leavers from %s: %u added, %u updated, %u unchanged,"
			   " %u unchanged (sent)", c->user, str_visbuf(file).s, ir.added,
			   ir.updated, ir.unchanged, ir.unchanged_sent);
	return s_result(&rp, r, &ir);
}

int ctl_import_leavers(struct req_ctx *c)
{
	const Overstapctl__ImportLeavers *im = c->req->import_leavers;
	const char *file = im->file[0] ? im->file : "import";
	struct s_reply rp = { c, im->check, 0, 0 };
	struct import_result ir = { .before_commit = s_build_committing, .arg = &rp };
	int r;

	if (im->session || im->more || im->abort)
		return s_import_session(c, file);
	r = import_leavers(c->h->store, c->h->cfg, file,
			       (Overstapctl__Leaver *const *)im->leavers, im->n_leavers,
			       c->user, im->check, &ir);

	if (r == 0 && !im->check)
		log_notice("user %s imported leavers from %s: %u added, %u updated, %u unchanged,"
			   " %u unchanged (sent)", c->user, str_visbuf(file).s, ir.added,
			   ir.updated, ir.unchanged, ir.unchanged_sent);
	return s_result(&rp, r, &ir);
}

int ctl_import_consents(struct req_ctx *c)
{
	const Overstapctl__ImportConsents *im = c->req->import_consents;
	const char *file = im->file[0] ? im->file : "import";
	struct s_reply rp = { c, im->check, 0, 0 };
	struct import_result ir = { .before_commit = s_build_committing, .arg = &rp };
	int r = import_consents(c->h, file, (Overstapctl__ConsentGrant *const *)im->rows,
				im->n_rows, c->user, im->check, &ir);

	if (r == 0 && !im->check)
		log_notice("user %s imported consents from %s: %u added, %u unchanged",
			   c->user, str_visbuf(file).s, ir.added, ir.unchanged);
	return s_result(&rp, r, &ir);
}

int ctl_mark_registered(struct req_ctx *c)
{
	const Overstapctl__MarkRegistered *m = c->req->mark_registered;
	Overstapctl__ImportResult *res = ctl_marked_new(c);
	char today[11];
	const char *date = m->date;
	int r = 0;

	if (!res)
		return -ENOMEM;
	date_today(today);
	if (!date[0])
		date = today;
	if (!date_valid(date, NULL, NULL, NULL) || strcmp(date, today) > 0)
		return ctl_fail(c, -EINVAL, "date %s is not a valid date on or before today", date);
	res->errors = ctl_keep(&c->pool, calloc(m->n_pupil_refs + 1, sizeof(char *)));
	if (!res->errors || store_begin(c->h->store) < 0)
		return ctl_fail(c, -EIO, "cannot write to the store");
	for (size_t i = 0; i < m->n_pupil_refs; i++) {
		struct leaver l;
		char buf[256];

		r = store_leaver_find(c->h->store, m->pupil_refs[i], 0, &l);
		if (r == 0 && l.state != LEAVER_IMPORTED)
			r = -EALREADY;	/* the dossier left with the date it had */
		if (r == 0)
			r = store_leaver_set_registered(c->h->store, l.id, date, c->user);
		if (r == 0) {
			char subj[32];

			/* the date was typed (checked as a date) */
			r = store_auditf(c->h->store, c->user, "registration.recorded",
					  ctl_leaver_subject(&l, subj), l.destination_institution,
					  "{s:o}", "registered_on", jdetail_text(date));
		}
		store_leaver_clear(&l);
		if (r == 0) {
			res->imported++;
			continue;
		}
		/* Only these refuse one pupil. A store failure is no refusal
		 * (test_fault_control.c): reported per pupil, the reply said 0 and
		 * the rest was committed, a registration half written (no audit
		 * entry) among them. Now nothing is recorded, as in ctl_inzage. */
		if (r != -ENOENT && r != -EALREADY)
			break;
		snprintf(buf, sizeof(buf), "%s: %s", m->pupil_refs[i],
			 r == -ENOENT ? _("no such pupil") : _("the dossier has already been sent"));
		if (!(res->errors[res->n_errors++] = ctl_strdup(&c->pool, buf))) {
			r = -ENOMEM;	/* a NULL in the reply: the daemon could not pack it */
			break;
		}
		r = 0;
	}
	if ((r = ctl_commit_all(c, r, res)) < 0)
		return r;
	log_notice("user %s recorded %u registrations", c->user, res->imported);
	return 0;
}

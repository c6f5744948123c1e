/* control_int: what the control socket's files share (control.c and the
 * handler files control_*.c): the request context, its allocation pool, the
 * helpers that fill a reply, and every handler the dispatch table names. Not
 * for use outside the control handlers. */
#ifndef OVERSTAP_CONTROL_INT_H
#define OVERSTAP_CONTROL_INT_H

#include <stddef.h>

#include "control.pb-c.h"
#include "control.h"
#include "rights.h"
#include "consent.h"
#include "leavers.h"
#include "log.h"
#include "overstap.pb-c.h"

/* Everything a reply points into, freed after it is sent. */
struct pool {
	void **v;
	size_t n, cap;
};

/* A handler fills the reply (allocating into the pool) and returns 0 or a
 * negative code with a message in rep->error. */
struct req_ctx {
	struct hctx *h;			/* store, configuration, keys, outbox flags */
	const struct ctl_env *env;	/* and the daemon's view of itself, for status */
	const struct peer_cred *cred;	/* who is on the socket, from the kernel */
	struct identity who;		/* set by ctl_dispatch from cred (rights.c) */
	const char *user;		/* who.user: the name every change is recorded with */
	const Overstapctl__Request *req;
	Overstapctl__Reply *rep;
	struct pool pool;
	Overstapctl__Report *report;	/* a report reply: a protobuf tree, freed whole */
	/* A handler with more to do than one round of the loop should take (a
	 * long `handover send`, issue 14) sets step, and job with job_free: step
	 * is run again until it clears step (or fails), the loop running in
	 * between when can_defer (the daemon, control_step), else at once. The
	 * reply is sent after the last step. job_free runs in ctl_req_done,
	 * also when the client went away before the last step. */
	int (*step)(struct req_ctx *c);
	void *job;
	void (*job_free)(struct req_ctx *c);
	int can_defer;
	/* set by a step that waits for a thread of its own (`store check`):
	 * the loop comes back to it soon, but does not spin meanwhile */
	int waiting;
};

/* Rows of a list reply, collected one by one (the array is the caller's to
 * pool once done). */
struct ctl_list {
	struct req_ctx *c;
	void **rows;
	size_t n, cap;
};
/* Append row (NULL, from a failed allocation, is -ENOMEM). 0 or -ENOMEM. */
int ctl_list_push(struct ctl_list *a, void *row);
/* Once the store has walked the rows (its result r): hand the row array to
 * the pool, then put r < 0 in the reply as "what: reason" (what NULL: return
 * r without a message). 0, -ENOMEM (no message), or r. */
int ctl_list_finish(struct ctl_list *a, int r, const char *what);

/* A pupil's consents, collected by store_consents_each() with
 * ctl_consents_push as the callback; the caller frees v. */
struct ctl_consents {
	struct consent *v;
	size_t n, cap;
};
int ctl_consents_push(const struct consent *k, int64_t leaver_id, void *arg);

/* Move the lines of errors into res->errors (pooled), dropping the prefix
 * drop where a line starts with it (NULL = none), and empty errors. 0 or
 * -ENOMEM (then the reply may carry only some of them). */
int ctl_errors_take(struct req_ctx *c, Overstapctl__ImportResult *res, struct strlist *errors,
		    const char *drop);

/* Hand ptr to the pool (freed after the reply is sent) and return it; NULL
 * when ptr is NULL or the pool cannot grow (ptr is then freed). */
void *ctl_keep(struct pool *p, void *ptr);
/* A pooled copy of s (NULL counts as ""). */
char *ctl_strdup(struct pool *p, const char *s);
/* The end of a request that records several pupils in one transaction (all
 * or nothing): commit when r is 0; otherwise, or when the commit fails, roll
 * back, report nothing imported and fail with "nothing recorded: reason".
 * 0 or the negative code. */
int ctl_commit_all(struct req_ctx *c, int r, Overstapctl__ImportResult *res);
/* Put a formatted reason in the reply and return code. */
int ctl_fail(struct req_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The audit subject of a leaver: its record id once the dossier is sent, else
 * "leaver:N" (its local row). Never a name, PGN or the school's pupil number. */
const char *ctl_leaver_subject(const struct leaver *l, char buf[32]);
/* A pooled ImportResult set as the reply's `marked` body; NULL = out of memory. */
Overstapctl__ImportResult *ctl_marked_new(struct req_ctx *c);

/* control_import.c: `import leavers` and `handover registered`. */
int ctl_import_leavers(struct req_ctx *c);
int ctl_import_consents(struct req_ctx *c);
int ctl_mark_registered(struct req_ctx *c);

/* control_handover.c: `handover inzage` and `handover send`, and the dossier
 * of a leaver (l must hold priv; the pointers are borrowed from l). */
int ctl_inzage(struct req_ctx *c);
int ctl_send(struct req_ctx *c);
void ctl_dossier(const struct leaver *l, const char *record_id, Overstap__Handover *h,
		 Overstap__Inzage *z);

/* control_show.c: `handover list|show`, `inbox list|show`. The detail
 * builders answer `handover show` (l loaded with its personal data) and
 * `inbox show`, and serve the subject report. Each view is audited. */
int ctl_handover_list(struct req_ctx *c);
int ctl_handover_show(struct req_ctx *c);
int ctl_inbox_list(struct req_ctx *c);
int ctl_inbox_show(struct req_ctx *c);
int ctl_inbox_find(struct req_ctx *c);
int ctl_import_enrolments(struct req_ctx *c);
/* A received dossier's row as the CLI lists it, its strings in pool. */
Overstapctl__InboxRow *ctl_inbox_row(struct pool *pool, const struct inbox_row *r);
int ctl_handover_detail(struct req_ctx *c, struct leaver *l, Overstapctl__HandoverDetail **out);
int ctl_inbox_detail(struct req_ctx *c, const char *record_id, Overstapctl__InboxDetail **out);

/* control_audit.c: `audit verify`, `audit export`, and an audit entry as one
 * JSON line (no newline), pooled; NULL = out of memory. */
struct audit_entry;
int ctl_audit_verify(struct req_ctx *c);
int ctl_audit_ack_incident(struct req_ctx *c);
int ctl_audit_export(struct req_ctx *c);
char *ctl_audit_json(struct pool *pool, const struct audit_entry *e);

/* Handlers in control_consent.c, and one consent as a reply row. */
Overstapctl__ConsentRow *ctl_consent_row(struct req_ctx *c, const struct consent *k,
					 const char *pupil_ref, const char *today, const char *due);
int ctl_consent_grant(struct req_ctx *c);
int ctl_consent_withdraw(struct req_ctx *c);
int ctl_consent_list(struct req_ctx *c);

/* Handlers in control_feedback.c, and the timeline of one record for the
 * show handlers (rows pooled; none for an empty record id). */
int ctl_feedback(struct req_ctx *c);
int ctl_registration(struct req_ctx *c);
int ctl_timeline(struct req_ctx *c, const char *record_id, Overstapctl__EventRow ***rows, size_t *n);
int ctl_import_registrations(struct req_ctx *c);

/* control_status.c: `overstap status` and `overstap peers`. */
int ctl_status(struct req_ctx *c);

/* control_store.c: `overstap store check` (PRAGMA integrity_check) and
 * `overstap store backup FILE` (sqlite's online backup), both audited. */
int ctl_store_check(struct req_ctx *c);
/* control_outbox.c: `outbox list|retry|cancel`, parked messages. */
int ctl_outbox_list(struct req_ctx *c);
int ctl_registration_list(struct req_ctx *c);
/* A registration sent as a reply row, pooled; NULL when out of memory. */
Overstapctl__RegistrationSent *ctl_regsent_row(struct req_ctx *c, const struct regsent *g);
int ctl_outbox_action(struct req_ctx *c);
int ctl_store_backup(struct req_ctx *c);

/* Run one request: check its version, who sent it (c->cred, rights.c) and
 * whether they hold the right its command needs (a refusal is audited), find
 * its handler, fill rep (allocations go to c->pool and c->report). The caller
 * sets c->h, c->env, c->cred, c->req and c->rep (initialised), sends the
 * reply, then ctl_req_done(c). */
void ctl_dispatch(struct req_ctx *c);
/* The next step of a request that ctl_dispatch left with c->step set (only
 * when c->can_defer). 1: more steps to come; 2: more to come, the step
 * waits for a thread (c->waiting); 0: the reply is complete. */
int ctl_step(struct req_ctx *c);
/* Free what a reply pointed into, and a job left unfinished. */
void ctl_req_done(struct req_ctx *c);

/* Handlers in control_report.c: `overstap report` and `overstap lost`. */
int ctl_report(struct req_ctx *c);
int ctl_lost(struct req_ctx *c);

/* Handlers in control_erase.c: `overstap erase` and `overstap subject`. */
int ctl_erase(struct req_ctx *c);
int ctl_subject(struct req_ctx *c);

#endif

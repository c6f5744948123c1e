/* control: the local control socket the overstap CLI and overstap-web talk to
 * (design.md §4.9). Reachable through the filesystem permissions of its socket
 * (owner and the configured group); who is calling comes from the kernel
 * (ctlsock.c), and what they may do from [control] (rights.c). Here: a
 * request's way from bytes to reply, the reply's pool and helpers, and the
 * dispatch table with each command's rights; the handlers are in control_*.c. */
#include "control.h"
#include "control_int.h"
#include "jdetail.h"
#include "i18n.h"
#include "report.h"

#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void *ctl_keep(struct pool *p, void *ptr)
{
	if (!ptr)
		return NULL;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		void **nv = realloc(p->v, cap * sizeof(*nv));
		if (!nv) {
			free(ptr);
			return NULL;
		}
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n++] = ptr;
	return ptr;
}

char *ctl_strdup(struct pool *p, const char *s)
{
	return ctl_keep(p, strdup(s ? s : ""));
}

static void s_pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

int ctl_commit_all(struct req_ctx *c, int r, Overstapctl__ImportResult *res)
{
	if (r == 0 && (r = store_commit(c->h->store)) == 0)
		return 0;
	store_rollback(c->h->store);
	res->imported = 0;
	res->n_errors = 0;
	return ctl_fail(c, r, "nothing recorded: %s", strerror(-r));
}

int ctl_fail(struct req_ctx *c, int code, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), gettext(fmt), ap);	/* design.md §10 */
	va_end(ap);
	c->rep->error = ctl_strdup(&c->pool, buf);
	/* Out of memory, the reason cannot be kept: say so rather than leave a
	 * NULL that ctl_dispatch would read (test_fault_control.c). */
	if (!c->rep->error)
		c->rep->error = (char *)"out of memory (the reason could not be kept)";
	return code;
}

int control_open(struct ctlsock *cs, const struct config *cfg)
{
	return ctlsock_open(cs, cfg->control_socket, cfg->control_group);
}

/* ---- reply helpers ---- */

const char *ctl_leaver_subject(const struct leaver *l, char buf[32])
{
	if (l->record_id[0])
		return l->record_id;
	snprintf(buf, 32, "leaver:%lld", (long long)l->id);
	return buf;
}

Overstapctl__ImportResult *ctl_marked_new(struct req_ctx *c)
{
	Overstapctl__ImportResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));

	if (res) {
		overstapctl__import_result__init(res);
		c->rep->body_case = OVERSTAPCTL__REPLY__BODY_MARKED;
		c->rep->marked = res;
	}
	return res;
}

int ctl_list_push(struct ctl_list *a, void *row)
{
	if (!row)
		return -ENOMEM;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void **nv = realloc(a->rows, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		a->rows = nv;
		a->cap = cap;
	}
	a->rows[a->n++] = row;
	return 0;
}

int ctl_list_finish(struct ctl_list *a, int r, const char *what)
{
	if (a->rows && !ctl_keep(&a->c->pool, a->rows)) {
		a->rows = NULL;	/* ctl_keep freed it; the rows are pooled */
		a->n = a->cap = 0;
		return -ENOMEM;
	}
	if (r < 0)
		return what ? ctl_fail(a->c, r, "%s: %s", what, strerror(-r)) : r;
	return 0;
}

int ctl_consents_push(const struct consent *k, int64_t leaver_id, void *arg)
{
	struct ctl_consents *a = arg;

	(void)leaver_id;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct consent *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *k;
	return 0;
}

int ctl_errors_take(struct req_ctx *c, Overstapctl__ImportResult *res, struct strlist *errors,
		    const char *drop)
{
	size_t skip = drop ? strlen(drop) : 0;
	int r = 0;

	res->errors = ctl_keep(&c->pool, calloc(errors->n + 1, sizeof(char *)));
	for (size_t i = 0; i < errors->n && res->errors; i++) {
		const char *e = errors->v[i];

		if (skip && strncmp(e, drop, skip) == 0)
			e += skip;
		if (!(res->errors[res->n_errors++] = ctl_strdup(&c->pool, e)))
			r = -ENOMEM;
	}
	if (!res->errors && errors->n)
		r = -ENOMEM;	/* a reply without its errors would read as a success */
	strlist_clear(errors);
	return r;
}

/* ---- dispatch ---- */

/* Each command, the rights of which any one lets a caller run it (design.md
 * §4.9), and its name as the CLI spells it, for refusals. */
#define R(x) RIGHT_BIT(RIGHT_##x)
static const struct {
	Overstapctl__Request__BodyCase body;
	int (*fn)(struct req_ctx *c);
	unsigned rights;
	const char *name;
} s_handlers[] = {
	{ OVERSTAPCTL__REQUEST__BODY_STATUS, ctl_status, R(READ), "status" },
	{ OVERSTAPCTL__REQUEST__BODY_PEERS, ctl_status, R(READ), "peers" },
	{ OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS, ctl_import_leavers, R(ADMIN), "import leavers" },
	{ OVERSTAPCTL__REQUEST__BODY_IMPORT_CONSENTS, ctl_import_consents, R(ADMIN),
	  "import consents" },
	{ OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, ctl_mark_registered, R(MENTOR),
	  "handover registered" },
	{ OVERSTAPCTL__REQUEST__BODY_INZAGE, ctl_inzage, R(MENTOR), "handover inzage" },
	{ OVERSTAPCTL__REQUEST__BODY_SEND, ctl_send, R(MENTOR), "handover send" },
	{ OVERSTAPCTL__REQUEST__BODY_HANDOVER_LIST, ctl_handover_list, R(MENTOR) | R(ADMIN),
	  "handover list" },
	{ OVERSTAPCTL__REQUEST__BODY_HANDOVER_SHOW, ctl_handover_show, R(MENTOR), "handover show" },
	{ OVERSTAPCTL__REQUEST__BODY_INBOX_LIST, ctl_inbox_list, R(INTAKE), "inbox list" },
	{ OVERSTAPCTL__REQUEST__BODY_INBOX_SHOW, ctl_inbox_show, R(INTAKE), "inbox show" },
	{ OVERSTAPCTL__REQUEST__BODY_INBOX_FIND, ctl_inbox_find, R(INTAKE), "inbox find" },
	{ OVERSTAPCTL__REQUEST__BODY_IMPORT_ENROLMENTS, ctl_import_enrolments, R(INTAKE),
	  "import enrolments" },
	{ OVERSTAPCTL__REQUEST__BODY_AUDIT_VERIFY, ctl_audit_verify, R(PRIVACY) | R(ADMIN),
	  "audit verify" },
	{ OVERSTAPCTL__REQUEST__BODY_AUDIT_EXPORT, ctl_audit_export, R(PRIVACY), "audit export" },
	{ OVERSTAPCTL__REQUEST__BODY_CONSENT_GRANT, ctl_consent_grant, R(MENTOR) | R(ADMIN),
	  "consent grant" },
	{ OVERSTAPCTL__REQUEST__BODY_CONSENT_WITHDRAW, ctl_consent_withdraw, R(MENTOR) | R(ADMIN),
	  "consent withdraw" },
	{ OVERSTAPCTL__REQUEST__BODY_CONSENT_LIST, ctl_consent_list,
	  R(MENTOR) | R(ADMIN) | R(PRIVACY), "consent list" },
	{ OVERSTAPCTL__REQUEST__BODY_FEEDBACK, ctl_feedback, R(INTAKE),
	  "registration status / outcome record" },
	{ OVERSTAPCTL__REQUEST__BODY_REGISTRATION, ctl_registration, R(INTAKE), "registration" },
	{ OVERSTAPCTL__REQUEST__BODY_IMPORT_REGISTRATIONS, ctl_import_registrations, R(INTAKE),
	  "import registrations / outcomes" },
	{ OVERSTAPCTL__REQUEST__BODY_ERASE, ctl_erase, R(PRIVACY), "erase" },
	{ OVERSTAPCTL__REQUEST__BODY_SUBJECT, ctl_subject, R(PRIVACY), "subject" },
	{ OVERSTAPCTL__REQUEST__BODY_REPORT, ctl_report, R(QUALITY), "report" },
	{ OVERSTAPCTL__REQUEST__BODY_LOST, ctl_lost, R(MENTOR) | R(QUALITY), "lost" },
	{ OVERSTAPCTL__REQUEST__BODY_STORE_CHECK, ctl_store_check, R(ADMIN), "store check" },
	{ OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP, ctl_store_backup, R(ADMIN), "store backup" },
	{ OVERSTAPCTL__REQUEST__BODY_OUTBOX_LIST, ctl_outbox_list, R(ADMIN), "outbox list" },
	{ OVERSTAPCTL__REQUEST__BODY_REGISTRATION_LIST, ctl_registration_list, R(INTAKE),
	  "registration list" },
	{ OVERSTAPCTL__REQUEST__BODY_OUTBOX_ACTION, ctl_outbox_action, R(ADMIN),
	  "outbox retry / cancel" },
	{ OVERSTAPCTL__REQUEST__BODY_ACK_INCIDENT, ctl_audit_ack_incident, R(PRIVACY) | R(ADMIN),
	  "audit ack-incident" },
};
#undef R

/* A request that failed on a damaged store says so, whatever the handler
 * made of the code (a write refused by store_begin, or by query_only as a
 * read-only error, or a read of a damaged page). */
static int s_damaged(struct req_ctx *c, int r)
{
	const char *why;

	if (r >= 0 || !c->h || !c->h->store || !store_broken(c->h->store, &why) ||
	    c->req->body_case == OVERSTAPCTL__REQUEST__BODY_STORE_CHECK ||
	    c->req->body_case == OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP)
		return r;
	return ctl_fail(c, -EUCLEAN, "the store is damaged (%s): nothing was recorded. Writes are "
			"refused until it is restored from a backup (overstapd(8), RESTORING FROM A "
			"BACKUP); `overstap store check` lists the damage", why);
}

/* `whoami`: who the daemon takes the caller to be, and their rights. Needs
 * no right: anyone who reaches the socket may ask (overstap-web shows only
 * the screens a user may use). */
static int s_whoami(struct req_ctx *c)
{
	Overstapctl__Whoami *w = ctl_keep(&c->pool, calloc(1, sizeof(*w)));
	size_t n = 0;

	if (!w)
		return -ENOMEM;
	overstapctl__whoami__init(w);
	w->user = c->who.user;
	w->via = c->who.via;
	w->rights = ctl_keep(&c->pool, calloc(RIGHT__N, sizeof(char *)));
	if (!w->rights)
		return -ENOMEM;
	for (int r = 0; r < RIGHT__N; r++)
		if (c->who.rights & RIGHT_BIT(r))
			w->rights[n++] = (char *)right_name((enum right)r);
	w->n_rights = n;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_WHOAMI;
	c->rep->whoami = w;
	return 0;
}

/* A command the caller may not run: say which groups would let them, and
 * record the attempt (a refused `erase` or `subject` is what a privacy
 * officer wants to see). The audit entry is best effort: the refusal
 * stands whether or not it could be written. */
/* "mentor or admin": the rights in need, joined by or (translated: sep). */
static void s_rights_text(unsigned need, const char *sep, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < RIGHT__N && o < len; i++)
		if (need & RIGHT_BIT(i))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? sep : "",
					      right_name((enum right)i));
}

/* The count of slot i, audited under its user; the slot is freed when that
 * is written (or there was nothing to write). */
static int s_refused_close(struct hctx *h, struct ctl_refused *t, size_t i, int64_t now)
{
	int r = 0;

	if (t->v[i].counted && h->store)
		r = store_auditf(h->store, t->v[i].user, "control.refused_counted", "", "",
				 "{s:I, s:I, s:I, s:o}", "count", (json_int_t)t->v[i].counted,
				 "since", (json_int_t)t->v[i].since,
				 "until", (json_int_t)(now == INT64_MAX ? time_now_ms() : now),
				 "via", jdetail_text(t->v[i].via));
	if (r == 0)
		memset(&t->v[i], 0, sizeof(t->v[i]));
	return r;
}

int control_refused_flush(struct hctx *h, struct ctl_refused *t, int64_t now)
{
	int r = 0;

	for (size_t i = 0; i < CTL_REFUSED_USERS; i++)
		if (t->v[i].user[0] && (now == INT64_MAX || now - t->v[i].since >= CTL_REFUSED_WINDOW_MS)) {
			int k = s_refused_close(h, t, i, now);

			if (k < 0 && r == 0)
				r = k;
		}
	return r;
}

/* Whether this refusal is audited one by one (1) or only counted (0). */
static int s_refused_budget(struct req_ctx *c)
{
	struct ctl_refused *t = c->env ? c->env->refused : NULL;
	int64_t now = time_now_ms();
	size_t i, slot = CTL_REFUSED_USERS, oldest = 0;

	if (!t)
		return 1;
	for (i = 0; i < CTL_REFUSED_USERS; i++) {
		if (!t->v[i].user[0]) {
			if (slot == CTL_REFUSED_USERS)
				slot = i;
			continue;
		}
		if (t->v[i].since < t->v[oldest].since || !t->v[oldest].user[0])
			oldest = i;
		if (!strcmp(t->v[i].user, c->user) && !strcmp(t->v[i].via, c->who.via))
			break;
	}
	if (i < CTL_REFUSED_USERS && now - t->v[i].since >= CTL_REFUSED_WINDOW_MS) {
		(void)s_refused_close(c->h, t, i, now);	/* a failure counts on in the old window */
		if (!t->v[i].user[0])
			slot = i, i = CTL_REFUSED_USERS;
	}
	if (i == CTL_REFUSED_USERS) {
		/* a new user this minute: a free slot, else the oldest window ends early */
		if (slot == CTL_REFUSED_USERS) {
			if (s_refused_close(c->h, t, oldest, now) < 0)
				return 1;
			slot = oldest;
		}
		i = slot;
		str_copy(t->v[i].user, sizeof(t->v[i].user), c->user);
		str_copy(t->v[i].via, sizeof(t->v[i].via), c->who.via);
		t->v[i].since = now;
	}
	if (t->v[i].audited < CTL_REFUSED_AUDITED) {
		t->v[i].audited++;
		return 1;
	}
	if (t->v[i].counted++ == 0)
		log_notice("control: %s has been refused %d times this minute: further refusals are "
			   "counted, and audited as one control.refused_counted entry",
			   c->user, CTL_REFUSED_AUDITED);
	return 0;
}

static int s_refuse(struct req_ctx *c, const char *cmd, unsigned need)
{
	char groups[512] = "", needs[64], shown[64];
	size_t g = 0;
	int r;

	for (int i = 0; i < RIGHT__N; i++) {
		const char *list = (need & RIGHT_BIT(i)) ? rights_groups(c->h->cfg, (enum right)i) : "";

		if (list[0] && g < sizeof(groups))
			g += (size_t)snprintf(groups + g, sizeof(groups) - g, "%s%s", g ? " " : "",
					      list);
	}
	/* the audit and the log keep one language; the caller reads theirs */
	s_rights_text(need, " or ", needs, sizeof(needs));
	s_rights_text(need, _(" or "), shown, sizeof(shown));
	if (s_refused_budget(c)) {
		if (c->h->store &&
		    store_auditf(c->h->store, c->user, "control.refused", "", "", "{s:s, s:s, s:o}",
				 "command", cmd, "needs", needs, "via", jdetail_text(c->who.via)) < 0)
			log_warn("control: the refusal of `%s` to %s could not be audited", cmd, c->user);
		log_notice("control: %s%s%s may not run `%s` (needs %s)", c->user,
			   c->who.via[0] ? " via " : "", c->who.via, cmd, needs);
	}
	if (g)
		r = ctl_fail(c, -EACCES, "`%s` needs the right %s: ask to be added to group %s, "
			     "then log in again", cmd, shown, groups);
	else
		r = ctl_fail(c, -EACCES, "`%s` needs the right %s, which no group holds yet: the "
			     "administrator sets [control] %s = GROUP in overstapd.conf "
			     "(overstapd.conf(5))", cmd, shown, right_name((enum right)__builtin_ctz(need)));
	return r;
}

/* After a handler's last step: a damaged store says so, and a failure
 * carries its reason. */
static void s_finish(struct req_ctx *c, int r)
{
	if (c->h && c->h->store)
		r = s_damaged(c, store_note(c->h->store, r));
	if (r < 0 && !c->rep->error[0])
		ctl_fail(c, r, "%s", strerror(-r));
	c->rep->code = r < 0 ? r : 0;
}

void ctl_dispatch(struct req_ctx *c)
{
	const Overstapctl__Request *req = c->req;
	struct i18n_saved lang;
	char why[256];
	int r = -ENOTSUP;

	i18n_request_begin(&lang, req->lang);	/* replies in the caller's language (§10) */
	c->user = c->who.user;
	if (req->version != OVERSTAPCTL__VERSION__CURRENT) {
		r = ctl_fail(c, -EPROTO, "control protocol version %u not supported (daemon speaks %d)",
			   req->version, OVERSTAPCTL__VERSION__CURRENT);
	} else if (!c->cred) {
		r = ctl_fail(c, -EACCES, "the caller's identity is not known");
	} else if (rights_identify(c->h->cfg, c->cred, req->user, &c->who, why, sizeof(why)) < 0) {
		log_notice("control: refused: %s", why);
		r = ctl_fail(c, -EACCES, "%s", why);
	} else if (req->body_case == OVERSTAPCTL__REQUEST__BODY_WHOAMI) {
		r = s_whoami(c);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(s_handlers); i++) {
			if (s_handlers[i].body != req->body_case)
				continue;
			if (!(c->who.rights & s_handlers[i].rights)) {
				r = s_refuse(c, s_handlers[i].name, s_handlers[i].rights);
				break;
			}
			r = s_handlers[i].fn(c);
			/* the steps still to come: here at once, or in the rounds
			 * of the loop to come (control_step) */
			while (r == 0 && c->step && !c->can_defer)
				r = c->step(c);
			if (r < 0)
				c->step = NULL;
			if (c->step) {
				i18n_request_end(&lang);
				return;
			}
			if (c->h && c->h->store)
				r = s_damaged(c, store_note(c->h->store, r));
			break;
		}
		if (r == -ENOTSUP && !c->rep->error[0])
			ctl_fail(c, r, "request not supported by this daemon");
	}
	if (r < 0 && !c->rep->error[0])
		ctl_fail(c, r, "%s", strerror(-r));
	c->rep->code = r < 0 ? r : 0;
	i18n_request_end(&lang);
}

int ctl_step(struct req_ctx *c)
{
	struct i18n_saved lang;
	int r;

	if (!c->step)
		return 0;
	i18n_request_begin(&lang, c->req->lang);
	r = c->step(c);
	if (r < 0)
		c->step = NULL;
	if (!c->step)
		s_finish(c, r);
	i18n_request_end(&lang);
	return !c->step ? 0 : c->waiting ? 2 : 1;
}

void ctl_req_done(struct req_ctx *c)
{
	if (c->job && c->job_free)
		c->job_free(c);
	c->job = NULL;
	c->step = NULL;
	s_pool_free(&c->pool);
	memset(&c->pool, 0, sizeof(c->pool));
	report_free(&c->report);
}

/* A request between its frame and its reply: everything its steps use. */
struct ctl_job {
	struct req_ctx c;
	Overstapctl__Reply rep;
	struct peer_cred cred;
	size_t in_len;
};

static void s_job_free(struct ctl_job *j)
{
	if (j->c.req)
		overstapctl__request__free_unpacked((Overstapctl__Request *)j->c.req, NULL);
	ctl_req_done(&j->c);
	/* A whole leavers file came in: give the memory back rather than keep
	 * it resident for the daemon's life. */
	if (j->in_len > (1 << 20))
		malloc_trim(0);
	free(j);
}

/* Pack the reply (*out NULL when out of memory) and free the job. */
static void s_job_reply(struct ctl_job *j, uint8_t **out, size_t *out_len)
{
	*out_len = overstapctl__reply__get_packed_size(&j->rep);
	*out = malloc(*out_len ? *out_len : 1);
	if (*out)
		overstapctl__reply__pack(&j->rep, *out);
	s_job_free(j);
}

void *control_answer(void *arg, const struct peer_cred *cred, const uint8_t *in, size_t len,
		     uint8_t **out, size_t *out_len)
{
	const struct ctl_env *env = arg;
	struct ctl_job *j = calloc(1, sizeof(*j));
	Overstapctl__Request *req;

	*out = NULL;
	*out_len = 0;
	if (!j)
		return NULL;	/* the frame is dropped */
	if (cred)
		j->cred = *cred;
	j->in_len = len;
	overstapctl__reply__init(&j->rep);
	j->rep.version = OVERSTAPCTL__VERSION__CURRENT;
	j->c = (struct req_ctx){ .h = env->h, .env = env, .cred = cred ? &j->cred : NULL,
				 .rep = &j->rep, .can_defer = env->defer };
	req = overstapctl__request__unpack(NULL, len, in);
	j->c.req = req;
	j->c.user = j->c.who.user;
	if (req)
		ctl_dispatch(&j->c);
	else
		j->rep.code = ctl_fail(&j->c, -EBADMSG, "malformed request");
	if (j->c.step)
		return j;
	s_job_reply(j, out, out_len);
	return NULL;
}

int control_step(void *arg, void *job, uint8_t **out, size_t *out_len)
{
	const struct ctl_env *env = arg;
	struct ctl_job *j = job;
	int more;

	j->c.env = env;	/* the loop's, for this round */
	j->c.h = env->h;
	if ((more = ctl_step(&j->c)))
		return more;
	s_job_reply(j, out, out_len);
	return 0;
}

void control_drop(void *job)
{
	s_job_free(job);
}

/* control: the local control socket the overstap CLI talks to (design.md §4). A
 * ROUTER on ipc://, reachable only through the filesystem permissions of its
 * socket (owner and the configured group). Here: the socket loop, the reply's
 * pool and helpers, and the dispatch table; the handlers are in control_*.c. */
#include "control.h"
#include "control_int.h"
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
#include <zmq.h>

#define CONTROL_MAX_MSG (512LL << 20)	/* a whole leavers file fits */

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

int control_open(void *zctx, const struct config *cfg, void **sock)
{
	const char *path = cfg->control_socket;
	char ep[PATH_MAX + 8];
	int64_t max = CONTROL_MAX_MSG;
	mode_t old;
	int r;

	*sock = zmq_socket(zctx, ZMQ_ROUTER);
	if (!*sock)
		return -errno;
	zmq_setsockopt(*sock, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	snprintf(ep, sizeof(ep), "ipc://%s", path);
	unlink(path);	/* a socket left by a killed daemon */
	old = umask(0117);	/* socket file: owner and group may connect */
	r = zmq_bind(*sock, ep);
	umask(old);
	if (r < 0) {
		r = -errno;
		log_err("cannot bind the control socket %s: %s", path, zmq_strerror(-r));
		return r;
	}
	if (cfg->control_group[0]) {
		struct group *g = getgrnam(cfg->control_group);

		if (!g || chown(path, (uid_t)-1, g->gr_gid) < 0) {
			log_err("control socket %s: cannot give it to group %s", path,
				cfg->control_group);
			return -EPERM;
		}
	}
	return 0;
}

void control_close(void **sock, const char *path)
{
	if (*sock) {
		zmq_close(*sock);
		unlink(path);
	}
	*sock = NULL;
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

static const struct {
	Overstapctl__Request__BodyCase body;
	int (*fn)(struct req_ctx *c);
} s_handlers[] = {
	{ OVERSTAPCTL__REQUEST__BODY_STATUS, ctl_status },
	{ OVERSTAPCTL__REQUEST__BODY_PEERS, ctl_status },
	{ OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS, ctl_import_leavers },
	{ OVERSTAPCTL__REQUEST__BODY_IMPORT_CONSENTS, ctl_import_consents },
	{ OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, ctl_mark_registered },
	{ OVERSTAPCTL__REQUEST__BODY_INZAGE, ctl_inzage },
	{ OVERSTAPCTL__REQUEST__BODY_SEND, ctl_send },
	{ OVERSTAPCTL__REQUEST__BODY_HANDOVER_LIST, ctl_handover_list },
	{ OVERSTAPCTL__REQUEST__BODY_HANDOVER_SHOW, ctl_handover_show },
	{ OVERSTAPCTL__REQUEST__BODY_INBOX_LIST, ctl_inbox_list },
	{ OVERSTAPCTL__REQUEST__BODY_INBOX_SHOW, ctl_inbox_show },
	{ OVERSTAPCTL__REQUEST__BODY_INBOX_FIND, ctl_inbox_find },
	{ OVERSTAPCTL__REQUEST__BODY_IMPORT_ENROLMENTS, ctl_import_enrolments },
	{ OVERSTAPCTL__REQUEST__BODY_AUDIT_VERIFY, ctl_audit_verify },
	{ OVERSTAPCTL__REQUEST__BODY_AUDIT_EXPORT, ctl_audit_export },
	{ OVERSTAPCTL__REQUEST__BODY_CONSENT_GRANT, ctl_consent_grant },
	{ OVERSTAPCTL__REQUEST__BODY_CONSENT_WITHDRAW, ctl_consent_withdraw },
	{ OVERSTAPCTL__REQUEST__BODY_CONSENT_LIST, ctl_consent_list },
	{ OVERSTAPCTL__REQUEST__BODY_FEEDBACK, ctl_feedback },
	{ OVERSTAPCTL__REQUEST__BODY_REGISTRATION, ctl_registration },
	{ OVERSTAPCTL__REQUEST__BODY_IMPORT_REGISTRATIONS, ctl_import_registrations },
	{ OVERSTAPCTL__REQUEST__BODY_ERASE, ctl_erase },
	{ OVERSTAPCTL__REQUEST__BODY_SUBJECT, ctl_subject },
	{ OVERSTAPCTL__REQUEST__BODY_REPORT, ctl_report },
	{ OVERSTAPCTL__REQUEST__BODY_LOST, ctl_lost },
	{ OVERSTAPCTL__REQUEST__BODY_STORE_CHECK, ctl_store_check },
	{ OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP, ctl_store_backup },
	{ OVERSTAPCTL__REQUEST__BODY_OUTBOX_LIST, ctl_outbox_list },
	{ OVERSTAPCTL__REQUEST__BODY_OUTBOX_ACTION, ctl_outbox_action },
	{ OVERSTAPCTL__REQUEST__BODY_ACK_INCIDENT, ctl_audit_ack_incident },
};

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

static int s_user_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x21 || u[i] == 0x7f)
			return 0;
	return 1;
}

void ctl_dispatch(struct req_ctx *c)
{
	const Overstapctl__Request *req = c->req;
	struct i18n_saved lang;
	int r = -ENOTSUP;

	i18n_request_begin(&lang, req->lang);	/* replies in the caller's language (§10) */
	if (req->version != OVERSTAPCTL__VERSION__CURRENT) {
		r = ctl_fail(c, -EPROTO, "control protocol version %u not supported (daemon speaks %d)",
			   req->version, OVERSTAPCTL__VERSION__CURRENT);
	} else if (!s_user_ok(req->user)) {
		r = ctl_fail(c, -EACCES, "request without a valid user name");
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(s_handlers); i++)
			if (s_handlers[i].body == req->body_case) {
				r = s_handlers[i].fn(c);
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

void ctl_req_done(struct req_ctx *c)
{
	s_pool_free(&c->pool);
	memset(&c->pool, 0, sizeof(c->pool));
	report_free(&c->report);
}

void control_handle(void *sock, const struct ctl_env *env)
{
	for (int k = 0; k < 16; k++) {
		zmq_msg_t f[3];
		int n = 0, more = 1;

		/* [routing id][empty delimiter from REQ][request] */
		while (more && n < 3) {
			zmq_msg_init(&f[n]);
			if (zmq_msg_recv(&f[n], sock, n ? 0 : ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&f[n]);
				break;
			}
			more = zmq_msg_more(&f[n++]);
		}
		if (n == 0)
			return;
		while (more) {
			zmq_msg_t x;
			zmq_msg_init(&x);
			zmq_msg_recv(&x, sock, 0);
			more = zmq_msg_more(&x);
			zmq_msg_close(&x);
		}
		if (n == 3) {
			Overstapctl__Reply rep;
			struct req_ctx c = { .h = env->h, .env = env, .rep = &rep };
			Overstapctl__Request *req =
				overstapctl__request__unpack(NULL, zmq_msg_size(&f[2]), zmq_msg_data(&f[2]));
			uint8_t *out;
			size_t len;

			overstapctl__reply__init(&rep);
			rep.version = OVERSTAPCTL__VERSION__CURRENT;
			c.req = req;
			if (req)
				ctl_dispatch(&c);
			else
				rep.code = ctl_fail(&c, -EBADMSG, "malformed request");
			len = overstapctl__reply__get_packed_size(&rep);
			out = malloc(len ? len : 1);
			if (out) {
				overstapctl__reply__pack(&rep, out);
				zmq_send(sock, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), ZMQ_SNDMORE);
				zmq_send(sock, "", 0, ZMQ_SNDMORE);
				zmq_send(sock, out, len, 0);
				free(out);
			}
			if (req)
				overstapctl__request__free_unpacked(req, NULL);
			ctl_req_done(&c);
			/* A whole leavers file came in: give the memory back rather than
			 * keep it resident for the daemon's life. */
			if (zmq_msg_size(&f[2]) > (1 << 20))
				malloc_trim(0);
		}
		for (int i = 0; i < n; i++)
			zmq_msg_close(&f[i]);
	}
}

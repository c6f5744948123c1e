/* control_audit: `audit verify` (chain, peers' checkpoints, open incidents),
 * `audit ack-incident` and `audit export`. */
#include "audit.h"
#include "checkpoint.h"
#include "control_int.h"
#include "jdetail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_incident_cb(const struct incident *i, void *arg)
{
	struct ctl_list *t = arg;
	Overstapctl__Incident *row = ctl_keep(&t->c->pool, calloc(1, sizeof(*row)));

	if (!row)
		return -ENOMEM;
	overstapctl__incident__init(row);
	row->id = i->id;
	row->peer = ctl_strdup(&t->c->pool, i->peer);
	row->kind = ctl_strdup(&t->c->pool, i->kind);
	row->seq = i->seq;
	row->reason = ctl_strdup(&t->c->pool, i->reason);
	row->at = i->at;
	if (!row->peer || !row->kind || !row->reason)
		return -ENOMEM;
	return ctl_list_push(t, row);
}

int ctl_audit_verify(struct req_ctx *c)
{
	struct ctl_list inc = { .c = c };
	Overstapctl__AuditVerifyResult *v = ctl_keep(&c->pool, calloc(1, sizeof(*v)));
	struct audit *a = store_audit_peek(c->h->store);
	uint8_t mac[AUDIT_MAC_LEN];
	char why[256] = "", *hex = NULL;
	int64_t bad = 0, seq = 0;
	int r;

	if (!v || !(hex = ctl_keep(&c->pool, calloc(1, 2 * AUDIT_MAC_LEN + 1))))
		return -ENOMEM;
	overstapctl__audit_verify_result__init(v);
	r = audit_verify(a, &bad, why, sizeof(why));
	if (r < 0 && r != -EBADMSG)
		return ctl_fail(c, r, "cannot read the audit log: %s", strerror(-r));
	if ((r = audit_head(a, &seq, mac)) < 0)
		return ctl_fail(c, r, "cannot read the audit log: %s", strerror(-r));
	for (size_t i = 0; i < AUDIT_MAC_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	if (bad == 0) {
		/* the chain is whole; is it also as long as our peers saw it? */
		unsigned checked = 0;
		char peer[7] = "";

		r = checkpoint_verify(c->h->store, &checked, peer, &bad, why, sizeof(why));
		if (r < 0 && r != -ENOENT && r != -EBADMSG)
			return ctl_fail(c, r, "cannot read the checkpoints: %s", strerror(-r));
		v->checkpoints = checked;
		if (r < 0) {
			char full[300];

			snprintf(full, sizeof(full), "peer %s holds a checkpoint at entry %lld: %s", peer,
				 (long long)bad, why);
			str_copy(why, sizeof(why), full);
			v->checkpoint_peer = ctl_strdup(&c->pool, peer);
		}
	}
	/* design.md §5.6: what a peer's checkpoint showed once stays shown until
	 * an administrator acknowledges it, whatever later checkpoints say */
	r = store_incidents_each(c->h->store, 1, s_incident_cb, &inc);
	if ((r = ctl_list_finish(&inc, r, "cannot read the incidents")) < 0)
		return r;
	v->incidents = (Overstapctl__Incident **)inc.rows;
	v->n_incidents = inc.n;
	if (bad == 0 && inc.n) {
		snprintf(why, sizeof(why), "%zu incident(s) not acknowledged: a peer's checkpoint "
			 "showed entries removed or rewritten (overstap audit ack-incident ID once "
			 "seen to)", inc.n);
	}
	v->intact = bad == 0 && inc.n == 0;
	v->entries = seq;
	v->first_bad_seq = bad;
	v->reason = ctl_strdup(&c->pool, why);
	v->head_mac = hex;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_AUDIT_VERIFY;
	c->rep->audit_verify = v;
	if (!v->intact)
		log_err("audit log verification failed: %s", why);
	return 0;
}

struct s_find {
	int64_t id;
	struct incident found;
	int hit;
};

static int s_find_cb(const struct incident *i, void *arg)
{
	struct s_find *f = arg;

	if (i->id != f->id)
		return 0;
	f->found = *i;
	f->hit = 1;
	return 1;
}

int ctl_audit_ack_incident(struct req_ctx *c)
{
	struct s_find fi = { .id = c->req->ack_incident->id };
	const Overstapctl__AckIncident *q = c->req->ack_incident;
	Overstapctl__ImportResult *res = ctl_marked_new(c);
	const char *why;
	int r;

	if (!res)
		return -ENOMEM;
	if ((why = text_valid(q->note, 255, 0)))
		return ctl_fail(c, -EINVAL, "note: %s", why);
	if ((r = store_begin(c->h->store)) < 0)
		return ctl_fail(c, r, "nothing recorded: %s", strerror(-r));
	if ((r = store_incidents_each(c->h->store, 1, s_find_cb, &fi)) > 0)
		r = 0;
	if (r == 0)
		r = store_incident_ack(c->h->store, q->id, c->user, q->note, time_now_ms());
	/* A peer's chain that went back: with the incident seen to, what we held
	 * of it is let go, so its heads are witnessed again from the next one
	 * (design.md §5.6); until then we keep the evidence and take none. */
	if (r == 0 && fi.hit && strcmp(fi.found.kind, INCIDENT_REGRESSED) == 0)
		r = store_checkpoint_forget(c->h->store, fi.found.peer, CHECKPOINT_THEIRS);
	if (r == 1) {
		store_rollback(c->h->store);
		return ctl_fail(c, -ENOENT, "no open incident %lld (overstap audit verify lists them)",
				(long long)q->id);
	}
	if (r == 0)
		r = store_auditf(c->h->store, c->user, "audit.incident_acked", "", "",
				 "{s:I, s:o}", "incident", (json_int_t)q->id, "note",
				 jdetail_text(q->note));
	if ((r = ctl_commit_all(c, r, res)) < 0)
		return r;
	res->imported = 1;
	return 0;
}

#define AUDIT_PAGE_MAX 5000	/* entries per reply: a reply stays a few MB */

struct audit_page {
	struct req_ctx *c;
	Overstapctl__AuditEntries *out;
	size_t max;
	int64_t last;
};

char *ctl_audit_json(struct pool *pool, const struct audit_entry *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return NULL;
	r = audit_entry_write_json(e, f);
	if (fclose(f) != 0 || r < 0) {
		free(buf);
		return NULL;
	}
	if (!ctl_keep(pool, buf))
		return NULL;
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

static int s_audit_line(const struct audit_entry *e, void *arg)
{
	struct audit_page *pg = arg;
	char *line = ctl_audit_json(&pg->c->pool, e);

	if (!line)
		return -ENOMEM;
	pg->out->lines[pg->out->n_lines++] = line;
	pg->last = e->seq;
	return pg->out->n_lines == pg->max ? 1 : 0;
}

int ctl_audit_export(struct req_ctx *c)
{
	const Overstapctl__AuditQuery *q = c->req->audit_export;
	Overstapctl__AuditEntries *out = ctl_keep(&c->pool, calloc(1, sizeof(*out)));
	struct audit_page pg = { .c = c, .out = out };
	int r;

	char **lines;

	pg.max = q->limit && q->limit < AUDIT_PAGE_MAX ? q->limit : AUDIT_PAGE_MAX;
	lines = ctl_keep(&c->pool, calloc(pg.max, sizeof(char *)));
	if (!out || !lines)
		return -ENOMEM;
	overstapctl__audit_entries__init(out);
	out->lines = lines;
	r = audit_each(store_audit_peek(c->h->store), q->from_seq > 0 ? q->from_seq : 1,
		       s_audit_line, &pg);
	if (r < 0)
		return ctl_fail(c, r, "cannot read the audit log: %s", strerror(-r));
	out->next_seq = out->n_lines == pg.max ? pg.last + 1 : 0;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_AUDIT_ENTRIES;
	c->rep->audit_entries = out;
	return 0;
}


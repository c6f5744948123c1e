/* control_audit: `audit verify` (chain and peers' checkpoints) and `audit export`. */
#include "audit.h"
#include "checkpoint.h"
#include "control_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_audit_verify(struct req_ctx *c)
{
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
	v->intact = bad == 0;
	v->entries = seq;
	v->first_bad_seq = bad;
	v->reason = ctl_strdup(&c->pool, why);
	v->head_mac = hex;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_AUDIT_VERIFY;
	c->rep->audit_verify = v;
	if (bad)
		log_err("audit log verification failed: %s", why);
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


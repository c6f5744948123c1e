/* control_status: `overstap status` and `overstap peers`: the daemon's view
 * of itself (peers, queues, what it refused), read from the transport. */
#include "control_int.h"
#include "keys.h"

#include <stdio.h>
#include <stdlib.h>

/* A key's short fingerprint, pooled; "" when it cannot be made (a key not
 * loaded, out of memory): status still answers. */
static char *s_fp_curve(struct req_ctx *c, const char *z85)
{
	char fp[KEYS_FP_LEN];
	char *r = z85[0] && keys_fingerprint_curve(z85, fp) == 0 ? ctl_strdup(&c->pool, fp) : NULL;

	return r ? r : (char *)"";
}

static char *s_fp_sign(struct req_ctx *c, const uint8_t pub[CRYPTO_SIGN_KEY_LEN])
{
	char fp[KEYS_FP_LEN];
	char *r = keys_fingerprint_sign(pub, fp) == 0 ? ctl_strdup(&c->pool, fp) : NULL;

	return r ? r : (char *)"";
}

int ctl_status(struct req_ctx *c)
{
	const struct net *net = c->env->net;
	struct hctx *h = c->h;
	Overstapctl__DaemonStatus *st = ctl_keep(&c->pool, calloc(1, sizeof(*st)));
	const char *why;
	size_t nr = 0;
	int r;

	if (!st)
		return -ENOMEM;
	overstapctl__daemon_status__init(st);
	st->institution = (char *)h->cfg->institution_id;
	if (h->keys) {
		st->curve_fingerprint = s_fp_curve(c, h->keys->curve_public);
		st->sign_fingerprint = s_fp_sign(c, h->keys->sign_public);
	}
	st->listen = (char *)net->bound;
	st->started_at = c->env->started_at;
	st->version = OVERSTAP_VERSION;
	st->rejected_total = net->rejected_total;
	st->connections = net->adm.admitted;
	st->connections_refused = net->adm.refused;
	if (c->env->reload) {
		st->reloaded_at = c->env->reload->ok_at;
		st->reload_failed_at = c->env->reload->failed_at;
		st->reload_errors = c->env->reload->errors.v;	/* borrowed for the reply */
		st->n_reload_errors = c->env->reload->errors.n;
	}
	if (h->cfg->import_spool[0] && c->env->spool) {
		const struct spool *sp = c->env->spool;
		Overstapctl__SpoolStatus *ss = ctl_keep(&c->pool, calloc(1, sizeof(*ss)));

		if (!ss)
			return -ENOMEM;
		overstapctl__spool_status__init(ss);
		ss->dir = (char *)h->cfg->import_spool;
		ss->problem = (char *)sp->problem;
		ss->last_at = sp->last_at;
		ss->last_file = (char *)sp->last_file;
		ss->last_outcome = (char *)sp->last_outcome;
		ss->last_summary = (char *)sp->last_summary;
		ss->done = sp->done;
		ss->failed = sp->failed;
		st->spool = ss;
	}
	st->peers = ctl_keep(&c->pool, calloc(net->n_peers + 1, sizeof(Overstapctl__PeerStatus *)));
	for (size_t i = 0; i < net->n_peers && st->peers; i++) {
		const struct peer *p = &net->peers[i];
		Overstapctl__PeerStatus *ps = ctl_keep(&c->pool, calloc(1, sizeof(*ps)));
		int64_t oldest = 0;

		if (!ps)
			return -ENOMEM;
		overstapctl__peer_status__init(ps);
		ps->id = (char *)p->cfg.id;
		ps->name = (char *)p->cfg.name;
		ps->endpoint = (char *)p->cfg.endpoint;
		ps->curve_fingerprint = s_fp_curve(c, p->cfg.curve_public);
		ps->sign_fingerprint = s_fp_sign(c, p->cfg.sign_public);
		ps->connected = p->connected;
		ps->last_handshake = p->last_handshake;
		ps->auth_failures = p->auth_failures;
		ps->outbox_depth = p->depth;
		store_outbox_oldest(h->store, p->cfg.id, &oldest);
		ps->oldest_unacked_ms = oldest ? time_now_ms() - oldest : 0;
		ps->sent = p->sent;
		ps->acked = p->acked;
		ps->received = p->received;
		ps->rejected = p->rejected;
		if (p->reconnect_at)
			ps->next_reconnect_ms = p->reconnect_at > time_mono_ms() ?
						p->reconnect_at - time_mono_ms() : 0;
		{
			struct checkpoint_rec w;

			if (store_checkpoint_get(h->store, p->cfg.id, CHECKPOINT_OURS, &w) == 0) {
				ps->witness_seq = w.seq;
				ps->witness_at = w.at;
			}
		}
		ps->parked = p->parked;
		ps->peer_max_message_size = (uint64_t)p->said.max_message_size;
		/* a window that has ended counts as empty: it restarts at the next message */
		ps->quota_messages = p->quota_since && time_now_ms() - p->quota_since < 3600LL * 1000 ?
				     p->quota_count : 0;
		ps->quota_messages_max = h->cfg->quota_messages_per_hour;
		ps->quota_stored_bytes = p->stored_bytes;
		ps->quota_stored_bytes_max = (uint64_t)h->cfg->quota_stored_bytes;
		ps->quota_refused = p->quota_refused;
		if (p->cfg.curve_next[0]) {
			ps->rollover_until = p->cfg.rollover_until;
			ps->old_keys_admitted = config_peer_old_keys_ok(&p->cfg, time_now_ms());
			ps->seen_next_key = p->seen_next;
		}
		st->peers[st->n_peers++] = ps;
	}
	st->rejected_reasons = ctl_keep(&c->pool, calloc(ARRAY_SIZE(net->rejects), sizeof(char *)));
	for (size_t i = 0; i < ARRAY_SIZE(net->rejects) && net->rejects[i].why && st->rejected_reasons; i++) {
		char buf[256];

		snprintf(buf, sizeof(buf), "%s: %llu", net->rejects[i].why,
			 (unsigned long long)net->rejects[i].n);
		st->rejected_reasons[nr++] = ctl_strdup(&c->pool, buf);
	}
	st->n_rejected_reasons = nr;
	store_inbox_count(h->store, &st->inbox_total);
	store_outbox_refused_count(h->store, &st->outbox_refused);
	/* collected by the loop (s_store_watch); here only what it is now */
	r = store_check_poll(h->store, NULL, NULL);
	st->store_check = (char *)(r == 1 ? "running" : r == 0 ? "ok" : "");
	if (store_broken(h->store, &why)) {
		st->store_damaged = 1;
		st->store_error = (char *)why;	/* borrowed from the store, which outlives the reply */
	}
	if (c->req->body_case == OVERSTAPCTL__REQUEST__BODY_PEERS) {
		c->rep->body_case = OVERSTAPCTL__REPLY__BODY_PEERS;
		c->rep->peers = st;
	} else {
		c->rep->body_case = OVERSTAPCTL__REPLY__BODY_STATUS;
		c->rep->status = st;
	}
	return 0;
}

/* checkpoint: see checkpoint.h. */
#include "checkpoint.h"
#include "audit.h"
#include "envelope.h"
#include "jdetail.h"
#include "log.h"
#include "rx_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int checkpoint_build(struct hctx *h, const char *peer, uint8_t *buf, size_t cap, size_t *len,
		     int64_t *seq)
{
	Overstap__AuditCheckpoint m = OVERSTAP__AUDIT_CHECKPOINT__INIT;
	struct checkpoint_rec theirs, ours;
	uint8_t head[AUDIT_MAC_LEN], since[AUDIT_MAC_LEN];
	int r;

	*seq = 0;
	if ((r = audit_head(store_audit_peek(h->store), seq, head)) < 0)
		return r;
	m.seq = (uint64_t)*seq;
	m.head.data = head;
	m.head.len = sizeof(head);
	/* an empty chain (seq 0) is nothing to witness */
	if (store_checkpoint_get(h->store, peer, CHECKPOINT_THEIRS, &theirs) == 0 && theirs.seq > 0) {
		m.yours_seq = (uint64_t)theirs.seq;
		m.yours_head.data = theirs.head;
		m.yours_head.len = sizeof(theirs.head);
		m.yours_at = theirs.at;
	}
	/* the proof that our head extends what the peer holds of our chain: our
	 * mac at that entry, as our log has it now (design.md §5.6). A log cut
	 * below it offers none, and one rewritten offers another mac: either
	 * way the peer keeps what it holds and records an incident. */
	if ((r = store_checkpoint_get(h->store, peer, CHECKPOINT_OURS, &ours)) < 0 && r != -ENOENT)
		return r;
	if (r == 0 && ours.seq > 0 && ours.seq <= *seq &&
	    (r = audit_mac_at(store_audit_peek(h->store), ours.seq, since)) == 0) {
		m.since_seq = (uint64_t)ours.seq;
		m.since_head.data = since;
		m.since_head.len = sizeof(since);
	} else if (r < 0 && r != -ENOENT) {
		return r;
	}
	if (overstap__audit_checkpoint__get_packed_size(&m) > cap)
		return -EMSGSIZE;
	*len = overstap__audit_checkpoint__pack(&m, buf);
	return 0;
}

static int s_alarm(struct hctx *h, const char *peer, const char *action, int64_t seq,
		   const char *why)
{
	char actor[16];

	return store_auditf(h->store, rx_actor(peer, actor), action, "", peer, "{s:I, s:o}",
			     "seq", (json_int_t)seq, "reason", jdetail_text(why));
}

/* The peer's own chain: keep the highest head; a lower or different one at
 * the same entry means the peer's log lost entries. */
static int s_theirs(struct hctx *h, const char *peer, const Overstap__AuditCheckpoint *m)
{
	struct checkpoint_rec old, c = { 0 };
	char why[160];
	int r = store_checkpoint_get(h->store, peer, CHECKPOINT_THEIRS, &old);

	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && ((int64_t)m->seq < old.seq ||
		       ((int64_t)m->seq == old.seq && memcmp(m->head.data, old.head, 32) != 0))) {
		snprintf(why, sizeof(why), "the peer's audit log went back from entry %lld to %llu",
			 (long long)old.seq, (unsigned long long)m->seq);
		/* an incident until acknowledged, keyed by the head we hold: every
		 * lower head sent while the peer's log grows back is the same
		 * incident, alarmed once */
		if ((r = store_incident_add(h->store, peer, INCIDENT_REGRESSED, old.seq, old.head, why,
					    time_now_ms())) <= 0)
			return r;
		log_errf(&((struct log_fields){ .id = LOG_ID_AUDIT_INCIDENT, .peer = peer }),
			 "peer %s: %s (entries removed or rewritten there)", peer, why);
		return s_alarm(h, peer, "audit.peer_chain_regressed", old.seq, why);
	}
	/* design.md §5.6: a higher head is taken only with the proof that it
	 * extends the one we hold. Before, a log cut and grown back past the cut
	 * was taken as it came, and the evidence was gone. An empty chain (seq
	 * 0) held is nothing to extend; since_head is then absent. */
	if (r == 0 && old.seq > 0 && (int64_t)m->seq > old.seq &&
	    ((int64_t)m->since_seq != old.seq || memcmp(m->since_head.data, old.head, 32) != 0)) {
		if ((int64_t)m->since_seq == old.seq) {
			snprintf(why, sizeof(why), "the peer's audit log was rewritten at entry %lld, "
				 "which we hold (its head now at %llu)", (long long)old.seq,
				 (unsigned long long)m->seq);
		} else {
			/* no proof: it may not know yet what we hold (our answer
			 * crossed its checkpoint): wait for the next one */
			log_debug("peer %s: a head at %llu without proof from entry %lld; keeping ours",
				  peer, (unsigned long long)m->seq, (long long)old.seq);
			return 0;
		}
		if ((r = store_incident_add(h->store, peer, INCIDENT_REGRESSED, old.seq, old.head, why,
					    time_now_ms())) <= 0)
			return r;
		log_errf(&((struct log_fields){ .id = LOG_ID_AUDIT_INCIDENT, .peer = peer }),
			 "peer %s: %s (entries removed or rewritten there)", peer, why);
		return s_alarm(h, peer, "audit.peer_chain_regressed", old.seq, why);
	}
	str_copy(c.peer, sizeof(c.peer), peer);
	c.kind = CHECKPOINT_THEIRS;
	c.seq = (int64_t)m->seq;
	memcpy(c.head, m->head.data, 32);
	c.at = time_now_ms();
	return store_checkpoint_put(h->store, &c);
}

/* What the peer holds of our chain: it must still be in our log. */
static int s_ours(struct hctx *h, const char *peer, const Overstap__AuditCheckpoint *m)
{
	struct checkpoint_rec old, c = { 0 };
	char why[200];
	int bad, r;

	if (m->yours_seq == 0)
		return 0;
	bad = audit_check_checkpoint(store_audit_peek(h->store), (int64_t)m->yours_seq,
				     m->yours_head.data, why, sizeof(why));
	if (bad < 0 && bad != -ENOENT && bad != -EBADMSG)
		return bad;
	r = store_checkpoint_get(h->store, peer, CHECKPOINT_OURS, &old);
	if (r < 0 && r != -ENOENT)
		return r;
	/* Keep the newest witness, and always one that does not match: it is
	 * the evidence `audit verify` reports. The same head witnessed again
	 * (a quiet log) takes the later moment: `status` shows how long ago
	 * the peer last confirmed it, not when our log last grew. */
	if (bad == 0 && r == 0 &&
	    (old.seq > (int64_t)m->yours_seq ||
	     (old.seq == (int64_t)m->yours_seq && old.at >= m->yours_at)))
		return 0;
	str_copy(c.peer, sizeof(c.peer), peer);
	c.kind = CHECKPOINT_OURS;
	c.seq = (int64_t)m->yours_seq;
	memcpy(c.head, m->yours_head.data, 32);
	c.at = m->yours_at;
	if ((r = store_checkpoint_put(h->store, &c)) < 0 || bad == 0)
		return r;
	/* An incident until an administrator acknowledges it: a newer witness
	 * that matches (once the log grew past the cut) must not heal it. */
	if ((r = store_incident_add(h->store, peer, INCIDENT_MISMATCH, c.seq, c.head, why,
				    time_now_ms())) <= 0)
		return r;
	log_errf(&((struct log_fields){ .id = LOG_ID_AUDIT_INCIDENT, .peer = peer }),
		 "audit log: peer %s holds a checkpoint our log no longer has: %s", peer, why);
	return s_alarm(h, peer, "audit.checkpoint_mismatch", c.seq, why);
}

const char *rx_checkpoint(struct hctx *h, const struct rx_msg *msg, int *failed)
{
	const Overstap__Envelope *e = msg->e;
	Overstap__AuditCheckpoint *m = NULL;
	const char *why = NULL;
	int r;

	if (envelope_checkpoint_unpack(envelope_body(e), &m, &why) < 0)
		return why;
	if ((r = s_theirs(h, e->sender, m)) == 0)
		r = s_ours(h, e->sender, m);
	if (r < 0) {
		log_err("cannot store an audit checkpoint from %s: %s", e->sender, strerror(-r));
		*failed = 1;
	}
	overstap__audit_checkpoint__free_unpacked(m, NULL);
	return NULL;
}

int checkpoint_take(struct hctx *h, const Overstap__Envelope *e)
{
	int failed = 0;

	(void)rx_checkpoint(h, &(struct rx_msg){ .e = e }, &failed);
	return failed ? -EIO : 0;
}

struct s_verify {
	struct audit *a;
	unsigned checked;
	int bad;
	char *peer, *why;
	size_t whylen;
	int64_t *seq;
};

static int s_verify_cb(const struct checkpoint_rec *c, void *arg)
{
	struct s_verify *v = arg;
	int r;

	if (c->kind != CHECKPOINT_OURS)
		return 0;
	v->checked++;
	r = audit_check_checkpoint(v->a, c->seq, c->head, v->why, v->whylen);
	if (r == 0)
		return 0;
	if (r != -ENOENT && r != -EBADMSG)
		return r;
	v->bad = r;
	str_copy(v->peer, 7, c->peer);
	*v->seq = c->seq;
	return 1;
}

int checkpoint_verify(struct store *s, unsigned *checked, char peer[7], int64_t *seq, char *why,
		      size_t whylen)
{
	struct s_verify v = { .a = store_audit_peek(s), .peer = peer, .why = why,
			      .whylen = whylen, .seq = seq };
	int r = store_checkpoints_each(s, s_verify_cb, &v);

	*checked = v.checked;
	if (r < 0)
		return r;
	return v.bad;
}

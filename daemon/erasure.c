/* erasure: see erasure.h. What the receiver erases is decided by its own copy
 * of the dossier (which consents it carried), never by the withdrawal's word
 * alone; the receipt says exactly what went. */
#include "erasure.h"
#include "envelope.h"
#include "jdetail.h"
#include "log.h"
#include "outbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS (86400LL * 1000)
/* store_retention_*'s page (LIMIT in store.c): one transaction of a few ms,
 * so that a slice of the job (erasure_retention_step) stays near its budget */
#define RETENTION_BATCH 64

void erasure_date_before(int days, char out[11])
{
	time_t t = time(NULL) - (time_t)days * 86400;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static const char *s_subject(const struct leaver *l, char buf[32])
{
	if (l->record_id[0])
		return l->record_id;
	snprintf(buf, 32, "leaver:%lld", (long long)l->id);
	return buf;
}

/* Consents the receiver of l's handover can know of. */
static int s_told(const struct leaver *l, const struct consent *k)
{
	return (k->purpose == CONSENT_PURPOSE_HANDOVER || k->purpose == CONSENT_PURPOSE_FOLLOW_UP) &&
	       (strcmp(k->counterpart, CONSENT_ANY) == 0 ||
		strcmp(k->counterpart, l->destination_institution) == 0);
}

int erasure_withdrawal_queue(struct hctx *h, const struct leaver *l, const struct consent *ks,
			     size_t n, const char *reason, const char *date, const char *actor,
			     char peer[7])
{
	Overstap__Withdrawal w = OVERSTAP__WITHDRAWAL__INIT;
	struct withdrawal_rec rec;
	const struct peer_cfg *pc;
	char *ids[ENV_MAX_CONSENTS];
	uint8_t *body = NULL;
	size_t blen, pos = 0;
	int r;

	peer[0] = '\0';
	/* A dossier that never left (or was cancelled unsent) told nobody. */
	if (!l->record_id[0] || (l->state != LEAVER_QUEUED && l->state != LEAVER_DELIVERED))
		return 0;
	for (size_t i = 0; i < n && w.n_consent_ids < ENV_MAX_CONSENTS; i++)
		if (s_told(l, &ks[i]))
			ids[w.n_consent_ids++] = (char *)ks[i].id;
	if (w.n_consent_ids == 0)
		return 0;
	pc = config_peer_find(h->cfg, l->destination_institution);
	if (!pc || !pc->endpoint[0]) {
		log_warn("cannot tell %s of a withdrawal for %s: not a configured peer with an "
			    "endpoint; tell them yourself", str_visbuf(l->destination_institution).s,
			 l->record_id);
		return 0;
	}
	w.record_id = (char *)l->record_id;
	w.consent_ids = ids;
	w.withdrawn_on = (char *)date;
	w.reason = (char *)reason;
	blen = overstap__withdrawal__get_packed_size(&w);
	if (!(body = malloc(blen ? blen : 1)))
		return -ENOMEM;
	overstap__withdrawal__pack(&w, body);
	memset(&rec, 0, sizeof(rec));
	r = outbox_queue(h, &(struct outbox_item){ .peer = pc->id,
						   .body_case = OVERSTAP__ENVELOPE__BODY_WITHDRAWAL,
						   .body = body, .blen = blen }, rec.message_id);
	free(body);
	if (r < 0)
		return r;
	str_copy(rec.peer, sizeof(rec.peer), pc->id);
	str_copy(rec.record_id, sizeof(rec.record_id), l->record_id);
	for (size_t i = 0; i < w.n_consent_ids; i++)
		pos += (size_t)snprintf(rec.consent_ids + pos, sizeof(rec.consent_ids) - pos, "%s%s",
					i ? "," : "", ids[i]);
	str_copy(rec.reason, sizeof(rec.reason), reason);
	rec.at = time_now_ms();
	str_copy(rec.actor, sizeof(rec.actor), actor);
	if ((r = store_withdrawal_add(h->store, &rec)) < 0)
		return r;
	if ((r = store_auditf(h->store, actor, "withdrawal.queued", l->record_id, pc->id,
			       "{s:o, s:I, s:s}", "reason", jdetail_text(reason),
			       "consents", (json_int_t)w.n_consent_ids, "message_id", rec.message_id)) < 0)
		return r;
	str_copy(peer, 7, pc->id);
	return 0;
}

/* ---- retention ---- */

static int s_retention_sent(struct hctx *h, int64_t now, int64_t deadline, unsigned *count)
{
	int64_t *ids = NULL;
	size_t n = 0;
	char subj[32];
	int r;

	do {
		r = store_retention_sent(h->store, now - h->cfg->retention_sent_days * DAY_MS, &ids, &n);
		if (r < 0 || n == 0 || (r = store_begin(h->store)) < 0)
			break;
		for (size_t i = 0; i < n && r == 0; i++) {
			struct leaver l;

			if ((r = store_leaver_load(h->store, ids[i], 0, &l)) == 0 &&
			    (r = store_leaver_shred(h->store, &l, now)) == 0)
				r = store_auditf(h->store, "daemon", "retention.erased", s_subject(&l, subj),
						  l.destination_institution, "{s:s, s:i}", "what",
						  "dossier_sent", "days", h->cfg->retention_sent_days);
			store_leaver_clear(&l);
		}
		if (r == 0 && (r = store_commit(h->store)) == 0)
			*count += (unsigned)n;
		else
			store_rollback(h->store);
	} while (r == 0 && n == RETENTION_BATCH && time_mono_ms() < deadline);
	free(ids);
	return r < 0 ? r : n == RETENTION_BATCH;	/* 1: the deadline came first */
}

static int s_retention_received(struct hctx *h, int64_t now, int64_t deadline, unsigned *count)
{
	struct strlist recs = { 0 };
	size_t n = 0;
	int r;

	do {
		strlist_clear(&recs);
		r = store_retention_received(h->store, now - h->cfg->retention_received_days * DAY_MS, &recs);
		n = recs.n;
		if (r < 0 || n == 0 || (r = store_begin(h->store)) < 0)
			break;
		for (size_t i = 0; i < recs.n && r == 0; i++)
			if ((r = store_inbox_erase(h->store, recs.v[i], "retention", now)) == 0)
				r = store_auditf(h->store, "daemon", "retention.erased", recs.v[i], "",
						  "{s:s, s:i}", "what", "dossier_received",
						  "days", h->cfg->retention_received_days);
		if (r == 0 && (r = store_commit(h->store)) == 0)
			*count += (unsigned)n;
		else
			store_rollback(h->store);
	} while (r == 0 && n == RETENTION_BATCH && time_mono_ms() < deadline);
	strlist_clear(&recs);
	return r < 0 ? r : n == RETENTION_BATCH;	/* 1: the deadline came first */
}

/* The MBO's enrolment list goes after as long as a received dossier
 * (design.md §3.10): from its import. */
static int s_retention_enrolments(struct hctx *h, int64_t now, int64_t deadline, unsigned *count)
{
	int64_t *ids = NULL;
	size_t n = 0;
	char subj[32];
	int r;

	do {
		free(ids);
		ids = NULL;
		r = store_retention_enrolments(h->store, now - h->cfg->retention_received_days * DAY_MS,
					       &ids, &n);
		if (r < 0 || n == 0 || (r = store_begin(h->store)) < 0)
			break;
		for (size_t i = 0; i < n && r == 0; i++) {
			snprintf(subj, sizeof(subj), "enrolment:%lld", (long long)ids[i]);
			if ((r = store_enrolment_erase(h->store, ids[i], "retention", now)) == 0)
				r = store_auditf(h->store, "daemon", "retention.erased", subj, "",
						  "{s:s, s:i}", "what", "enrolment",
						  "days", h->cfg->retention_received_days);
			else if (r == 1)
				r = 0;
		}
		if (r == 0 && (r = store_commit(h->store)) == 0)
			*count += (unsigned)n;
		else
			store_rollback(h->store);
	} while (r == 0 && n == RETENTION_BATCH && time_mono_ms() < deadline);
	free(ids);
	return r < 0 ? r : n == RETENTION_BATCH;	/* 1: the deadline came first */
}

int erasure_retention_step(struct hctx *h, int64_t budget_ms, struct erasure_retention *run)
{
	int64_t now = time_now_ms(), deadline = time_mono_ms() + budget_ms;
	unsigned events = 0, links = 0;
	char before[11];
	int r;

	if ((r = s_retention_sent(h, now, deadline, &run->dossiers)) != 0 ||
	    (r = s_retention_received(h, now, deadline, &run->dossiers)) != 0 ||
	    (r = s_retention_enrolments(h, now, deadline, &run->dossiers)) != 0)
		return r;	/* 1: more is due, in the next slice */
	erasure_date_before(h->cfg->retention_outcomes_days, before);
	if ((r = store_begin(h->store)) < 0)
		return r;
	r = store_events_expire(h->store, before, &events);
	if (r == 0 && events) {
		r = store_auditf(h->store, "daemon", "retention.erased", "", "", "{s:s, s:I, s:s}",
				  "what", "events", "count", (json_int_t)events, "before", before);
	}
	/* registrations sent whose dossier never came: as long as one would be kept */
	if (r == 0)
		r = store_regsent_expire(h->store, now - h->cfg->retention_received_days * DAY_MS,
					 &links);
	if (r == 0 && links) {
		r = store_auditf(h->store, "daemon", "retention.erased", "", "", "{s:s, s:I, s:i}",
				  "what", "registration_links", "count", (json_int_t)links,
				  "days", h->cfg->retention_received_days);
	}
	if (r == 0)
		r = store_commit(h->store);
	else
		store_rollback(h->store);
	if (r < 0)
		return r;
	run->events += events;
	if (run->dossiers + run->events) {
		log_notice("retention: erased %u dossier(s) and %u status/outcome row(s)",
			   run->dossiers, run->events);
		/* put off (1) while a backup or store check reads: the loop
		 * truncates once it ends (store_wal_truncate_due) */
		if ((r = store_checkpoint_wal(h->store)) > 0)
			r = 0;
	}
	return r;
}

int erasure_retention_run(struct hctx *h, unsigned *erased)
{
	struct erasure_retention run = { 0 };
	int r;

	while ((r = erasure_retention_step(h, INT32_MAX, &run)) == 1)
		;
	*erased = run.dossiers + run.events;
	return r;
}

/* control: the local control socket the overstap CLI talks to (SPEC §4). A
 * ROUTER on ipc://, reachable only through the filesystem permissions of its
 * socket (owner and the configured group). One handler per request type. */
#include "control.h"
#include "checkpoint.h"
#include "report.h"
#include "control_int.h"
#include "consent.h"
#include "audit.h"
#include "envelope.h"
#include "leavers.h"
#include "outbox.h"
#include "vocab.h"

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

int ctl_fail(struct req_ctx *c, int code, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->rep->error = ctl_strdup(&c->pool, buf);
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

/* ---- audit ---- */

const char *ctl_leaver_subject(const struct leaver *l, char buf[32])
{
	if (l->record_id[0])
		return l->record_id;
	snprintf(buf, 32, "leaver:%lld", (long long)l->id);
	return buf;
}

/* ---- import ---- */

static int s_import(struct req_ctx *c)
{
	const Overstapctl__ImportLeavers *im = c->req->import_leavers;
	Overstapctl__ImportResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	const char *file = im->file[0] ? im->file : "import";
	struct strlist errors = { 0 };
	int r = 0;

	if (!res)
		return -ENOMEM;
	overstapctl__import_result__init(res);
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT;
	c->rep->import_result = res;
	/* Never trust the client's validation: check every row again here. */
	for (size_t i = 0; i < im->n_leavers; i++) {
		const Overstapctl__Leaver *l = im->leavers[i];

		leaver_validate(file, l, &errors);
		if (l->destination_institution[0] &&
		    !config_peer_find(c->h->cfg, l->destination_institution))
			strlist_addf(&errors, "%s:%u: destination_institution: %s is not a configured peer",
				     file, l->line, l->destination_institution);
	}
	if (errors.n == 0)
		r = store_leavers_import(c->h->store, file, (Overstapctl__Leaver *const *)im->leavers,
					 im->n_leavers, c->req->user, &errors);
	if (errors.n) {
		res->errors = ctl_keep(&c->pool, calloc(errors.n, sizeof(char *)));
		for (size_t i = 0; i < errors.n && res->errors; i++) {
			res->errors[i] = ctl_keep(&c->pool, errors.v[i]);
			errors.v[i] = NULL;	/* transferred */
		}
		res->n_errors = res->errors ? errors.n : 0;
		strlist_clear(&errors);
		return 0;	/* the errors are the answer; nothing was stored */
	}
	strlist_clear(&errors);
	if (r < 0)
		return ctl_fail(c, r, "cannot store the import: %s", strerror(-r));
	res->imported = (uint32_t)im->n_leavers;
	log_notice("user %s imported %zu leavers from %s", c->req->user, im->n_leavers, file);
	return 0;
}

/* ---- sending school: registration, inzage, send ---- */

static Overstapctl__ImportResult *s_marked_new(struct req_ctx *c)
{
	Overstapctl__ImportResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));

	if (res) {
		overstapctl__import_result__init(res);
		c->rep->body_case = OVERSTAPCTL__REPLY__BODY_MARKED;
		c->rep->marked = res;
	}
	return res;
}

static int s_mark_registered(struct req_ctx *c)
{
	const Overstapctl__MarkRegistered *m = c->req->mark_registered;
	Overstapctl__ImportResult *res = s_marked_new(c);
	char today[11];
	const char *date = m->date;
	int r;

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
			r = store_leaver_set_registered(c->h->store, l.id, date, c->req->user);
		if (r == 0) {
			char subj[32], detail[64];

			snprintf(detail, sizeof(detail), "{\"registered_on\":\"%s\"}", date);
			r = store_audit(c->h->store, c->req->user, "registration.recorded",
					ctl_leaver_subject(&l, subj), l.destination_institution, detail);
		}
		store_leaver_clear(&l);
		if (r == 0) {
			res->imported++;
			continue;
		}
		snprintf(buf, sizeof(buf), "%s: %s", m->pupil_refs[i],
			 r == -ENOENT ? "no such pupil"
			 : r == -EALREADY ? "the dossier has already been sent" : strerror(-r));
		res->errors[res->n_errors++] = ctl_strdup(&c->pool, buf);
	}
	if ((r = store_commit(c->h->store)) < 0) {
		store_rollback(c->h->store);
		return ctl_fail(c, r, "cannot commit: %s", strerror(-r));
	}
	log_notice("user %s recorded %u registrations", c->req->user, res->imported);
	return 0;
}

/* Record inzage of one pupil; returns 0 or a reason in `why`. */
static int s_inzage_one(struct req_ctx *c, const char *ref, Overstap__Reviewer who,
			const char *date, char *why, size_t whylen)
{
	const Overstapctl__RecordInzage *z = c->req->inzage;
	struct leaver l = { 0 };
	int r, age;

	r = store_leaver_find(c->h->store, ref, 1, &l);
	if (r == -ENOENT) {
		snprintf(why, whylen, "%s: no such pupil", ref);
		return r;
	}
	if (r < 0 || !l.priv) {
		snprintf(why, whylen, "%s: personal data unavailable", ref);
		store_leaver_clear(&l);
		return r < 0 ? r : -ENOKEY;
	}
	/* SPEC §3: parents see the dossier of a pupil under 16, the pupil from 16. */
	age = date_age_on(l.priv->birth_date, date);
	if (age < 0) {
		snprintf(why, whylen, "%s: %s is before the pupil's birth date", ref, date);
		r = -EPERM;
	} else if (age < 16 && who == OVERSTAP__REVIEWER__REVIEWER_PUPIL) {
		snprintf(why, whylen, "%s: the pupil is %d on %s: inzage is by a parent or guardian",
			 ref, age, date);
		r = -EPERM;
	} else if (age >= 16 && who != OVERSTAP__REVIEWER__REVIEWER_PUPIL) {
		snprintf(why, whylen, "%s: the pupil is %d on %s: from 16 the pupil does the inzage",
			 ref, age, date);
		r = -EPERM;
	} else if (l.state != LEAVER_IMPORTED) {
		snprintf(why, whylen, "%s: the dossier has already been sent", ref);
		r = -EALREADY;
	} else {
		char subj[32], detail[96];

		r = store_leaver_set_inzage(c->h->store, l.id, who, date, z->remarks, c->req->user);
		snprintf(detail, sizeof(detail), "{\"reviewer\":\"%s\",\"date\":\"%s\"}",
			 vocab_reviewer_str(who) ? vocab_reviewer_str(who) : "?", date);
		if (r == 0)
			r = store_audit(c->h->store, c->req->user, "inzage.recorded",
					ctl_leaver_subject(&l, subj), "", detail);
		if (r < 0)
			snprintf(why, whylen, "%s: %s", ref, strerror(-r));
	}
	store_leaver_clear(&l);
	return r;
}

/* Codes that refuse one pupil and let the others through. */
static int s_item_refused(int r)
{
	return r == -ENOENT || r == -EPERM || r == -EALREADY || r == -ENOKEY;
}

static int s_inzage(struct req_ctx *c)
{
	const Overstapctl__RecordInzage *z = c->req->inzage;
	Overstap__Reviewer who = vocab_reviewer_from_str(z->reviewer);
	Overstapctl__ImportResult *res = s_marked_new(c);
	char today[11];
	const char *date = z->date;
	int r;

	date_today(today);
	if (!date[0])
		date = today;
	if (!res)
		return -ENOMEM;
	if (!who)
		return ctl_fail(c, -EINVAL, "reviewer must be pupil, parent or guardian");
	if (!date_valid(date, NULL, NULL, NULL) || strcmp(date, today) > 0)
		return ctl_fail(c, -EINVAL, "date %s is not a valid date on or before today", date);
	if (strlen(z->remarks) > ENV_MAX_REMARKS)
		return ctl_fail(c, -EINVAL, "remarks are longer than %d bytes", ENV_MAX_REMARKS);
	res->errors = ctl_keep(&c->pool, calloc(z->n_pupil_refs + 1, sizeof(char *)));
	if (!res->errors || (r = store_begin(c->h->store)) < 0)
		return ctl_fail(c, -EIO, "cannot write to the store");
	for (size_t i = 0; i < z->n_pupil_refs; i++) {
		char why[512];

		r = s_inzage_one(c, z->pupil_refs[i], who, date, why, sizeof(why));
		if (r == 0)
			res->imported++;
		else if (s_item_refused(r))
			res->errors[res->n_errors++] = ctl_strdup(&c->pool, why);
		else
			break;
	}
	if (r == 0 || s_item_refused(r))
		r = store_commit(c->h->store);
	if (r < 0) {
		store_rollback(c->h->store);
		res->imported = 0;
		res->n_errors = 0;
		return ctl_fail(c, r, "nothing recorded: %s", strerror(-r));
	}
	log_notice("user %s recorded inzage by %s for %u pupils", c->req->user, z->reviewer,
		   res->imported);
	return 0;
}

/* Why this leaver may not be sent now (SPEC §3, purpose handover), or NULL. */
static const char *s_gate(struct hctx *h, const struct leaver *l)
{
	const struct peer_cfg *pc;

	if (l->state != LEAVER_IMPORTED)
		return l->state == LEAVER_CANCELLED ? "the handover was cancelled"
						    : "the dossier has already been sent";
	if (!l->priv)
		return "the pupil's personal data has been erased";
	if (!l->destination_institution[0])
		return "no destination institution";
	pc = config_peer_find(h->cfg, l->destination_institution);
	if (!pc || !pc->endpoint[0])
		return "the destination is not a configured peer with an endpoint";
	if (!l->registered_on[0])
		return "not registered at the destination yet (no selection at the gate: "
		       "record it with 'overstap handover registered')";
	if (!l->inzage_on[0])
		return "no inzage recorded yet ('overstap handover inzage')";
	return NULL;
}

/* The dossier, its pointers borrowed from l (which must hold priv). */
static void s_dossier(const struct leaver *l, const char *record_id, Overstap__Handover *h,
		      Overstap__Inzage *z)
{
	overstap__handover__init(h);
	overstap__inzage__init(z);
	h->record_id = (char *)record_id;
	h->pgn = l->priv->pgn;
	h->given_name = l->priv->given_name;
	h->family_name = l->priv->family_name;
	h->birth_date = l->priv->birth_date;
	h->program = l->program;
	h->cohort = (char *)l->cohort;
	h->exit_date = (char *)l->exit_date;
	h->destination = l->destination;
	h->advice = l->advice;
	h->advice_followed = l->advice_followed;
	h->level_taal = l->level_taal;
	h->level_rekenen = l->level_rekenen;
	h->n_support_needs = l->priv->n_support_needs;
	h->support_needs = l->priv->support_needs;
	h->mentor = l->priv->mentor;
	if (l->inzage_on[0]) {
		z->reviewer = l->inzage_reviewer;
		z->reviewed_on = (char *)l->inzage_on;
		z->remarks = l->priv->inzage_remarks;
		z->recorded_by = (char *)l->inzage_recorded_by;
		h->inzage = z;
	}
	h->basis = "statute";	/* WVO/WEB overstapgegevens; s_queue_one sets what was decided */
	h->registered_on = (char *)l->registered_on;
}

/* The consents in force for this recipient travel with the dossier, so the
 * receiver can check the basis and later report back (follow_up) only while
 * one holds. */
struct dossier_extra {
	Overstap__ConsentAssertion a[ENV_MAX_CONSENTS];
	Overstap__ConsentAssertion *ap[ENV_MAX_CONSENTS];
	Overstap__SupportNeed needs[ENV_MAX_SUPPORT_NEEDS];
	Overstap__SupportNeed *np[ENV_MAX_SUPPORT_NEEDS];
	int handover_consent;		/* a handover consent is among them */
};

static void s_assertions(Overstap__Handover *h, struct dossier_extra *x, const struct consent *v,
			 size_t n, const char *to, const char *today)
{
	static const int purposes[] = { CONSENT_PURPOSE_HANDOVER, CONSENT_PURPOSE_FOLLOW_UP };

	for (size_t i = 0; i < n && h->n_consents < ENV_MAX_CONSENTS; i++) {
		Overstap__ConsentAssertion *a = &x->a[h->n_consents];
		int in = 0;

		for (size_t p = 0; p < ARRAY_SIZE(purposes); p++)
			in |= consent_in_force(&v[i], purposes[p], to, today);
		if (!in)
			continue;
		envelope_assertion_from(a, &v[i]);
		x->handover_consent |= v[i].purpose == CONSENT_PURPOSE_HANDOVER;
		x->ap[h->n_consents++] = a;
	}
	h->consents = x->ap;
}

/* SPEC §3: free-text care notes are consent-based. Without a handover consent
 * the codes go (statute), the notes stay here. */
static void s_withhold_notes(Overstap__Handover *h, struct dossier_extra *x)
{
	size_t n = h->n_support_needs < ENV_MAX_SUPPORT_NEEDS ? h->n_support_needs
							       : ENV_MAX_SUPPORT_NEEDS;

	for (size_t i = 0; i < n; i++) {
		x->needs[i] = *h->support_needs[i];
		x->needs[i].note = "";
		x->np[i] = &x->needs[i];
	}
	h->n_support_needs = n;
	h->support_needs = x->np;
}

static int s_disclosure_audit(struct hctx *h, const char *user, const struct leaver *l,
			      const Overstap__Handover *ho, const struct consent_decision *dec,
			      const char *record_id, const char *mid, int notes)
{
	char detail[320];

	/* the disclosure: what, to whom, on which basis (SPEC §5) */
	snprintf(detail, sizeof(detail), "{\"purpose\":\"handover\",\"basis\":\"%s\","
		 "\"consent_id\":\"%s\",\"consents_asserted\":%zu,\"care_notes\":\"%s\","
		 "\"message_id\":\"%s\"}", ho->basis, dec->consent_id, ho->n_consents,
		 notes ? "included" : "withheld", mid);
	return store_audit(h->store, user, "disclosure.queued", record_id,
			   l->destination_institution, detail);
}

/* Build, sign and queue the dossier of one gated leaver (inside a transaction). */
static int s_queue_one(struct hctx *h, const char *user, const struct leaver *l,
		       const struct consent_decision *dec, const struct consent *v, size_t n,
		       int64_t now)
{
	Overstap__Handover ho;
	Overstap__Inzage z;
	struct dossier_extra *x = calloc(1, sizeof(*x));
	struct outbox_item it = { .peer = l->destination_institution,
				  .body_case = OVERSTAP__ENVELOPE__BODY_HANDOVER, .key_id = l->key_id };
	char record_id[CRYPTO_UUID_STR_LEN + 1], mid[CRYPTO_UUID_STR_LEN + 1], today[11];
	uint8_t *body = NULL;
	size_t blen = 0;
	int r;

	if (!x)
		return -ENOMEM;
	if ((r = crypto_uuidv7(record_id)) < 0)
		goto out;
	date_today(today);
	s_dossier(l, record_id, &ho, &z);
	ho.basis = (char *)consent_basis_str(dec->basis);
	s_assertions(&ho, x, v, n, l->destination_institution, today);
	if (!x->handover_consent)
		s_withhold_notes(&ho, x);
	blen = overstap__handover__get_packed_size(&ho);
	body = malloc(blen ? blen : 1);
	r = -ENOMEM;
	if (!body)
		goto out;
	overstap__handover__pack(&ho, body);
	it.body = body;
	it.blen = blen;
	for (size_t i = 0; dec->consent_id[0] && i < n; i++)
		if (strcmp(v[i].id, dec->consent_id) == 0) {	/* re-checked at every send */
			it.consent_id = v[i].id;
			it.until = v[i].valid_until;
		}
	r = outbox_queue(h, &it, mid);
	if (r == 0)
		r = store_leaver_set_queued(h->store, l->id, record_id, mid, now);
	if (r == 0)
		r = s_disclosure_audit(h, user, l, &ho, dec, record_id, mid, x->handover_consent);
	crypto_wipe(body, blen);
out:
	free(body);
	crypto_wipe(x, sizeof(*x));
	free(x);
	return r;
}

/* The consents of one pupil, for the decisions of one send. */
struct pupil_consents {
	struct consent *v;
	size_t n, cap;
};

static int s_consent_push(const struct consent *k, int64_t leaver_id, void *arg)
{
	struct pupil_consents *pc = arg;

	(void)leaver_id;
	if (pc->n == pc->cap) {
		size_t cap = pc->cap ? pc->cap * 2 : 4;
		struct consent *v = realloc(pc->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pc->v = v;
		pc->cap = cap;
	}
	pc->v[pc->n++] = *k;
	return 0;
}

/* Audit a denied disclosure with its reason (SPEC §3: every check). */
static int s_audit_denied(struct req_ctx *c, const struct leaver *l, const char *purpose,
			  const char *reason)
{
	char subj[32], detail[320];

	snprintf(detail, sizeof(detail), "{\"purpose\":\"%s\",\"reason\":\"%s\"}", purpose,
		 reason);
	return store_audit(c->h->store, c->req->user, "disclosure.denied",
			   ctl_leaver_subject(l, subj), l->destination_institution, detail);
}

static int s_send_one(struct req_ctx *c, struct leaver *l, const char *ref, Overstapctl__SendResult *res,
		      int64_t now)
{
	struct pupil_consents pc = { 0 };
	struct consent_decision dec = { 0 };
	const char *why = s_gate(c->h, l);
	char buf[512], today[11];
	int r = 0;

	date_today(today);
	if (!why && (r = store_consents_each(c->h->store, l->id, s_consent_push, &pc)) == 0) {
		int basis = strcmp(c->h->cfg->policy_handover, "consent") == 0 ? BASIS_CONSENT
										  : BASIS_STATUTE;

		if (!consent_decide(basis, pc.v, pc.n, CONSENT_PURPOSE_HANDOVER,
				    l->destination_institution, today, &dec)) {
			why = dec.reason;
			r = s_audit_denied(c, l, "handover", dec.reason);
		}
	}
	if (r == 0 && !why) {
		r = s_queue_one(c->h, c->req->user, l, &dec, pc.v, pc.n, now);
		if (r == 0)
			res->queued[res->n_queued++] = ctl_strdup(&c->pool, ref);
	} else if (r == 0) {
		snprintf(buf, sizeof(buf), "%s: %s", ref, why);
		res->refused[res->n_refused++] = ctl_strdup(&c->pool, buf);
	}
	free(pc.v);
	return r;
}

static int s_send(struct req_ctx *c)
{
	const Overstapctl__SendHandovers *s = c->req->send;
	Overstapctl__SendResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	int64_t *ids = NULL, now = time_now_ms();
	size_t n = s->n_pupil_refs;
	int r;

	if (!res)
		return -ENOMEM;
	overstapctl__send_result__init(res);
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_SEND_RESULT;
	c->rep->send_result = res;
	if (s->all_ready && (r = store_leavers_ready(c->h->store, &ids, &n)) < 0)
		return ctl_fail(c, r, "cannot list ready dossiers: %s", strerror(-r));
	res->queued = ctl_keep(&c->pool, calloc(n + 1, sizeof(char *)));
	res->refused = ctl_keep(&c->pool, calloc(n + 1, sizeof(char *)));
	if (!res->queued || !res->refused || (r = store_begin(c->h->store)) < 0) {
		free(ids);
		return ctl_fail(c, -EIO, "cannot write to the store");
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		struct leaver l = { 0 };
		const char *ref = ids ? NULL : s->pupil_refs[i];
		int rf = ids ? store_leaver_load(c->h->store, ids[i], 1, &l)
			     : store_leaver_find(c->h->store, ref, 1, &l);

		if (rf == -ENOENT) {
			char buf[256];
			snprintf(buf, sizeof(buf), "%s: no such pupil", ref);
			res->refused[res->n_refused++] = ctl_strdup(&c->pool, buf);
		} else if (rf < 0) {
			r = rf;
		} else {
			r = s_send_one(c, &l, ref ? ref : l.pupil_ref, res, now);
		}
		store_leaver_clear(&l);
	}
	free(ids);
	if (r == 0)
		r = store_commit(c->h->store);
	if (r < 0) {
		/* All or nothing: nothing was queued. */
		store_rollback(c->h->store);
		res->n_queued = res->n_refused = 0;
		return ctl_fail(c, r, "nothing queued: %s", strerror(-r));
	}
	log_notice("user %s queued %zu handovers (%zu refused)", c->req->user, res->n_queued,
		   res->n_refused);
	return 0;
}

/* ---- listings ---- */

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

/* A mentor's view of the state: an imported leaver is "registered" once the
 * registration is recorded and "ready" once inzage is too. */
static const char *s_view_state(const struct hctx *h, const struct leaver *l)
{
	const struct peer_cfg *pc;

	if (l->state != LEAVER_IMPORTED)
		return store_leaver_state_str(l->state);
	if (!l->registered_on[0])
		return "imported";
	pc = l->destination_institution[0] ? config_peer_find(h->cfg, l->destination_institution) : NULL;
	/* ready = what `handover send --all-ready` would send now */
	return l->inzage_on[0] && pc && pc->endpoint[0] ? "ready" : "registered";
}

static Overstapctl__HandoverRow *s_leaver_row(struct req_ctx *c, const struct leaver *l)
{
	struct pool *pool = &c->pool;
	Overstapctl__HandoverRow *row = ctl_keep(pool, calloc(1, sizeof(*row)));

	if (!row)
		return NULL;
	overstapctl__handover_row__init(row);
	row->pupil_ref = ctl_strdup(pool, l->pupil_ref);
	row->cohort = ctl_strdup(pool, l->cohort);
	row->program = (char *)(vocab_program_str(l->program) ? vocab_program_str(l->program) : "");
	row->destination_type = (char *)(vocab_destination_str(l->destination)
						 ? vocab_destination_str(l->destination) : "");
	row->destination_institution = ctl_strdup(pool, l->destination_institution);
	row->state = (char *)s_view_state(c->h, l);
	row->record_id = ctl_strdup(pool, l->record_id);
	row->queued_at = l->queued_at;
	row->delivered_at = l->delivered_at;
	row->registered_on = ctl_strdup(pool, l->registered_on);
	row->inzage_on = ctl_strdup(pool, l->inzage_on);
	row->attempts = l->attempts;
	return row;
}

static int s_leaver_cb(const struct leaver *l, void *arg)
{
	struct ctl_list *a = arg;
	const char *want = a->c->req->handover_list->state;

	unsigned limit = a->c->req->handover_list->limit;

	if (want[0] && strcmp(want, s_view_state(a->c->h, l)) != 0)
		return 0;	/* imported/registered/ready share one stored state */
	if (limit && a->n >= limit)
		return 1;
	return ctl_list_push(a, s_leaver_row(a->c, l));
}

static int s_state_from_str(const char *s)
{
	if (strcmp(s, "registered") == 0 || strcmp(s, "ready") == 0)
		return LEAVER_IMPORTED;
	for (int i = LEAVER_IMPORTED; i <= LEAVER_CANCELLED; i++)
		if (strcmp(s, store_leaver_state_str(i)) == 0)
			return i;
	return -2;
}

static int s_handover_list(struct req_ctx *c)
{
	const Overstapctl__ListFilter *f = c->req->handover_list;
	Overstapctl__HandoverList *hl = ctl_keep(&c->pool, calloc(1, sizeof(*hl)));
	struct ctl_list a = { .c = c };
	int state = f->state[0] ? s_state_from_str(f->state) : -1, r;

	if (!hl)
		return -ENOMEM;
	if (state == -2)
		return ctl_fail(c, -EINVAL, "unknown state '%s' (imported, registered, ready, queued, "
			      "delivered, cancelled)",
			      f->state);
	overstapctl__handover_list__init(hl);
	/* The view states are filtered row by row, so the limit is applied there. */
	r = store_leavers_each(c->h->store, state, f->cohort, 0, s_leaver_cb, &a);
	if (a.rows && !ctl_keep(&c->pool, a.rows))
		return -ENOMEM;
	if (r < 0)
		return ctl_fail(c, r, "cannot list: %s", strerror(-r));
	hl->rows = (Overstapctl__HandoverRow **)a.rows;
	hl->n_rows = a.n;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_HANDOVER_LIST;
	c->rep->handover_list = hl;
	return 0;
}

/* The dossier as it was sent, from the outbox: the body of the signed
 * envelope, copied into the pool. */
static int s_sent_dossier(struct req_ctx *c, const char *message_id, ProtobufCBinaryData *out)
{
	uint8_t *packed = NULL;
	size_t len = 0;
	Overstap__Envelope *e;
	const ProtobufCBinaryData *b;
	int r = store_outbox_get(c->h->store, message_id, &packed, &len);

	if (r < 0)
		return r;
	e = overstap__envelope__unpack(NULL, len, packed);
	b = e ? envelope_body(e) : NULL;
	r = -EBADMSG;
	if (b && (out->data = ctl_keep(&c->pool, malloc(b->len + 1)))) {
		memcpy(out->data, b->data, b->len);
		out->len = b->len;
		r = 0;
	}
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	crypto_wipe(packed, len);
	free(packed);
	return r;
}

static int s_withdrawal_cb(const struct withdrawal_rec *w, void *arg)
{
	struct ctl_list *t = arg;
	struct pool *pool = &t->c->pool;
	Overstapctl__WithdrawalRow *row = ctl_keep(pool, calloc(1, sizeof(*row)));
	struct strlist ids = { 0 }, items = { 0 };
	int r = 0;

	if (!row)
		return -ENOMEM;
	overstapctl__withdrawal_row__init(row);
	row->message_id = ctl_strdup(pool, w->message_id);
	row->peer = ctl_strdup(pool, w->peer);
	row->record_id = ctl_strdup(pool, w->record_id);
	row->reason = ctl_strdup(pool, w->reason);
	row->at = w->at;
	row->actor = ctl_strdup(pool, w->actor);
	row->receipt_id = ctl_strdup(pool, w->receipt_id);
	row->receipt_at = w->receipt_at;
	row->erased_at = w->erased_at;
	/* the store keeps both lists comma-separated */
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		struct strlist *l = pass ? &items : &ids;
		char *copy = strdup(pass ? w->erased : w->consent_ids), *save = NULL;

		if (!copy)
			r = -ENOMEM;
		for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && r == 0;
		     tok = strtok_r(NULL, ",", &save))
			r = strlist_addf(l, "%s", tok);
		free(copy);
	}
	row->consent_ids = ctl_keep(pool, calloc(ids.n + 1, sizeof(char *)));
	row->erased = ctl_keep(pool, calloc(items.n + 1, sizeof(char *)));
	for (size_t i = 0; r == 0 && row->consent_ids && i < ids.n; i++)
		row->consent_ids[row->n_consent_ids++] = ctl_strdup(pool, ids.v[i]);
	for (size_t i = 0; r == 0 && row->erased && i < items.n; i++)
		row->erased[row->n_erased++] = ctl_strdup(pool, items.v[i]);
	strlist_clear(&ids);
	strlist_clear(&items);
	if (r == 0 && (!row->consent_ids || !row->erased))
		r = -ENOMEM;
	return r < 0 ? r : ctl_list_push(t, row);
}

int ctl_handover_detail(struct req_ctx *c, struct leaver *l, Overstapctl__HandoverDetail **out)
{
	Overstapctl__HandoverDetail *det = ctl_keep(&c->pool, calloc(1, sizeof(*det)));
	struct ctl_list wl = { .c = c };
	Overstap__Handover h;
	Overstap__Inzage z;
	char subj[32];
	int r;

	if (!det)
		return -ENOMEM;
	overstapctl__handover_detail__init(det);
	det->row = s_leaver_row(c, l);
	if ((r = ctl_timeline(c, l->record_id, &det->events, &det->n_events)) < 0)
		return ctl_fail(c, r, "cannot read the timeline: %s", strerror(-r));
	if (l->record_id[0]) {
		r = store_withdrawals_each(c->h->store, l->record_id, s_withdrawal_cb, &wl);
		if (wl.rows && !ctl_keep(&c->pool, wl.rows))
			return -ENOMEM;
		if (r < 0)
			return ctl_fail(c, r, "cannot read the withdrawals: %s", strerror(-r));
		det->withdrawals = (Overstapctl__WithdrawalRow **)wl.rows;
		det->n_withdrawals = wl.n;
	}
	/* Who looked at whose dossier. If that cannot be written, the dossier
	 * is not shown. */
	r = store_audit(c->h->store, c->req->user, "dossier.viewed", ctl_leaver_subject(l, subj), "",
			"{\"side\":\"sending\"}");
	if (r < 0)
		return ctl_fail(c, r, "cannot write the audit log: %s", strerror(-r));
	if (l->message_id[0] && s_sent_dossier(c, l->message_id, &det->dossier) == 0) {
		/* sent: show exactly what left (basis, consents, notes withheld) */
	} else if (l->priv) {
		s_dossier(l, l->record_id, &h, &z);
		det->dossier.len = overstap__handover__get_packed_size(&h);
		det->dossier.data = ctl_keep(&c->pool, malloc(det->dossier.len + 1));
		if (det->dossier.data)
			overstap__handover__pack(&h, det->dossier.data);
		else
			det->dossier.len = 0;
	}
	det->erased_at = l->erased_at;
	*out = det;
	return 0;
}

static int s_handover_show(struct req_ctx *c)
{
	struct leaver l = { 0 };
	Overstapctl__HandoverDetail *det = NULL;
	int r = store_leaver_find(c->h->store, c->req->handover_show->key, 1, &l);

	if (r == -ENOENT)
		r = ctl_fail(c, r, "%s: no such pupil", c->req->handover_show->key);
	else if (r < 0)
		r = ctl_fail(c, r, "cannot read: %s", strerror(-r));
	else
		r = ctl_handover_detail(c, &l, &det);
	store_leaver_clear(&l);
	if (r < 0)
		return r;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_HANDOVER_DETAIL;
	c->rep->handover_detail = det;
	log_notice("user %s viewed the dossier of %s", c->req->user, c->req->handover_show->key);
	return 0;
}

static Overstapctl__InboxRow *s_inbox_row(struct pool *pool, const struct inbox_row *r)
{
	Overstapctl__InboxRow *row = ctl_keep(pool, calloc(1, sizeof(*row)));
	const char *prog = vocab_program_str(r->program), *dest = vocab_destination_str(r->destination);

	if (!row)
		return NULL;
	overstapctl__inbox_row__init(row);
	row->record_id = ctl_strdup(pool, r->record_id);
	row->sender = ctl_strdup(pool, r->sender);
	row->received_at = r->received_at;
	row->cohort = ctl_strdup(pool, r->cohort);
	row->program = (char *)(prog ? prog : "");
	row->destination_type = (char *)(dest ? dest : "");
	row->message_id = ctl_strdup(pool, r->message_id);
	return row;
}

static int s_inbox_cb(const struct inbox_row *r, void *arg)
{
	struct ctl_list *a = arg;

	return ctl_list_push(a, s_inbox_row(&a->c->pool, r));
}

static int s_inbox_list(struct req_ctx *c)
{
	const Overstapctl__ListFilter *f = c->req->inbox_list;
	Overstapctl__InboxList *il = ctl_keep(&c->pool, calloc(1, sizeof(*il)));
	struct ctl_list a = { .c = c };
	int r;

	if (!il)
		return -ENOMEM;
	overstapctl__inbox_list__init(il);
	r = store_inbox_each(c->h->store, f->cohort, f->limit, s_inbox_cb, &a);
	if (a.rows && !ctl_keep(&c->pool, a.rows))
		return -ENOMEM;
	if (r < 0)
		return ctl_fail(c, r, "cannot list: %s", strerror(-r));
	il->rows = (Overstapctl__InboxRow **)a.rows;
	il->n_rows = a.n;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_INBOX_LIST;
	c->rep->inbox_list = il;
	return 0;
}

int ctl_inbox_detail(struct req_ctx *c, const char *record_id, Overstapctl__InboxDetail **out)
{
	Overstapctl__InboxDetail *det = ctl_keep(&c->pool, calloc(1, sizeof(*det)));
	struct inbox_row row;
	Overstap__Envelope *e = NULL;
	uint8_t *packed = NULL;
	size_t len = 0;
	int r, erased = 0;

	if (!det)
		return -ENOMEM;
	r = store_inbox_get(c->h->store, record_id, &row, &packed, &len);
	if (r == -ENOENT)
		return ctl_fail(c, r, "%s: no such record", record_id);
	if (r == -ENOKEY)
		erased = 1;	/* shredded: the row and its timeline remain */
	else if (r < 0)
		return ctl_fail(c, r, "cannot read the record: %s", strerror(-r));
	if (packed && !ctl_keep(&c->pool, packed))
		return -ENOMEM;	/* ctl_keep freed it */
	r = store_audit(c->h->store, c->req->user, "dossier.viewed", row.record_id, row.sender,
			"{\"side\":\"receiving\"}");
	if (r < 0)
		return ctl_fail(c, r, "cannot write the audit log: %s", strerror(-r));
	overstapctl__inbox_detail__init(det);
	det->row = s_inbox_row(&c->pool, &row);
	det->erased_at = row.erased_at;
	det->erased_what = ctl_strdup(&c->pool, row.erased_what);
	if (!erased) {
		e = overstap__envelope__unpack(NULL, len, packed);
		if (!e || !envelope_body(e))
			r = ctl_fail(c, -EBADMSG, "stored record does not decode");
	}
	if (r == 0)
		r = ctl_timeline(c, row.record_id, &det->events, &det->n_events);
	if (r == 0 && e) {
		const ProtobufCBinaryData *b = envelope_body(e);

		det->dossier.data = ctl_keep(&c->pool, malloc(b->len + 1));
		if (det->dossier.data) {
			memcpy(det->dossier.data, b->data, b->len);
			det->dossier.len = b->len;
		}
	}
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	*out = det;
	return r;
}

static int s_inbox_show(struct req_ctx *c)
{
	Overstapctl__InboxDetail *det = NULL;
	int r = ctl_inbox_detail(c, c->req->inbox_show->key, &det);

	if (r < 0)
		return r;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_INBOX_DETAIL;
	c->rep->inbox_detail = det;
	log_notice("user %s viewed received dossier %s", c->req->user, c->req->inbox_show->key);
	return 0;
}

/* ---- audit ---- */

static int s_audit_verify(struct req_ctx *c)
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

static int s_audit_export(struct req_ctx *c)
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

/* ---- dispatch ---- */

static const struct {
	Overstapctl__Request__BodyCase body;
	int (*fn)(struct req_ctx *c);
} s_handlers[] = {
	{ OVERSTAPCTL__REQUEST__BODY_STATUS, ctl_status },
	{ OVERSTAPCTL__REQUEST__BODY_PEERS, ctl_status },
	{ OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS, s_import },
	{ OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, s_mark_registered },
	{ OVERSTAPCTL__REQUEST__BODY_INZAGE, s_inzage },
	{ OVERSTAPCTL__REQUEST__BODY_SEND, s_send },
	{ OVERSTAPCTL__REQUEST__BODY_HANDOVER_LIST, s_handover_list },
	{ OVERSTAPCTL__REQUEST__BODY_HANDOVER_SHOW, s_handover_show },
	{ OVERSTAPCTL__REQUEST__BODY_INBOX_LIST, s_inbox_list },
	{ OVERSTAPCTL__REQUEST__BODY_INBOX_SHOW, s_inbox_show },
	{ OVERSTAPCTL__REQUEST__BODY_AUDIT_VERIFY, s_audit_verify },
	{ OVERSTAPCTL__REQUEST__BODY_AUDIT_EXPORT, s_audit_export },
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
};

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
	int r = -ENOTSUP;

	if (req->version != OVERSTAPCTL__VERSION__CURRENT) {
		r = ctl_fail(c, -EPROTO, "control protocol version %u not supported (daemon speaks %d)",
			   req->version, OVERSTAPCTL__VERSION__CURRENT);
	} else if (!s_user_ok(req->user)) {
		r = ctl_fail(c, -EACCES, "request without a valid user name");
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(s_handlers); i++)
			if (s_handlers[i].body == req->body_case) {
				r = s_handlers[i].fn(c);
				break;
			}
		if (r == -ENOTSUP && !c->rep->error[0])
			ctl_fail(c, r, "request not supported by this daemon");
	}
	if (r < 0 && !c->rep->error[0])
		ctl_fail(c, r, "%s", strerror(-r));
	c->rep->code = r < 0 ? r : 0;
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

/* store_outbox: every message we send, sealed, from queued to acknowledged or cancelled. */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int store_outbox_add_sealed(struct store *s, const char *message_id, const char *peer,
			    int body_case, const uint8_t *sealed, size_t slen, int64_t key_id,
			    int64_t now)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_INS);
	int r = STORE_BIND(st, STORE_T(message_id), STORE_T(peer), STORE_I(body_case),
			   key_id > 0 ? STORE_I(key_id) : STORE_NULL, STORE_B(sealed, slen),
			   STORE_I(now));

	if (r == 0 && (r = sqlerr_exec(st)) == 0)
		store_ocount_move(s, peer, -1, OUTBOX_QUEUED);
	return r;
}

int store_outbox_add(struct store *s, const char *message_id, const char *peer, int body_case,
		     const uint8_t *packed, size_t len, int64_t key_id, int64_t now)
{
	uint8_t *sealed = NULL;
	size_t slen = 0;
	int r;

	r = store_seal(s, key_id, message_id, strlen(message_id), packed, len, &sealed, &slen);
	if (r == 0)
		r = store_outbox_add_sealed(s, message_id, peer, body_case, sealed, slen, key_id, now);
	free(sealed);
	return r;
}

/* Rows of st (ST_OUTBOX_PENDING or ST_OUTBOX_UNSENT), decrypted: read on the
 * loop, opened together (store_crypt_many: on the pool while sending). */
static int s_outbox_rows(struct store *s, sqlite3_stmt *st, const char *peer, const char *after,
			 unsigned limit, struct outbox_msg **out, size_t *n)
{
	struct outbox_msg *v = calloc(limit ? limit : 1, sizeof(*v));
	struct store_crypt *c = calloc(limit ? limit : 1, sizeof(*c));
	size_t cnt = 0, kept = 0;
	int rc = SQLITE_DONE, r = 0;

	if (!v || !c) {
		free(v);
		free(c);
		return -ENOMEM;
	}
	if ((r = STORE_BIND(st, STORE_T(peer), STORE_T(after ? after : ""), STORE_I(limit))) < 0)
		goto out;
	while (cnt < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct outbox_msg *m = &v[cnt];
		size_t blen = (size_t)sqlite3_column_bytes(st, 3);
		uint8_t *sealed = malloc(blen ? blen : 1);

		if (!sealed) {
			r = -ENOMEM;
			break;
		}
		if (blen)
			memcpy(sealed, sqlite3_column_blob(st, 3), blen);
		store_text(st, 0, m->message_id, sizeof(m->message_id));
		m->created_at = sqlite3_column_int64(st, 1);
		m->key_id = sqlite3_column_int64(st, 2);
		store_text(st, 4, m->consent_id, sizeof(m->consent_id));
		store_text(st, 5, m->consent_until, sizeof(m->consent_until));
		c[cnt] = (struct store_crypt){ .key_id = m->key_id, .aad = m->message_id,
					       .aad_len = strlen(m->message_id), .in = sealed,
					       .len = blen };
		cnt++;
	}
	if (r == 0 && cnt < limit && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	if (r == 0)
		r = store_crypt_many(s, 0, c, cnt);
	for (size_t i = 0; i < cnt; i++) {
		free((void *)c[i].in);
		if (r == 0 && c[i].r < 0 && c[i].r != -ENOKEY)
			r = c[i].r;
	}
	/* The pupil was erased while the message waited (-ENOKEY): never send it. */
	for (size_t i = 0; i < cnt; i++) {
		if (r == 0 && c[i].r == 0) {
			if (kept != i)
				v[kept] = v[i];
			v[kept].packed = c[i].out;
			v[kept++].len = c[i].out_len;
		} else if (c[i].out) {
			crypto_wipe(c[i].out, c[i].out_len);
			free(c[i].out);
		}
	}
out:
	free(c);
	if (r < 0) {
		for (size_t i = 0; i < kept; i++) {
			crypto_wipe(v[i].packed, v[i].len);
			free(v[i].packed);
		}
		free(v);
		return r;
	}
	*out = v;
	*n = kept;
	return 0;
}

int store_outbox_pending(struct store *s, const char *peer, const char *after, unsigned limit,
			 struct outbox_msg **out, size_t *n)
{
	return s_outbox_rows(s, store_st(s, ST_OUTBOX_PENDING), peer, after, limit, out, n);
}

int store_outbox_unsent(struct store *s, const char *peer, const char *after, unsigned limit,
			struct outbox_msg **out, size_t *n)
{
	return s_outbox_rows(s, store_st(s, ST_OUTBOX_UNSENT), peer, after, limit, out, n);
}

int store_outbox_replace(struct store *s, const struct outbox_msg *m)
{
	uint8_t *sealed = NULL;
	size_t slen = 0;
	sqlite3_stmt *st;
	int r;

	r = store_seal(s, m->key_id, m->message_id, strlen(m->message_id), m->packed, m->len, &sealed,
		   &slen);
	if (r < 0)
		return r;
	st = store_st(s, ST_OUTBOX_RESEAL);
	r = STORE_BIND(st, STORE_T(m->message_id), STORE_B(sealed, slen));
	if (r == 0)
		r = sqlerr_exec(st);
	free(sealed);
	return r;
}

int store_outbox_get(struct store *s, const char *message_id, uint8_t **packed, size_t *len)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_GET);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(message_id))) < 0)
		return r;
	r = -ENOENT;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = store_unseal(s, sqlite3_column_int64(st, 0), message_id, strlen(message_id),
			   sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), packed, len);
	else if (rc != SQLITE_DONE)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	return r;
}

int store_outbox_set_consent(struct store *s, const char *message_id, const char *consent_id,
			     const char *until)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_CONSENT);
	int r;

	if ((r = STORE_BIND(st, STORE_T(message_id), STORE_T(consent_id), STORE_T(until))) < 0)
		return r;
	return sqlerr_exec(st);
}

/* The peer and state of message_id, for the counts (store_ocount.c) of a
 * statement that does not bind them: 1 when there is no such message. */
static int s_peer_state(struct store *s, const char *message_id, char *peer, size_t plen,
			int *state)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_PEER_STATE);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(message_id))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_text(st, 0, peer, plen);
		*state = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : sqlerr_errno(rc);
}

/* Run st, an update of message_id from state from (of peer) to to; when it
 * changed the row, move the leaver sent in it along with leaver_st
 * (cancelled, or delivered at now). 1 when the message was not in that
 * state. */
static int s_settle(struct store *s, sqlite3_stmt *st, const char *message_id, const char *peer,
		    int from, int to, int leaver_st, int64_t now)
{
	unsigned n;
	int r;

	if ((r = store_exec_count(s, st, &n)) < 0)
		return r;
	if (n == 0)
		return 1;
	store_ocount_move(s, peer, from, to);
	st = store_st(s, leaver_st);
	r = leaver_st == ST_LEAVER_DELIVERED ? STORE_BIND(st, STORE_T(message_id), STORE_I(now))
					     : STORE_BIND(st, STORE_T(message_id));
	if (r < 0 || (r = store_exec_count(s, st, &n)) < 0)
		return r;
	/* no dossier: a status, registration, withdrawal, receipt or notice,
	 * emptied by OUTBOX_SHRED (store.c) */
	if (n == 0)
		s->shredded = 1;
	return 0;
}

int store_outbox_shredded(struct store *s)
{
	int was = s->shredded;

	s->shredded = 0;
	return was;
}

int store_outbox_cancel(struct store *s, const char *message_id, const char *reason)
{
	sqlite3_stmt *st;
	char peer[64];
	int state = -1, r;

	/* 1: no such message; or (from s_settle) acknowledged or cancelled already */
	if ((r = s_peer_state(s, message_id, peer, sizeof(peer), &state)) != 0)
		return r;
	st = store_st(s, ST_OUTBOX_CANCEL);
	if ((r = STORE_BIND(st, STORE_T(message_id), STORE_T(reason))) < 0)
		return r;
	return s_settle(s, st, message_id, peer, state, OUTBOX_CANCELLED, ST_LEAVER_CANCELLED, 0);
}

int store_outbox_ack(struct store *s, const char *peer, const char *message_id, int rejected,
		     const char *reason, int64_t first_sent_at, unsigned attempts, int64_t now)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_ACK);
	int r;

	if ((r = STORE_BIND(st, STORE_T(message_id), STORE_T(peer),
			    STORE_I(rejected ? OUTBOX_REJECTED : OUTBOX_ACKED),
			    STORE_T(reason && *reason ? reason : NULL),
			    first_sent_at ? STORE_I(first_sent_at) : STORE_NULL,
			    STORE_I((int)attempts), STORE_I(now))) < 0)
		return r;
	/* 1: a duplicate ack, or one for a message we do not have */
	return s_settle(s, st, message_id, peer, OUTBOX_QUEUED,
			rejected ? OUTBOX_REJECTED : OUTBOX_ACKED,
			rejected ? ST_LEAVER_CANCELLED : ST_LEAVER_DELIVERED, now);
}

int store_outbox_oldest(struct store *s, const char *peer, int64_t *oldest)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_OLDEST);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(peer))) < 0)
		return r;
	rc = sqlite3_step(st);
	*oldest = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlerr_errno(rc);
}

int store_outbox_depth(struct store *s, const char *peer, uint64_t *depth)
{
	return store_ocount_get(s, peer, OUTBOX_QUEUED, depth);
}

int store_outbox_cancel_consent(struct store *s, const char *consent_id, const char *reason,
				unsigned *n)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_CANCEL_CONSENT);
	int r;

	if ((r = STORE_BIND(st, STORE_T(consent_id), STORE_T(reason))) < 0 ||
	    (r = store_exec_count(s, st, n)) < 0)
		return r;
	if (*n) {
		s->shredded = s->cancelled = 1;	/* an outcome under the outbox key, say */
		store_ocount_stale(s);		/* queued or parked, of any peer */
	}
	return 0;
}

int store_outbox_cancelled(struct store *s)
{
	int was = s->cancelled;

	s->cancelled = 0;
	return was;
}

int store_outbox_queued(struct store *s, const char *message_id)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_STATE);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(message_id))) < 0)
		return r;
	rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) == OUTBOX_QUEUED
			     : rc == SQLITE_DONE ? 0 : sqlerr_errno(rc);
	sqlite3_reset(st);
	return r;
}

int store_outbox_park(struct store *s, const char *peer, const char *message_id, const char *reason,
		      int64_t first_sent_at, unsigned attempts)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_PARK);
	unsigned n;
	int r;

	if ((r = STORE_BIND(st, STORE_T(message_id), STORE_T(peer), STORE_T(reason),
			    first_sent_at ? STORE_I(first_sent_at) : STORE_NULL,
			    STORE_I((int)attempts))) < 0 ||
	    (r = store_exec_count(s, st, &n)) < 0)
		return r;
	if (n)
		store_ocount_move(s, peer, OUTBOX_QUEUED, OUTBOX_PARKED);
	return n == 0;
}

int store_outbox_cancel_parked(struct store *s, const char *message_id, const char *reason)
{
	sqlite3_stmt *st;
	char peer[64];
	int state = -1, r;

	if ((r = s_peer_state(s, message_id, peer, sizeof(peer), &state)) != 0)
		return r;
	st = store_st(s, ST_OUTBOX_CANCEL_PARKED);
	if ((r = STORE_BIND(st, STORE_T(message_id), STORE_T(reason))) < 0)
		return r;
	return s_settle(s, st, message_id, peer, OUTBOX_PARKED, OUTBOX_CANCELLED,
			ST_LEAVER_CANCELLED, 0);
}

int store_outbox_unpark(struct store *s, const char *message_id)
{
	sqlite3_stmt *st;
	char peer[64];
	unsigned n;
	int state = -1, r;

	if ((r = s_peer_state(s, message_id, peer, sizeof(peer), &state)) != 0)
		return r;
	st = store_st(s, ST_OUTBOX_UNPARK);
	if ((r = STORE_BIND(st, STORE_T(message_id))) < 0 || (r = store_exec_count(s, st, &n)) < 0)
		return r;
	if (n)
		store_ocount_move(s, peer, OUTBOX_PARKED, OUTBOX_QUEUED);
	return n == 0;
}

static int s_settled_each(struct store *s, int which, const char *peer, store_parked_cb cb,
			  void *arg)
{
	sqlite3_stmt *st = store_st(s, which);
	int refused = which == ST_OUTBOX_REFUSED_EACH, rc, r;

	if ((r = STORE_BIND(st, peer ? STORE_T(peer) : STORE_NULL)) < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct outbox_parked m = { 0 };

		store_text(st, 0, m.message_id, sizeof(m.message_id));
		store_text(st, 1, m.peer, sizeof(m.peer));
		m.body_case = sqlite3_column_int(st, 2);
		m.created_at = sqlite3_column_int64(st, 3);
		m.attempts = (unsigned)sqlite3_column_int(st, 4);
		store_text(st, 5, m.reason, sizeof(m.reason));
		store_text(st, 6, m.record_id, sizeof(m.record_id));
		if (refused) {
			m.event = sqlite3_column_int(st, 7);
			store_text(st, 8, m.date, sizeof(m.date));
			m.settled_at = sqlite3_column_int64(st, 9);
		}
		if ((r = cb(&m, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	return r;
}

int store_outbox_parked_each(struct store *s, const char *peer, store_parked_cb cb, void *arg)
{
	return s_settled_each(s, ST_OUTBOX_PARKED_EACH, peer, cb, arg);
}

int store_outbox_refused_each(struct store *s, const char *peer, store_parked_cb cb, void *arg)
{
	return s_settled_each(s, ST_OUTBOX_REFUSED_EACH, peer, cb, arg);
}

int store_outbox_refused_count(struct store *s, uint64_t *n)
{
	int64_t v = 0;
	int r = store_int_query(s, ST_OUTBOX_REFUSED_COUNT, NULL, &v);

	if (r == 0)
		*n = (uint64_t)v;
	return r;
}

int store_outbox_parked_count(struct store *s, const char *peer, uint64_t *n)
{
	return store_ocount_get(s, peer, OUTBOX_PARKED, n);
}

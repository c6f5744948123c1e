/* store_keys: per-pupil data keys: made, unwrapped (once per write
 * transaction, design.md §3.9), and the seals under them or the outbox key. */
#include "store_int.h"
#include "workpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char s_key_aad[] = "overstap-pupil-key-v1";

void store_keys_wipe(struct store *s)
{
	if (s->keys_n)
		crypto_wipe(s->keys, sizeof(s->keys));
	s->keys_n = 0;
	s->keys_tx = 0;
}

int store_key_wrap(const struct store *s, const uint8_t key[CRYPTO_KEY_LEN],
		   const uint8_t *nonce, uint8_t **wrapped, size_t *wlen)
{
	return nonce ? crypto_seal_nonce(s->master, nonce, s_key_aad, sizeof(s_key_aad), key,
					 CRYPTO_KEY_LEN, wrapped, wlen)
		     : crypto_seal(s->master, s_key_aad, sizeof(s_key_aad), key, CRYPTO_KEY_LEN,
				   wrapped, wlen);
}

int store_key_put(struct store *s, int64_t now, const uint8_t *wrapped, size_t wlen, int64_t *id)
{
	sqlite3_stmt *st = store_st(s, ST_KEY_INS);
	int r = STORE_BIND(st, STORE_B(wrapped, wlen), STORE_I(now));

	if (r == 0 && (r = sqlerr_exec(st)) == 0) {
		*id = sqlite3_last_insert_rowid(s->db);
		store_key_forget(s, *id);	/* the id of a key rolled back, made again */
	}
	return r;
}

int store_key_new(struct store *s, int64_t now, int64_t *id, uint8_t key[CRYPTO_KEY_LEN])
{
	uint8_t *wrapped = NULL;
	size_t wlen = 0;
	int r;

	if ((r = crypto_random(key, CRYPTO_KEY_LEN)) < 0)
		return r;
	if ((r = store_key_wrap(s, key, NULL, &wrapped, &wlen)) < 0)
		return r;
	r = store_key_put(s, now, wrapped, wlen, id);
	free(wrapped);
	return r;
}

/* The slot of key id in the cache of the open transaction, or NULL when
 * there is none (outside store_begin's transaction the cache is not used:
 * a key read there may be shredded by the next transaction). */
static struct store_key_slot *s_key_slot(struct store *s, int64_t id)
{
	if (s->keys_tx && sqlite3_get_autocommit(s->db))
		store_keys_wipe(s);	/* sqlite ended the transaction itself (an I/O error) */
	if (!s->keys_tx)
		return NULL;
	return &s->keys[(uint64_t)id % STORE_KEY_CACHE];
}

void store_key_forget(struct store *s, int64_t key_id)
{
	struct store_key_slot *k = &s->keys[(uint64_t)key_id % STORE_KEY_CACHE];

	if (k->id == key_id)
		crypto_wipe(k, sizeof(*k));
}

/* -ENOKEY when the key was shredded: the data it protected is gone for good. */
static int s_key_get(struct store *s, int64_t id, uint8_t key[CRYPTO_KEY_LEN])
{
	sqlite3_stmt *st;
	struct store_key_slot *k = s_key_slot(s, id);
	uint8_t *plain = NULL;
	size_t plen = 0;
	int rc, r;

	if (k && k->id == id) {
		memcpy(key, k->key, CRYPTO_KEY_LEN);
		return 0;
	}
	st = store_st(s, ST_KEY_GET);
	if ((r = STORE_BIND(st, STORE_I(id))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOKEY : sqlerr_errno(rc);
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_reset(st);
		return -ENOKEY;
	}
	r = crypto_open(s->master, s_key_aad, sizeof(s_key_aad), sqlite3_column_blob(st, 0),
			(size_t)sqlite3_column_bytes(st, 0), &plain, &plen);
	sqlite3_reset(st);
	if (r == 0 && plen != CRYPTO_KEY_LEN)
		r = -EBADMSG;
	if (r == 0)
		memcpy(key, plain, CRYPTO_KEY_LEN);
	if (r == 0 && k) {	/* a slot taken by another key: that one is unwrapped again */
		k->id = id;
		memcpy(k->key, plain, CRYPTO_KEY_LEN);
		s->keys_n++;
	}
	if (plain) {
		crypto_wipe(plain, plen);
		free(plain);
	}
	return r;
}

/* Seal (seal = 1) or open under the key of key_id (> 0: a pupil's, -ENOKEY
 * once shredded) or the outbox key (0). The key is wiped either way. */
static int s_crypt(struct store *s, int seal, int64_t key_id, const void *aad, size_t aad_len,
		   const void *in, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t key[CRYPTO_KEY_LEN];
	int r = 0;

	if (key_id > 0)
		r = s_key_get(s, key_id, key);
	else
		memcpy(key, s->outbox_key, sizeof(key));
	if (r == 0)
		r = seal ? crypto_seal(key, aad, aad_len, in, len, out, out_len)
			 : crypto_open(key, aad, aad_len, in, len, out, out_len);
	crypto_wipe(key, sizeof(key));
	return r;
}

int store_seal(struct store *s, int64_t key_id, const void *aad, size_t aad_len,
	       const void *pt, size_t len, uint8_t **out, size_t *out_len)
{
	return s_crypt(s, 1, key_id, aad, aad_len, pt, len, out, out_len);
}

int store_unseal(struct store *s, int64_t key_id, const void *aad, size_t aad_len,
		 const void *ct, size_t len, uint8_t **out, size_t *out_len)
{
	return s_crypt(s, 0, key_id, aad, aad_len, ct, len, out, out_len);
}

/* ---- many at once (store_crypt_many) ---------------------------------------- */

/* What the loop hands a helper for one v[i]: the key itself when the
 * transaction's cache (or the outbox key) has it, else the wrapped key as
 * stored, which the helper unwraps. */
struct s_crypt_key {
	uint8_t key[CRYPTO_KEY_LEN];
	uint8_t *wrapped;		/* owned; NULL when key is set */
	size_t wlen;
	int have;			/* key is set */
	int unwrapped;			/* a helper unwrapped it: the loop may cache it */
};

struct s_crypt_ctx {
	const struct store *s;
	int seal;
	struct store_crypt *v;
	struct s_crypt_key *k;
};

/* The loop's half: the key of v->key_id, or its wrapped bytes; -ENOKEY
 * when shredded (or never made), < 0 other than that when sqlite failed. */
static int s_key_fetch(struct store *s, int64_t id, struct s_crypt_key *k)
{
	struct store_key_slot *slot;
	sqlite3_stmt *st;
	int rc;

	if (id <= 0) {
		memcpy(k->key, s->outbox_key, CRYPTO_KEY_LEN);
		k->have = 1;
		return 0;
	}
	if ((slot = s_key_slot(s, id)) && slot->id == id) {
		memcpy(k->key, slot->key, CRYPTO_KEY_LEN);
		k->have = 1;
		return 0;
	}
	st = store_st(s, ST_KEY_GET);
	if ((rc = STORE_BIND(st, STORE_I(id))) < 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_reset(st);
		return rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOKEY : sqlerr_errno(rc);
	}
	k->wlen = (size_t)sqlite3_column_bytes(st, 0);
	if ((k->wrapped = malloc(k->wlen ? k->wlen : 1)))
		memcpy(k->wrapped, sqlite3_column_blob(st, 0), k->wlen);
	sqlite3_reset(st);
	return k->wrapped ? 0 : -ENOMEM;
}

/* A helper's half (workpool.h): reads only the master key, which does not
 * change while the store is open, and its own v[i] and k[i]. */
static void s_crypt_one(void *arg, size_t i)
{
	const struct s_crypt_ctx *c = arg;
	struct store_crypt *v = &c->v[i];
	struct s_crypt_key *k = &c->k[i];
	uint8_t *plain = NULL;
	size_t plen = 0;

	if (v->r < 0)
		return;
	if (!k->have) {
		v->r = crypto_open(c->s->master, s_key_aad, sizeof(s_key_aad), k->wrapped, k->wlen,
				   &plain, &plen);
		if (v->r == 0 && plen != CRYPTO_KEY_LEN)
			v->r = -EBADMSG;
		if (v->r == 0) {
			memcpy(k->key, plain, CRYPTO_KEY_LEN);
			k->have = k->unwrapped = 1;
		}
		if (plain) {
			crypto_wipe(plain, plen);
			free(plain);
		}
		if (v->r < 0)
			return;
	}
	v->r = c->seal ? crypto_seal(k->key, v->aad, v->aad_len, v->in, v->len, &v->out, &v->out_len)
		       : crypto_open(k->key, v->aad, v->aad_len, v->in, v->len, &v->out, &v->out_len);
}

/* Below this many, waking the helpers costs more than it saves. */
#define S_CRYPT_POOL_MIN 4

int store_crypt_many(struct store *s, int seal, struct store_crypt *v, size_t n)
{
	struct s_crypt_key *k;
	int own_read, r = 0;

	if (n == 0)
		return 0;
	if (!(k = calloc(n, sizeof(*k))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].out = NULL;
		v[i].out_len = 0;
		v[i].r = -ECANCELED;
	}
	/* Outside a transaction each key read was a read transaction of its
	 * own, two fcntl locks on the -shm file and a WAL snapshot apiece: a
	 * third of s_fill reading a window of rows back, 3 % of the school's
	 * loop while sending (issue 14). One read transaction for the lot; a
	 * BEGIN that fails leaves the reads as they were. */
	own_read = n > 1 && sqlite3_get_autocommit(s->db) &&
		   sqlerr_exec(store_st(s, ST_BEGIN_READ)) == 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		v[i].r = s_key_fetch(s, v[i].key_id, &k[i]);
		if (v[i].r < 0 && v[i].r != -ENOKEY)
			r = v[i].r;	/* sqlite failed: the transaction may be gone */
	}
	/* ended by COMMIT, which cannot disturb a caller's statement still
	 * stepping; ROLLBACK only if that fails */
	if (own_read && sqlerr_exec(store_st(s, ST_COMMIT)) < 0 && !sqlite3_get_autocommit(s->db))
		sqlerr_exec(store_st(s, ST_ROLLBACK));
	if (r == 0)
		workpool_for(n >= S_CRYPT_POOL_MIN ? s->pool : NULL, n, s_crypt_one,
			     &(struct s_crypt_ctx){ s, seal, v, k });
	for (size_t i = 0; i < n; i++) {
		struct store_key_slot *slot;

		/* a key unwrapped for this transaction: the next use takes it from
		 * the cache (s_key_get), as if the loop had unwrapped it */
		if (r == 0 && k[i].unwrapped && (slot = s_key_slot(s, v[i].key_id)) &&
		    slot->id != v[i].key_id) {
			slot->id = v[i].key_id;
			memcpy(slot->key, k[i].key, CRYPTO_KEY_LEN);
			s->keys_n++;
		}
		free(k[i].wrapped);
	}
	crypto_wipe(k, n * sizeof(*k));
	free(k);
	return r;
}

void store_set_pool(struct store *s, struct workpool *wp)
{
	s->pool = wp;
}

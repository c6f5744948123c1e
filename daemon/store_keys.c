/* store_keys: per-pupil data keys: made, unwrapped (once per write
 * transaction, design.md §3.9), and the seals under them or the outbox key. */
#include "store_int.h"

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

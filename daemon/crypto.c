/* crypto: OpenSSL 3 (EVP) implementations of every primitive overstap uses. */
#include "crypto.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <zmq.h>

struct crypto_sigkey {
	EVP_PKEY *pkey;		/* owned; an Ed25519 key, private or public-only */
	int can_sign;		/* 1 when pkey holds the private half */
	uint8_t pub[CRYPTO_SIGN_KEY_LEN];	/* the public half, raw */
};

/* OpenSSL's length arguments are int; inputs larger than this are refused
 * rather than processed in pieces, since nothing in overstap comes near it. */
#define S_MAX_LEN ((size_t)INT_MAX - 64)

/* A non-NULL pointer for empty inputs: some OpenSSL calls treat NULL as
 * "not given" rather than "empty". */
static const uint8_t s_empty[1];

static const char s_z85_alphabet[] =
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

int crypto_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(p, chunk) != 1)
			return -EIO;
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

void crypto_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

/* ---- algorithms fetched once ----------------------------------------------- */

/* EVP_aes_256_gcm() and EVP_MAC_fetch("HMAC") make OpenSSL 3 look the
 * algorithm up in its provider store on every call (a lock, a name lookup, a
 * reference count): per dossier queued that was EVP_CIPHER_fetch in every seal
 * and open and EVP_MAC_fetch in every audit entry and pseudonym, about 4 % of
 * the school's CPU while sending (issue 14). Fetched once, kept for the life of
 * the process, shared by every thread (fetched objects are immutable). The
 * contexts stay per call: a context kept would keep the last key's schedule. */
static EVP_CIPHER *s_gcm;
static EVP_MAC *s_hmac;
/* HMAC with its digest set and no key, duplicated for each MAC: setting the
 * digest by name fetched SHA-256 again on every call. Never used itself. */
static EVP_MAC_CTX *s_hmac_sha256;
static pthread_once_t s_fetch_once = PTHREAD_ONCE_INIT;

static OSSL_PARAM *s_hmac_params(OSSL_PARAM params[2])
{
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	return params;
}

static void s_fetch(void)
{
	OSSL_PARAM params[2];

	s_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	s_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (s_hmac && (s_hmac_sha256 = EVP_MAC_CTX_new(s_hmac)) &&
	    EVP_MAC_CTX_set_params(s_hmac_sha256, s_hmac_params(params)) != 1) {
		EVP_MAC_CTX_free(s_hmac_sha256);
		s_hmac_sha256 = NULL;
	}
}

/* The fetched cipher, or the implicit one should the fetch have failed. */
static const EVP_CIPHER *s_gcm_cipher(void)
{
	pthread_once(&s_fetch_once, s_fetch);
	return s_gcm ? s_gcm : EVP_aes_256_gcm();
}

/* ---- AES-256-GCM ---------------------------------------------------------- */

/* Nonces drawn from OpenSSL's DRBG S_NONCES at a time (issue 14): RAND_bytes
 * for 12 bytes took 2.5 us here (a lock, a getpid for its fork check, a
 * DRBG call), more than sealing a dossier. They stay what design.md §5.4
 * says, random 96-bit nonces from the same generator, each handed out once:
 * the pool is per thread, and a child of fork drops the one it inherited
 * (s_nonce_atfork), so two processes never use the same nonce. Nonces are
 * public (they head every ciphertext): nothing secret waits in the pool. */
#define S_NONCES 64
struct s_nonce_pool {
	uint8_t b[S_NONCES * CRYPTO_NONCE_LEN];
	unsigned left;			/* nonces not handed out yet, at the end of b */
};
static _Thread_local struct s_nonce_pool s_nonces;
static pthread_once_t s_atfork_once = PTHREAD_ONCE_INIT;

/* Also the child's side of fork: the forking thread's pool, in its only thread. */
void crypto_nonce_reset(void)
{
	s_nonces.left = 0;
}

static void s_nonce_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, crypto_nonce_reset);
}

static int s_nonce(uint8_t nonce[CRYPTO_NONCE_LEN])
{
	pthread_once(&s_atfork_once, s_nonce_atfork);
	if (!s_nonces.left) {
		if (crypto_random(s_nonces.b, sizeof(s_nonces.b)) < 0)
			return -EIO;
		s_nonces.left = S_NONCES;
	}
	s_nonces.left--;
	memcpy(nonce, s_nonces.b + (size_t)s_nonces.left * CRYPTO_NONCE_LEN, CRYPTO_NONCE_LEN);
	return 0;
}

/* Oversized inputs give -EINVAL (a caller bug, not a runtime condition). */
/* Seal under key with the nonce given (NULL: the next from the pool):
 * nonce, ciphertext, tag. */
static int s_seal(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t *given, const void *aad,
		  size_t aad_len, const void *pt, size_t pt_len, uint8_t **out, size_t *out_len)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *buf = NULL, *nonce, *ct, *tag;
	size_t len = CRYPTO_SEAL_OVERHEAD + pt_len;
	int n, r = -EIO;

	if (pt_len > S_MAX_LEN || aad_len > S_MAX_LEN)
		return -EINVAL;
	if (!(buf = malloc(len)) || !(ctx = EVP_CIPHER_CTX_new())) {
		r = -ENOMEM;
		goto out;
	}
	nonce = buf;
	ct = buf + CRYPTO_NONCE_LEN;
	tag = ct + pt_len;
	if (given)
		memcpy(nonce, given, CRYPTO_NONCE_LEN);
	else if (s_nonce(nonce) < 0)
		goto out;
	/* GCM's default IV length is 12 bytes, so no SET_IVLEN is needed. */
	if (EVP_EncryptInit_ex(ctx, s_gcm_cipher(), NULL, key, nonce) != 1)
		goto out;
	if (aad_len && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (pt_len && EVP_EncryptUpdate(ctx, ct, &n, pt, (int)pt_len) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + pt_len, &n) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN, tag) != 1)
		goto out;
	*out = buf;
	*out_len = len;
	buf = NULL; /* transferred */
	r = 0;
out:
	free(buf);
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
		const void *pt, size_t pt_len, uint8_t **out, size_t *out_len)
{
	return s_seal(key, NULL, aad, aad_len, pt, pt_len, out, out_len);
}

int crypto_seal_nonce(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_NONCE_LEN],
		      const void *aad, size_t aad_len, const void *pt, size_t pt_len, uint8_t **out,
		      size_t *out_len)
{
	return s_seal(key, nonce, aad, aad_len, pt, pt_len, out, out_len);
}

int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
		const uint8_t *ct, size_t ct_len, uint8_t **out, size_t *out_len)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *pt = NULL, tag[CRYPTO_TAG_LEN];
	size_t pt_len;
	int n, r = -EBADMSG;

	if (!ct || ct_len < CRYPTO_SEAL_OVERHEAD)
		return -EBADMSG;
	pt_len = ct_len - CRYPTO_SEAL_OVERHEAD;
	if (pt_len > S_MAX_LEN || aad_len > S_MAX_LEN)
		return -EBADMSG;
	/* The tag is copied because the SET_TAG ctrl takes a non-const pointer. */
	memcpy(tag, ct + ct_len - CRYPTO_TAG_LEN, CRYPTO_TAG_LEN);
	if (!(pt = malloc(pt_len + 1)) || !(ctx = EVP_CIPHER_CTX_new())) {
		r = -ENOMEM;
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, s_gcm_cipher(), NULL, key, ct) != 1)
		goto out;
	if (aad_len && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (pt_len && EVP_DecryptUpdate(ctx, pt, &n, ct + CRYPTO_NONCE_LEN, (int)pt_len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN, tag) != 1)
		goto out;
	/* Any failure up to and including this one means "not authentic". */
	if (EVP_DecryptFinal_ex(ctx, pt + pt_len, &n) != 1)
		goto out;
	pt[pt_len] = '\0';
	*out = pt;
	*out_len = pt_len;
	pt = NULL; /* transferred */
	r = 0;
out:
	/* Unauthenticated plaintext must not linger in freed memory. */
	if (pt) {
		crypto_wipe(pt, pt_len + 1);
		free(pt);
	}
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

/* ---- HMAC and HKDF -------------------------------------------------------- */

/* SHA-256 fetched once: EVP_sha256() makes OpenSSL 3 fetch the algorithm
 * again on every digest, which cost more than hashing a Merkle node (the
 * receive workers hash ten per batch-signed message). Kept for the life of
 * the process; fetched once however many threads ask. */
static EVP_MD *s_sha256_md;
static pthread_once_t s_sha256_once = PTHREAD_ONCE_INIT;

static void s_sha256_fetch(void)
{
	s_sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

int crypto_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int outl = 0;

	pthread_once(&s_sha256_once, s_sha256_fetch);
	return EVP_Digest(data, len, out, &outl, s_sha256_md ? s_sha256_md : EVP_sha256(), NULL) == 1 &&
			       outl == 32 ? 0 : -EIO;
}

int crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
		       uint8_t out[32])
{
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2], *set = NULL;
	size_t outl = 0;
	int r = -EIO;

	pthread_once(&s_fetch_once, s_fetch);
	/* the digest from the template; else (an OpenSSL that cannot duplicate
	 * a context without a key) set by name, as before */
	if (!s_hmac_sha256 || !(ctx = EVP_MAC_CTX_dup(s_hmac_sha256))) {
		set = s_hmac_params(params);
		if (!s_hmac || !(ctx = EVP_MAC_CTX_new(s_hmac)))
			goto out;
	}
	/* A NULL key means "reuse the previous key" to EVP_MAC_init. */
	if (EVP_MAC_init(ctx, key_len ? key : s_empty, key_len, set) != 1)
		goto out;
	if (len && EVP_MAC_update(ctx, data, len) != 1)
		goto out;
	if (EVP_MAC_final(ctx, out, &outl, 32) != 1 || outl != 32)
		goto out;
	r = 0;
out:
	EVP_MAC_CTX_free(ctx);
	return r;
}

/* A NULL label is a caller bug and gives -EINVAL. */
int crypto_hkdf(const uint8_t ikm[CRYPTO_KEY_LEN], const char *label, uint8_t out[CRYPTO_KEY_LEN])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[4];
	int r = -EIO;

	if (!label)
		return -EINVAL;
	/* No salt: RFC 5869 then uses HashLen zero bytes, which is what we want
	 * for an ikm that is already a uniformly random key. */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm,
						      CRYPTO_KEY_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label,
						      strlen(label));
	params[3] = OSSL_PARAM_construct_end();
	if (!(kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) || !(ctx = EVP_KDF_CTX_new(kdf)))
		goto out;
	if (EVP_KDF_derive(ctx, out, CRYPTO_KEY_LEN, params) != 1)
		goto out;
	r = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return r;
}

/* ---- Ed25519 --------------------------------------------------------------- */

int crypto_sign_keygen(uint8_t seed[CRYPTO_SIGN_KEY_LEN], uint8_t pub[CRYPTO_SIGN_KEY_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	size_t slen = CRYPTO_SIGN_KEY_LEN, plen = CRYPTO_SIGN_KEY_LEN;
	int r = -EIO;

	if (!pkey)
		return -EIO;
	if (EVP_PKEY_get_raw_private_key(pkey, seed, &slen) != 1 || slen != CRYPTO_SIGN_KEY_LEN)
		goto out;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &plen) != 1 || plen != CRYPTO_SIGN_KEY_LEN)
		goto out;
	r = 0;
out:
	if (r < 0)
		crypto_wipe(seed, CRYPTO_SIGN_KEY_LEN);
	EVP_PKEY_free(pkey);
	return r;
}

int crypto_sign_public(const uint8_t seed[CRYPTO_SIGN_KEY_LEN], uint8_t pub[CRYPTO_SIGN_KEY_LEN])
{
	EVP_PKEY *pkey;
	size_t plen = CRYPTO_SIGN_KEY_LEN;
	int r = 0;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, CRYPTO_SIGN_KEY_LEN);
	if (!pkey)
		return -EIO;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &plen) != 1 || plen != CRYPTO_SIGN_KEY_LEN)
		r = -EIO;
	EVP_PKEY_free(pkey);
	return r;
}

static crypto_sigkey *s_sigkey_wrap(EVP_PKEY *pkey, int can_sign)
{
	crypto_sigkey *k;

	size_t plen = CRYPTO_SIGN_KEY_LEN;

	if (!pkey)
		return NULL;
	if (!(k = calloc(1, sizeof(*k))) ||
	    EVP_PKEY_get_raw_public_key(pkey, k->pub, &plen) != 1 || plen != CRYPTO_SIGN_KEY_LEN) {
		free(k);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k->pkey = pkey;
	k->can_sign = can_sign;
	return k;
}

crypto_sigkey *crypto_sigkey_new_private(const uint8_t seed[CRYPTO_SIGN_KEY_LEN])
{
	return s_sigkey_wrap(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
							  CRYPTO_SIGN_KEY_LEN), 1);
}

crypto_sigkey *crypto_sigkey_new_public(const uint8_t pub[CRYPTO_SIGN_KEY_LEN])
{
	return s_sigkey_wrap(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
							 CRYPTO_SIGN_KEY_LEN), 0);
}

const uint8_t *crypto_sigkey_public(const crypto_sigkey *k)
{
	return k->pub;
}

/* EVP_PKEY_free wipes the private key material itself. */
void crypto_sigkey_free(crypto_sigkey **k)
{
	if (!k || !*k)
		return;
	EVP_PKEY_free((*k)->pkey);
	free(*k);
	*k = NULL;
}

int crypto_sign(crypto_sigkey *k, const void *msg, size_t len, uint8_t sig[CRYPTO_SIG_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	size_t siglen = CRYPTO_SIG_LEN;
	int r = -EIO;

	if (!k || !k->can_sign)
		return -EINVAL;
	if (!(ctx = EVP_MD_CTX_new()))
		return -ENOMEM;
	/* Ed25519 is a one-shot scheme: no digest, no DigestSignUpdate. */
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1)
		goto out;
	if (EVP_DigestSign(ctx, sig, &siglen, len ? msg : s_empty, len) != 1 ||
	    siglen != CRYPTO_SIG_LEN)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* Every failure, including an internal one, reads as "not verified": a caller
 * must never accept a message because verification could not run. */
int crypto_verify(crypto_sigkey *k, const void *msg, size_t len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = NULL;
	int r = -EBADMSG;

	if (!k || !sig || sig_len != CRYPTO_SIG_LEN)
		return -EBADMSG;
	if (!(ctx = EVP_MD_CTX_new()))
		return -EBADMSG;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) != 1)
		goto out;
	if (EVP_DigestVerify(ctx, sig, sig_len, len ? msg : s_empty, len) != 1)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* ---- CURVE (X25519, Z85) --------------------------------------------------- */

int crypto_curve_keygen(char pub_z85[CRYPTO_Z85_KEY_LEN + 1], char sec_z85[CRYPTO_Z85_KEY_LEN + 1])
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	uint8_t sec[32], pub[32];
	size_t slen = sizeof(sec), plen = sizeof(pub);
	int r = -EIO;

	if (!pkey)
		return -EIO;
	if (EVP_PKEY_get_raw_private_key(pkey, sec, &slen) != 1 || slen != sizeof(sec))
		goto out;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &plen) != 1 || plen != sizeof(pub))
		goto out;
	if (!zmq_z85_encode(pub_z85, pub, sizeof(pub)) ||
	    !zmq_z85_encode(sec_z85, sec, sizeof(sec)))
		goto out;
	r = 0;
out:
	if (r < 0)
		crypto_wipe(sec_z85, CRYPTO_Z85_KEY_LEN + 1);
	crypto_wipe(sec, sizeof(sec));
	EVP_PKEY_free(pkey);
	return r;
}

int crypto_curve_public(const char *sec_z85, char pub_z85[CRYPTO_Z85_KEY_LEN + 1])
{
	EVP_PKEY *pkey = NULL;
	uint8_t sec[32], pub[32];
	size_t plen = sizeof(pub);
	int r = -EINVAL;

	if (!crypto_z85_key_valid(sec_z85) || !zmq_z85_decode(sec, sec_z85))
		goto out;
	r = -EIO;
	/* OpenSSL clamps the scalar as libzmq's own X25519 does, so any 32
	 * bytes give the same public key that libzmq would compute. */
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sec, sizeof(sec));
	if (!pkey)
		goto out;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &plen) != 1 || plen != sizeof(pub))
		goto out;
	if (!zmq_z85_encode(pub_z85, pub, sizeof(pub)))
		goto out;
	r = 0;
out:
	crypto_wipe(sec, sizeof(sec));
	EVP_PKEY_free(pkey);
	return r;
}

/* Checked here rather than trusting zmq_z85_decode: older libzmq releases
 * accepted out-of-range groups and silently wrapped them. */
int crypto_z85_key_valid(const char *s)
{
	if (!s || strlen(s) != CRYPTO_Z85_KEY_LEN)
		return 0;
	for (size_t g = 0; g < CRYPTO_Z85_KEY_LEN; g += 5) {
		uint64_t v = 0;

		for (size_t i = g; i < g + 5; i++) {
			const char *c = s[i] ? strchr(s_z85_alphabet, s[i]) : NULL;

			if (!c)
				return 0;
			v = v * 85 + (uint64_t)(c - s_z85_alphabet);
		}
		if (v > UINT32_MAX)
			return 0;
	}
	return 1;
}

/* ---- UUIDv7 ----------------------------------------------------------------- */

/* Monotonic within the process (RFC 9562 §6.2, method 2): an id made in the
 * same millisecond as the previous one, or after the clock stepped back,
 * keeps the previous timestamp and increments the previous 74 random bits.
 * The outbox sends and the receiver applies in id order, so a withdrawal
 * queued in the same millisecond as its handover must sort after it
 * (design.md §4.2, §4.6). The mutex keeps that true if ids are ever made on more
 * than one thread. */
static pthread_mutex_t s_uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t s_uuid_ms, s_uuid_ra, s_uuid_rb;	/* 48, 12 and 62 bits */

static int s_uuid_fresh(uint64_t ms)
{
	uint8_t r[10];

	if (crypto_random(r, sizeof(r)) < 0)
		return -EIO;
	s_uuid_ms = ms;
	s_uuid_ra = ((uint64_t)r[0] << 8 | r[1]) & 0x0fff;
	s_uuid_rb = 0;
	for (int i = 2; i < 10; i++)
		s_uuid_rb = s_uuid_rb << 8 | r[i];
	s_uuid_rb &= (UINT64_C(1) << 62) - 1;
	return 0;
}

void crypto_uuidv7_reset(void)
{
	pthread_mutex_lock(&s_uuid_lock);
	s_uuid_ms = s_uuid_ra = s_uuid_rb = 0;
	pthread_mutex_unlock(&s_uuid_lock);
}

int crypto_uuidv7(char out[CRYPTO_UUID_STR_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	struct timespec ts;
	uint8_t b[16];
	uint64_t ms, ra, rb;
	size_t o = 0;
	int r = 0;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 0)
		return -EIO;
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	pthread_mutex_lock(&s_uuid_lock);
	if (ms > s_uuid_ms) {
		r = s_uuid_fresh(ms);
	} else if (++s_uuid_rb >> 62) {
		s_uuid_rb = 0;
		if (++s_uuid_ra >> 12)			/* 2^74 ids in one ms: borrow the next */
			r = s_uuid_fresh(s_uuid_ms + 1);
	}
	ms = s_uuid_ms;
	ra = s_uuid_ra;
	rb = s_uuid_rb;
	pthread_mutex_unlock(&s_uuid_lock);
	if (r < 0)
		return r;
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (8 * (5 - i)));	/* 48-bit big-endian */
	b[6] = (uint8_t)(0x70 | (ra >> 8));		/* version 7, rand_a high */
	b[7] = (uint8_t)ra;
	b[8] = (uint8_t)(0x80 | (rb >> 56));		/* variant 10, rand_b high 6 */
	for (int i = 9; i < 16; i++)
		b[i] = (uint8_t)(rb >> (8 * (15 - i)));
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
	return 0;
}

int crypto_uuid_valid(const char *s)
{
	if (!s || strlen(s) != CRYPTO_UUID_STR_LEN)
		return 0;
	for (int i = 0; i < CRYPTO_UUID_STR_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

/* ---- Base64 ------------------------------------------------------------------ */

int crypto_b64_encode(const void *in, size_t len, char **out)
{
	char *buf;
	size_t cap;

	if (len > S_MAX_LEN / 4 * 3)
		return -EINVAL;
	cap = (len + 2) / 3 * 4 + 1;
	if (!(buf = malloc(cap)))
		return -ENOMEM;
	if (len)
		EVP_EncodeBlock((unsigned char *)buf, in, (int)len);
	buf[cap - 1] = '\0';
	*out = buf;
	return 0;
}

/* Value of a base64 alphabet character, or -1. */
static int s_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Number of '=' pads (0..2) when s is strict canonical base64, else -1.
 * EVP_DecodeBlock alone is too lenient: it skips surrounding whitespace and
 * takes '=' anywhere as a zero digit. The unused low bits before padding must
 * be zero so that every byte string has exactly one accepted encoding. */
static int s_b64_check(const char *s, size_t n)
{
	int pad = 0;

	if (n % 4 != 0)
		return -1;
	if (n >= 1 && s[n - 1] == '=')
		pad = (n >= 2 && s[n - 2] == '=') ? 2 : 1;
	for (size_t i = 0; i < n - (size_t)pad; i++)
		if (s_b64_value(s[i]) < 0)
			return -1;
	if (pad == 1 && (s_b64_value(s[n - 2]) & 0x03))
		return -1;
	if (pad == 2 && (s_b64_value(s[n - 3]) & 0x0f))
		return -1;
	return pad;
}

int crypto_b64_decode(const char *in, uint8_t **out, size_t *out_len)
{
	uint8_t *buf;
	size_t n;
	int pad, got = 0;

	if (!in)
		return -EINVAL;
	n = strlen(in);
	if (n > S_MAX_LEN || (pad = s_b64_check(in, n)) < 0)
		return -EINVAL;
	/* +1 keeps malloc(0) out and leaves room for a convenience NUL. */
	if (!(buf = malloc(n / 4 * 3 + 1)))
		return -ENOMEM;
	if (n && (got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n)) < 0) {
		crypto_wipe(buf, n / 4 * 3 + 1);	/* may hold part of a secret */
		free(buf);
		return -EINVAL;
	}
	/* DecodeBlock counts each '=' as a decoded zero byte. */
	got -= pad;
	buf[got] = '\0';
	*out = buf;
	*out_len = (size_t)got;
	return 0;
}

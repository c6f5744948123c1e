/* crypto: every cryptographic primitive overstap uses, all from OpenSSL 3:
 * AES-256-GCM for personal data and key wrapping, HMAC-SHA256 for pseudonyms
 * and the audit chain, HKDF for sub-keys, Ed25519 for evidence of origin,
 * X25519 key generation for ZeroMQ CURVE, and UUIDv7 message ids. */
#ifndef OVERSTAP_CRYPTO_H
#define OVERSTAP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN 32
#define CRYPTO_NONCE_LEN 12
#define CRYPTO_TAG_LEN 16
#define CRYPTO_SEAL_OVERHEAD (CRYPTO_NONCE_LEN + CRYPTO_TAG_LEN)
#define CRYPTO_SIG_LEN 64
#define CRYPTO_SIGN_KEY_LEN 32	/* Ed25519 seed and public key are both 32 bytes */
#define CRYPTO_Z85_KEY_LEN 40	/* CURVE key in Z85 text, without the NUL */
#define CRYPTO_UUID_STR_LEN 36	/* 8-4-4-4-12, without the NUL */

/* Fill buf with n bytes from OpenSSL's CSPRNG. 0 or -EIO. */
int crypto_random(void *buf, size_t n);

/* Wipe a secret (OPENSSL_cleanse: not optimised away). */
void crypto_wipe(void *p, size_t n);

/* AES-256-GCM with a fresh random 96-bit nonce. Output layout:
 * nonce(12) || ciphertext(pt_len) || tag(16); *out is malloc'ed, caller frees.
 * aad (may be NULL/0) binds the ciphertext to its context (table, row key) so a
 * ciphertext cannot be moved to another row. 0, -ENOMEM, -EIO. */
int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
		const void *pt, size_t pt_len, uint8_t **out, size_t *out_len);

/* Inverse of crypto_seal. -EBADMSG when the tag does not verify (wrong key,
 * tampered data, wrong aad) or ct is shorter than the overhead. *out is
 * malloc'ed (one extra NUL byte appended for convenience, not counted). */
int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
		const uint8_t *ct, size_t ct_len, uint8_t **out, size_t *out_len);

/* HMAC-SHA256(key, data) into out[32]. 0 or -EIO. */
int crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
		       uint8_t out[32]);

/* SHA-256 of data: 0 or -EIO. */
int crypto_sha256(const void *data, size_t len, uint8_t out[32]);

/* HKDF-SHA256 from a 32-byte input key with `label` as info (no salt) into
 * out[32]: derives independent sub-keys (pseudonym key, audit key) from the
 * master key. 0 or -EIO. */
int crypto_hkdf(const uint8_t ikm[CRYPTO_KEY_LEN], const char *label, uint8_t out[CRYPTO_KEY_LEN]);

/* Ed25519. A sigkey holds a parsed OpenSSL key so that signing and verifying do
 * not re-parse it for every message. */
typedef struct crypto_sigkey crypto_sigkey;

/* New Ed25519 keypair: seed (private) and public key, 32 bytes each. */
int crypto_sign_keygen(uint8_t seed[CRYPTO_SIGN_KEY_LEN], uint8_t pub[CRYPTO_SIGN_KEY_LEN]);
/* Public half of a seed. */
int crypto_sign_public(const uint8_t seed[CRYPTO_SIGN_KEY_LEN], uint8_t pub[CRYPTO_SIGN_KEY_LEN]);
/* Caller owns the result; free with crypto_sigkey_free. NULL on error. */
crypto_sigkey *crypto_sigkey_new_private(const uint8_t seed[CRYPTO_SIGN_KEY_LEN]);
crypto_sigkey *crypto_sigkey_new_public(const uint8_t pub[CRYPTO_SIGN_KEY_LEN]);
void crypto_sigkey_free(crypto_sigkey **k);
/* The raw 32-byte public half of k (borrowed, lives as long as k). */
const uint8_t *crypto_sigkey_public(const crypto_sigkey *k);
/* Sign msg with a private sigkey into sig[64]. 0, -EINVAL (public-only key), -EIO. */
int crypto_sign(crypto_sigkey *k, const void *msg, size_t len, uint8_t sig[CRYPTO_SIG_LEN]);
/* 0 when sig is a valid signature of msg by k, -EBADMSG when not. */
int crypto_verify(crypto_sigkey *k, const void *msg, size_t len, const uint8_t *sig, size_t sig_len);

/* New CURVE (X25519) keypair generated with OpenSSL, Z85-encoded as libzmq
 * expects; each buffer gets 40 characters plus a NUL. */
int crypto_curve_keygen(char pub_z85[CRYPTO_Z85_KEY_LEN + 1], char sec_z85[CRYPTO_Z85_KEY_LEN + 1]);
/* Public key of a Z85 secret key (X25519 base-point multiplication). */
int crypto_curve_public(const char *sec_z85, char pub_z85[CRYPTO_Z85_KEY_LEN + 1]);
/* True when s is exactly 40 valid Z85 characters that decode to 32 bytes. */
int crypto_z85_key_valid(const char *s);

/* UUID version 7 (RFC 9562): 48-bit unix-ms timestamp then random bits, in the
 * canonical lower-case 8-4-4-4-12 text form. Time-ordered, so sqlite inserts
 * keyed on it append to the B-tree instead of splitting pages at random. */
int crypto_uuidv7(char out[CRYPTO_UUID_STR_LEN + 1]);
/* Forget the last id made, so the next one starts afresh from the clock and
 * the random source. For a test harness that replays a frozen clock and a
 * seeded random source and must get the same ids on every replay
 * (tests/unit/fault.c); the daemon never calls it. */
void crypto_uuidv7_reset(void);

/* Drop the calling thread's pool of seal nonces (crypto.c): the next seal
 * draws from RAND_bytes afresh. Done in a child of fork; for tests that
 * make the random stream repeatable (tests/unit/fault.c). */
void crypto_nonce_reset(void);

/* True when s is a canonical lower-case UUID text (any version). */
int crypto_uuid_valid(const char *s);

/* Base64 (standard alphabet, padded, no newlines). encode: *out malloc'ed and
 * NUL-terminated. decode: returns -EINVAL for malformed input; *out malloc'ed. */
int crypto_b64_encode(const void *in, size_t len, char **out);
int crypto_b64_decode(const char *in, uint8_t **out, size_t *out_len);

/* crypto_seal with a nonce the caller drew from crypto_random (a fresh one
 * per seal under a key, as crypto_seal draws it): the same layout, opened
 * by crypto_open. For a caller that draws a key and its nonces in one
 * call (issue 14: each RAND_bytes costs a getpid and a lock). Thread-safe. */
int crypto_seal_nonce(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_NONCE_LEN],
		      const void *aad, size_t aad_len, const void *pt, size_t pt_len, uint8_t **out,
		      size_t *out_len);

#endif

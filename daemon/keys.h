/* keys: an institution's key files in one directory.
 *   curve.pub   CURVE public key, Z85 (40 chars) + newline      mode 0644
 *   curve.key   CURVE secret key, Z85                           mode 0600
 *   sign.pub    Ed25519 public key, base64 of 32 bytes          mode 0644
 *   sign.key    Ed25519 seed, base64 of 32 bytes                mode 0600
 *   master.key  master key (wraps per-pupil keys), base64 of 32 mode 0600
 * Secret files readable by group or others are refused, naming the file. */
#ifndef OVERSTAP_KEYS_H
#define OVERSTAP_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/* The secrets, in one block from OpenSSL's secure heap: locked in memory,
 * left out of core dumps, wiped when freed (harden.h). Only through
 * struct keys. */
struct keys_secret {
	char curve_secret[CRYPTO_Z85_KEY_LEN + 1];
	uint8_t sign_seed[CRYPTO_SIGN_KEY_LEN];
	uint8_t master[CRYPTO_KEY_LEN];
};

/* A zeroed struct holds nothing; keys_load fills it, keys_clear empties it.
 * The three secret pointers point into *secret, so a struct copy shares
 * them: exactly one copy may be keys_clear'ed (as with signer). */
struct keys {
	char curve_public[CRYPTO_Z85_KEY_LEN + 1];
	uint8_t sign_public[CRYPTO_SIGN_KEY_LEN];
	char *curve_secret;			/* CRYPTO_Z85_KEY_LEN + 1 bytes in *secret */
	uint8_t *sign_seed;			/* CRYPTO_SIGN_KEY_LEN bytes in *secret */
	uint8_t *master;			/* CRYPTO_KEY_LEN bytes in *secret */
	struct keys_secret *secret;		/* owned; wiped and freed by keys_clear */
	crypto_sigkey *signer;			/* owned; parsed sign_seed */
};

/* Give an empty *k a zeroed secret block (for callers that make keys
 * themselves, as tests do; keys_load does it itself). 0, or -ENOMEM. */
int keys_secret_new(struct keys *k);

/* Create the directory (0700) if needed and write a fresh set of keys. Refuses
 * with -EEXIST (and the file named in err) when any key file exists, unless
 * force is set. err gets a human-readable reason on failure. */
int keys_generate(const char *dir, int force, char *err, size_t errlen);

/* Load all five files. -EPERM when a secret file is group/other-readable,
 * -ENOENT when missing, -EINVAL when malformed or when the public files do not
 * match the secret ones; err names the file and the problem. */
int keys_load(const char *dir, struct keys *k, char *err, size_t errlen);

/* Key rollover. keys_rotate writes a new CURVE and signing pair next to the
 * current one (curve.next.pub/.key, sign.next.pub/.key; -EEXIST when a
 * rollover is already under way, unless force). keys_load_next loads that
 * pair (master stays zero). keys_activate makes it the current pair by
 * renaming it over the old files (the old secrets are gone afterwards); the
 * daemon picks it up on reload. err gets a reason on failure. */
int keys_rotate(const char *dir, int force, char *err, size_t errlen);
int keys_load_next(const char *dir, struct keys *k, char *err, size_t errlen);
/* The end of a rollover window of `days` days that starts at now_ms: the
 * first UTC midnight at least days x 24 h later, so every peer is given the
 * same readable moment and the window is never shorter than asked (a rotate
 * at 23:59 UTC with --days 1 gave one minute when it was "days midnights
 * from now"). */
int64_t keys_rollover_until(int64_t now_ms, long days);
int keys_activate(const char *dir, char *err, size_t errlen);

/* Check only the permissions of the secret files (for `overstapd -t`). */
int keys_check_perms(const char *dir, char *err, size_t errlen);

/* Wipe and free the secrets and the signer; the struct is zeroed. Safe on a
 * zeroed or cleared struct. */
void keys_clear(struct keys *k);

/* A public key's fingerprint for people to compare over the phone, as
 * ssh-keygen -l serves: the first 80 bits of its SHA-256, in five groups of
 * four hex digits ("3f9a 01bc 7d22 e410 9b5c"). The CURVE key as its Z85
 * text (fingerprinted over its 32 raw bytes), the signing key raw. 0, or
 * -EINVAL for a key that does not decode. */
#define KEYS_FP_LEN 25	/* 24 characters and the NUL */
int keys_fingerprint_curve(const char *z85, char out[KEYS_FP_LEN]);
int keys_fingerprint_sign(const uint8_t pub[CRYPTO_SIGN_KEY_LEN], char out[KEYS_FP_LEN]);

/* Print a ready-to-paste [peer ID] config block for this institution's public
 * keys into buf (for `overstap keys show`): the fingerprints as comments
 * first, then name (NULL: a placeholder), endpoint (NULL: a placeholder) and
 * the keys. Returns 0, -ENOSPC or -ENOMEM. keys_peer_snippet is the same
 * without a name. */
int keys_peer_block(const struct keys *k, const char *institution_id, const char *name,
		    const char *endpoint, char *buf, size_t buflen);
int keys_peer_snippet(const struct keys *k, const char *institution_id, const char *endpoint,
		      char *buf, size_t buflen);

#endif

/* keys: generate, load and check an institution's five key files. */
#include "keys.h"
#include "i18n.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "util.h"

/* The key files, in the order they are checked and reported. */
enum { KF_CURVE_PUB, KF_CURVE_KEY, KF_SIGN_PUB, KF_SIGN_KEY, KF_MASTER, KF_COUNT };

static const struct {
	const char *name;	/* file name inside the key directory */
	unsigned mode;		/* mode written by keys_generate */
	int secret;		/* 1: refused when group/other can access it */
} s_files[KF_COUNT] = {
	[KF_CURVE_PUB] = { "curve.pub", 0644, 0 },
	[KF_CURVE_KEY] = { "curve.key", 0600, 1 },
	[KF_SIGN_PUB] = { "sign.pub", 0644, 0 },
	[KF_SIGN_KEY] = { "sign.key", 0600, 1 },
	[KF_MASTER] = { "master.key", 0600, 1 },
};

/* Key files are one short line; anything bigger is not a key file. */
#define S_FILE_MAX 1024

/* The reason, in the reader's language: `overstap keys` prints it to the
 * administrator (design.md §10); the daemon's start and reload, outside
 * any request, keep English. fmt is a msgid (po/xgettext.sh: s_key_fail). */
static void s_key_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void s_key_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, gettext(fmt), ap);
	va_end(ap);
}

/* During a rollover the new pair waits next to the current one as
 * curve.next.pub, curve.next.key, sign.next.pub, sign.next.key. */
static int s_path_set(const char *dir, int f, int next, char *buf, size_t len)
{
	const char *name = s_files[f].name, *dot = strchr(name, '.');
	int n = next ? snprintf(buf, len, "%s/%.*s.next%s", dir, (int)(dot - name), name, dot)
		     : snprintf(buf, len, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

static int s_path(const char *dir, int f, char *buf, size_t len)
{
	return s_path_set(dir, f, 0, buf, len);
}

/* Read a key file into buf with trailing whitespace removed. The heap copy is
 * wiped because the file may be a secret one. */
static int s_read_trimmed(const char *path, char *buf, size_t buflen, char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	r = file_read_all(path, S_FILE_MAX, &data, &len);
	if (r == -EFBIG) {
		s_key_fail(err, errlen, "%s: too large for a key file", path);
		return -EINVAL;
	}
	if (r < 0) {
		s_key_fail(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	while (len > 0 && strchr(" \t\r\n\v\f", data[len - 1]))
		data[--len] = '\0';
	r = 0;
	if (strlen(data) != len || str_copy(buf, buflen, data) < 0) {
		s_key_fail(err, errlen, "%s: malformed key file", path);
		r = -EINVAL;
	}
	crypto_wipe(data, len);
	free(data);
	return r;
}

/* Read a file holding base64 of exactly 32 bytes into out. */
static int s_read_b64_32(const char *path, uint8_t out[32], char *err, size_t errlen)
{
	char text[64];
	uint8_t *raw = NULL;
	size_t n = 0;
	int r;

	if ((r = s_read_trimmed(path, text, sizeof(text), err, errlen)) < 0)
		goto out;
	r = crypto_b64_decode(text, &raw, &n);
	if (r == -EINVAL || (r == 0 && n != 32)) {
		s_key_fail(err, errlen, "%s: expected base64 of 32 bytes", path);
		r = -EINVAL;
		goto out;
	}
	if (r < 0) {
		s_key_fail(err, errlen, "%s: %s", path, strerror(-r));
		goto out;
	}
	memcpy(out, raw, 32);
out:
	crypto_wipe(text, sizeof(text));
	if (raw) {
		crypto_wipe(raw, n);
		free(raw);
	}
	return r;
}

int keys_check_perms(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	for (int f = 0; f < KF_COUNT; f++) {
		if (!s_files[f].secret)
			continue;
		if ((r = s_path(dir, f, path, sizeof(path))) < 0) {
			s_key_fail(err, errlen, "%s: path too long", dir);
			return r;
		}
		if (stat(path, &st) < 0) {
			r = -errno;
			s_key_fail(err, errlen, "%s: %s", path, strerror(-r));
			return r;
		}
		if (!S_ISREG(st.st_mode)) {
			s_key_fail(err, errlen, "%s: not a regular file", path);
			return -EINVAL;
		}
		if ((st.st_mode & 077) != 0) {
			s_key_fail(err, errlen, "%s: secret key file is readable by group or others "
			      "(mode %04o); run: chmod 600 %s",
			      path, (unsigned)(st.st_mode & 07777), path);
			return -EPERM;
		}
	}
	return 0;
}

/* curve.key, then curve.pub checked against the public key derived from it. */
static int s_load_curve(const char *dir, int next, struct keys *k, char *err, size_t errlen)
{
	char path[PATH_MAX], derived[CRYPTO_Z85_KEY_LEN + 1];
	int r;

	if ((r = s_path_set(dir, KF_CURVE_KEY, next, path, sizeof(path))) < 0 ||
	    (r = s_read_trimmed(path, k->curve_secret, CRYPTO_Z85_KEY_LEN + 1, err, errlen)) < 0)
		return r;
	if (!crypto_z85_key_valid(k->curve_secret)) {
		s_key_fail(err, errlen, "%s: expected a 40-character Z85 CURVE key", path);
		return -EINVAL;
	}
	if ((r = crypto_curve_public(k->curve_secret, derived)) < 0) {
		s_key_fail(err, errlen, "%s: cannot derive the public key", path);
		return r;
	}
	if ((r = s_path_set(dir, KF_CURVE_PUB, next, path, sizeof(path))) < 0 ||
	    (r = s_read_trimmed(path, k->curve_public, sizeof(k->curve_public), err, errlen)) < 0)
		return r;
	if (!crypto_z85_key_valid(k->curve_public)) {
		s_key_fail(err, errlen, "%s: expected a 40-character Z85 CURVE key", path);
		return -EINVAL;
	}
	if (strcmp(derived, k->curve_public) != 0) {
		s_key_fail(err, errlen, "%s: does not match its secret key", path);
		return -EINVAL;
	}
	return 0;
}

/* sign.key, then sign.pub checked against the public key derived from it. */
static int s_load_sign(const char *dir, int next, struct keys *k, char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint8_t derived[CRYPTO_SIGN_KEY_LEN];
	int r;

	if ((r = s_path_set(dir, KF_SIGN_KEY, next, path, sizeof(path))) < 0 ||
	    (r = s_read_b64_32(path, k->sign_seed, err, errlen)) < 0)
		return r;
	if ((r = crypto_sign_public(k->sign_seed, derived)) < 0) {
		s_key_fail(err, errlen, "%s: cannot derive the public key", path);
		return r;
	}
	if ((r = s_path_set(dir, KF_SIGN_PUB, next, path, sizeof(path))) < 0 ||
	    (r = s_read_b64_32(path, k->sign_public, err, errlen)) < 0)
		return r;
	if (memcmp(derived, k->sign_public, sizeof(derived)) != 0) {
		s_key_fail(err, errlen, "%s: does not match its secret key", path);
		return -EINVAL;
	}
	if (!(k->signer = crypto_sigkey_new_private(k->sign_seed))) {
		s_key_fail(err, errlen, "%s: cannot load the signing key", path);
		return -EIO;
	}
	return 0;
}

/* Loads into a scratch struct so that *k is only replaced by a complete,
 * consistent set: on failure *k is untouched. *k must not hold a loaded set
 * (keys_clear it first), or its signer leaks. */
int keys_load(const char *dir, struct keys *k, char *err, size_t errlen)
{
	struct keys t = { 0 };
	char path[PATH_MAX];
	int r;

	if ((r = keys_check_perms(dir, err, errlen)) < 0)
		goto out;
	if ((r = keys_secret_new(&t)) < 0) {
		s_key_fail(err, errlen, "no memory for the keys (secure heap full?)");
		goto out;
	}
	if ((r = s_load_curve(dir, 0, &t, err, errlen)) < 0)
		goto out;
	if ((r = s_load_sign(dir, 0, &t, err, errlen)) < 0)
		goto out;
	if ((r = s_path(dir, KF_MASTER, path, sizeof(path))) < 0 ||
	    (r = s_read_b64_32(path, t.master, err, errlen)) < 0)
		goto out;
	*k = t;
	t = (struct keys){ 0 }; /* transferred */
	r = 0;
out:
	if (r == -ENAMETOOLONG)
		s_key_fail(err, errlen, "%s: path too long", dir);
	keys_clear(&t);
	return r;
}

int keys_load_next(const char *dir, struct keys *k, char *err, size_t errlen)
{
	struct keys t = { 0 };
	int r;

	if ((r = keys_secret_new(&t)) < 0) {
		s_key_fail(err, errlen, "no memory for the keys (secure heap full?)");
		goto out;
	}
	if ((r = s_load_curve(dir, 1, &t, err, errlen)) < 0 ||
	    (r = s_load_sign(dir, 1, &t, err, errlen)) < 0)
		goto out;
	*k = t;
	t = (struct keys){ 0 }; /* transferred */
out:
	keys_clear(&t);
	return r;
}

/* OPENSSL_secure_zalloc falls back to the ordinary heap when there is no
 * secure heap (tests, or harden_secure_heap failed); the _clear_free wipes
 * either way. */
int keys_secret_new(struct keys *k)
{
	struct keys_secret *sec = OPENSSL_secure_zalloc(sizeof(*sec));

	if (!sec)
		return -ENOMEM;
	k->secret = sec;
	k->curve_secret = sec->curve_secret;
	k->sign_seed = sec->sign_seed;
	k->master = sec->master;
	return 0;
}

void keys_clear(struct keys *k)
{
	if (!k)
		return;
	crypto_sigkey_free(&k->signer);
	if (k->secret)
		OPENSSL_secure_clear_free(k->secret, sizeof(*k->secret));
	crypto_wipe(k, sizeof(*k));
}

/* Create dir with mode 0700 unless it exists; an existing directory keeps its
 * mode, since the operator may have chosen it deliberately. */
static int s_make_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int r;

	if (mkdir(dir, 0700) == 0)
		return 0;
	r = -errno;
	if (r == -EEXIST) {
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		r = -ENOTDIR;
	}
	s_key_fail(err, errlen, "%s: cannot create key directory: %s", dir, strerror(-r));
	return r;
}

static int s_refuse_existing(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;

	for (int f = 0; f < KF_COUNT; f++) {
		if (s_path(dir, f, path, sizeof(path)) < 0) {
			s_key_fail(err, errlen, "%s: path too long", dir);
			return -ENAMETOOLONG;
		}
		if (lstat(path, &st) == 0) {
			s_key_fail(err, errlen, "%s: key file already exists; refusing to overwrite it",
			      path);
			return -EEXIST;
		}
		if (errno != ENOENT) {
			int r = -errno;

			s_key_fail(err, errlen, "%s: %s", path, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* "<base64 of 32 bytes>\n" into line. */
static int s_b64_line(const uint8_t raw[32], char *line, size_t linelen)
{
	char *b64 = NULL;
	int r;

	if ((r = crypto_b64_encode(raw, 32, &b64)) < 0)
		return r;
	if ((size_t)snprintf(line, linelen, "%s\n", b64) >= linelen)
		r = -ENOSPC;
	crypto_wipe(b64, strlen(b64));
	free(b64);
	return r;
}

/* Fresh keys, already in file form: one line per file. */
static int s_fresh_contents(char text[KF_COUNT][64])
{
	char pub[CRYPTO_Z85_KEY_LEN + 1], sec[CRYPTO_Z85_KEY_LEN + 1];
	uint8_t seed[CRYPTO_SIGN_KEY_LEN], spub[CRYPTO_SIGN_KEY_LEN], master[CRYPTO_KEY_LEN];
	int r;

	if ((r = crypto_curve_keygen(pub, sec)) < 0 ||
	    (r = crypto_sign_keygen(seed, spub)) < 0 ||
	    (r = crypto_random(master, sizeof(master))) < 0)
		goto out;
	snprintf(text[KF_CURVE_PUB], 64, "%s\n", pub);
	snprintf(text[KF_CURVE_KEY], 64, "%s\n", sec);
	if ((r = s_b64_line(spub, text[KF_SIGN_PUB], 64)) < 0 ||
	    (r = s_b64_line(seed, text[KF_SIGN_KEY], 64)) < 0 ||
	    (r = s_b64_line(master, text[KF_MASTER], 64)) < 0)
		goto out;
	r = 0;
out:
	crypto_wipe(sec, sizeof(sec));
	crypto_wipe(seed, sizeof(seed));
	crypto_wipe(master, sizeof(master));
	return r;
}

int keys_generate(const char *dir, int force, char *err, size_t errlen)
{
	char text[KF_COUNT][64] = { { 0 } }, path[PATH_MAX];
	int r;

	if ((r = s_make_dir(dir, err, errlen)) < 0)
		goto out;
	if (!force && (r = s_refuse_existing(dir, err, errlen)) < 0)
		goto out;
	if ((r = s_fresh_contents(text)) < 0) {
		s_key_fail(err, errlen, "cannot generate keys: %s", strerror(-r));
		goto out;
	}
	/* Each file is replaced atomically but the set is not: a failure part way
	 * leaves old and new files mixed, which keys_load reports as a mismatch. */
	for (int f = 0; f < KF_COUNT; f++) {
		if ((r = s_path(dir, f, path, sizeof(path))) < 0) {
			s_key_fail(err, errlen, "%s: path too long", dir);
			goto out;
		}
		r = file_write_atomic(path, text[f], strlen(text[f]), s_files[f].mode);
		if (r < 0) {
			s_key_fail(err, errlen, "%s: cannot write: %s", path, strerror(-r));
			goto out;
		}
	}
	r = 0;
out:
	crypto_wipe(text, sizeof(text));
	return r;
}

/* Write the next pair (curve.next.*, sign.next.*) with the same modes as the
 * current files. */
int keys_rotate(const char *dir, int force, char *err, size_t errlen)
{
	static const int which[] = { KF_CURVE_PUB, KF_CURVE_KEY, KF_SIGN_PUB, KF_SIGN_KEY };
	char text[KF_COUNT][64] = { { 0 } }, path[PATH_MAX];
	struct stat st;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(which) && !force; i++) {
		if ((r = s_path_set(dir, which[i], 1, path, sizeof(path))) < 0)
			goto toolong;
		if (lstat(path, &st) == 0) {
			s_key_fail(err, errlen, "%s exists: a rollover is already under way", path);
			return -EEXIST;
		}
	}
	if ((r = s_fresh_contents(text)) < 0) {
		s_key_fail(err, errlen, "cannot generate keys: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(which); i++) {
		if ((r = s_path_set(dir, which[i], 1, path, sizeof(path))) < 0)
			goto toolong;
		r = file_write_atomic(path, text[which[i]], strlen(text[which[i]]),
				      s_files[which[i]].mode);
		if (r < 0) {
			s_key_fail(err, errlen, "%s: cannot write: %s", path, strerror(-r));
			goto out;
		}
	}
	r = 0;
	goto out;
toolong:
	s_key_fail(err, errlen, "%s: path too long", dir);
out:
	crypto_wipe(text, sizeof(text));
	return r;
}

/* Secret files first: a crash between the renames leaves a new secret with
 * an old public file, which keys_load reports as a mismatch, never a set
 * that loads but is wrong. */
int keys_activate(const char *dir, char *err, size_t errlen)
{
	static const int order[] = { KF_CURVE_KEY, KF_SIGN_KEY, KF_CURVE_PUB, KF_SIGN_PUB };
	struct keys t = { 0 };
	char from[PATH_MAX], to[PATH_MAX];
	int r;

	if ((r = keys_load_next(dir, &t, err, errlen)) < 0)
		return r;
	keys_clear(&t);
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (s_path_set(dir, order[i], 1, from, sizeof(from)) < 0 ||
		    s_path(dir, order[i], to, sizeof(to)) < 0) {
			s_key_fail(err, errlen, "%s: path too long", dir);
			return -ENAMETOOLONG;
		}
		if (rename(from, to) < 0) {
			r = -errno;
			s_key_fail(err, errlen, "cannot rename %s to %s: %s", from, to, strerror(-r));
			return r;
		}
	}
	return file_sync_parent(to);
}

/* Also -EINVAL without an institution id, and -ENOMEM (base64 allocates). */
static int s_fingerprint(const uint8_t *raw, size_t len, char out[KEYS_FP_LEN])
{
	uint8_t h[32];

	if (crypto_sha256(raw, len, h) < 0)
		return -EIO;
	snprintf(out, KEYS_FP_LEN, "%02x%02x %02x%02x %02x%02x %02x%02x %02x%02x", h[0], h[1], h[2],
		 h[3], h[4], h[5], h[6], h[7], h[8], h[9]);
	return 0;
}

int keys_fingerprint_curve(const char *z85, char out[KEYS_FP_LEN])
{
	uint8_t raw[32];

	if (!crypto_z85_key_valid(z85) || !zmq_z85_decode(raw, z85))
		return -EINVAL;
	return s_fingerprint(raw, sizeof(raw), out);
}

int keys_fingerprint_sign(const uint8_t pub[CRYPTO_SIGN_KEY_LEN], char out[KEYS_FP_LEN])
{
	return s_fingerprint(pub, CRYPTO_SIGN_KEY_LEN, out);
}

int keys_peer_block(const struct keys *k, const char *institution_id, const char *name,
		    const char *endpoint, char *buf, size_t buflen)
{
	char *sign_b64 = NULL, fp_curve[KEYS_FP_LEN], fp_sign[KEYS_FP_LEN];
	int n, r;

	if (!institution_id)
		return -EINVAL;
	if (!buf || buflen == 0)
		return -ENOSPC;
	if ((r = keys_fingerprint_curve(k->curve_public, fp_curve)) < 0 ||
	    (r = keys_fingerprint_sign(k->sign_public, fp_sign)) < 0)
		return r;
	if ((r = crypto_b64_encode(k->sign_public, sizeof(k->sign_public), &sign_b64)) < 0)
		return r;
	if (!endpoint || !*endpoint)
		endpoint = "tcp://HOST:7470";
	/* The fingerprints lead, so that whoever pastes the block reads them
	 * first and compares them with the sender over another channel. */
	n = snprintf(buf, buflen,
		     "# %s: compare these fingerprints with its administrator over the phone\n"
		     "# (overstap keys show there prints the same) before you trust this block.\n"
		     "#   curve_public_key  %s\n"
		     "#   sign_public_key   %s\n"
		     "[peer %s]\n"
		     "name = %s\n"
		     "endpoint = %s\n"
		     "curve_public_key = %s\n"
		     "sign_public_key = %s\n",
		     institution_id, fp_curve, fp_sign, institution_id,
		     name && *name ? name : "(fill in)", endpoint, k->curve_public, sign_b64);
	free(sign_b64);
	return (n < 0 || (size_t)n >= buflen) ? -ENOSPC : 0;
}

int keys_peer_snippet(const struct keys *k, const char *institution_id, const char *endpoint,
		      char *buf, size_t buflen)
{
	return keys_peer_block(k, institution_id, NULL, endpoint, buf, buflen);
}

int64_t keys_rollover_until(int64_t now_ms, long days)
{
	const int64_t day = 86400LL * 1000;
	int64_t end = now_ms + (int64_t)days * day;

	return (end + day - 1) / day * day;
}

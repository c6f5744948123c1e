/* test_keys: key files as an operator meets them: generate, load, bad modes, mismatches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "keys.h"
#include "util.h"

static const char *const s_names[] = { "curve.pub", "curve.key", "sign.pub", "sign.key",
				       "master.key" };
static const char *const s_secret[] = { "curve.key", "sign.key", "master.key" };

/* Per-test scratch: a fresh directory under /tmp; keys live in <base>/keys so
 * that keys_generate has to create the directory itself. */
struct ctx {
	char base[64];		/* mkdtemp result, removed in teardown */
	char dir[96];		/* <base>/keys */
	char err[512];		/* err buffer passed to keys_* */
};

static int s_setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	strcpy(c->base, "/tmp/test_keys.XXXXXX");
	if (!mkdtemp(c->base)) {
		free(c);
		return -1;
	}
	snprintf(c->dir, sizeof(c->dir), "%s/keys", c->base);
	*state = c;
	return 0;
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int s_teardown(void **state)
{
	struct ctx *c = *state;
	int r = nftw(c->base, s_rm, 16, FTW_DEPTH | FTW_PHYS);

	free(c);
	return r;
}

static const char *s_file(struct ctx *c, const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	return path;
}

static void s_put(struct ctx *c, const char *name, const char *text, unsigned mode)
{
	assert_int_equal(file_write_atomic(s_file(c, name), text, strlen(text), mode), 0);
}

/* noinline: inlined at -O3, GCC 12 takes the address of this function's
 * local `text` (passed to file_read_all) for the pointer returned and warns
 * -Wdangling-pointer at every use in the caller: a false positive that broke
 * the Release build. */
__attribute__((noinline)) static char *s_get(struct ctx *c, const char *name)
{
	char *text = NULL;

	assert_int_equal(file_read_all(s_file(c, name), 4096, &text, NULL), 0);
	return text;
}

static void s_generate(struct ctx *c)
{
	assert_int_equal(keys_generate(c->dir, 0, c->err, sizeof(c->err)), 0);
}

static void s_assert_mode(const char *path, unsigned mode)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static int s_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_generate_load_roundtrip(void **state)
{
	struct ctx *c = *state;
	struct keys k = { 0 };
	char derived[CRYPTO_Z85_KEY_LEN + 1], *text;
	uint8_t pub[CRYPTO_SIGN_KEY_LEN], zero[CRYPTO_KEY_LEN] = { 0 }, sig[CRYPTO_SIG_LEN];
	crypto_sigkey *verifier;

	s_generate(c);
	s_assert_mode(c->dir, 0700);
	for (size_t i = 0; i < 5; i++) {
		int secret = strstr(s_names[i], ".key") != NULL;

		s_assert_mode(s_file(c, s_names[i]), secret ? 0600 : 0644);
		/* One line each, newline-terminated. */
		text = s_get(c, s_names[i]);
		assert_int_equal(strchr(text, '\n') - text, (ptrdiff_t)strlen(text) - 1);
		free(text);
	}
	assert_int_equal(s_count_entries(c->dir), 5);

	assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), 0);
	assert_true(crypto_z85_key_valid(k.curve_public));
	assert_int_equal(crypto_curve_public(k.curve_secret, derived), 0);
	assert_string_equal(derived, k.curve_public);
	text = s_get(c, "curve.pub");
	assert_memory_equal(text, k.curve_public, CRYPTO_Z85_KEY_LEN);
	free(text);
	assert_int_equal(crypto_sign_public(k.sign_seed, pub), 0);
	assert_memory_equal(pub, k.sign_public, sizeof(pub));
	assert_memory_not_equal(k.master, zero, sizeof(zero));

	/* The loaded signer signs; the published public key verifies. */
	assert_non_null(k.signer);
	assert_int_equal(crypto_sign(k.signer, "hello", 5, sig), 0);
	verifier = crypto_sigkey_new_public(k.sign_public);
	assert_int_equal(crypto_verify(verifier, "hello", 5, sig, sizeof(sig)), 0);
	crypto_sigkey_free(&verifier);

	keys_clear(&k);
	assert_null(k.signer);
	assert_null(k.secret);
	assert_null(k.master);
	assert_null(k.sign_seed);
	assert_null(k.curve_secret);
	keys_clear(&k);		/* twice is fine */
}

static void test_generate_twice_eexist(void **state)
{
	struct ctx *c = *state;
	char *before, *after;

	s_generate(c);
	before = s_get(c, "sign.key");
	assert_int_equal(keys_generate(c->dir, 0, c->err, sizeof(c->err)), -EEXIST);
	assert_non_null(strstr(c->err, s_file(c, "curve.pub")));
	after = s_get(c, "sign.key");
	assert_string_equal(before, after);	/* nothing was overwritten */
	free(after);

	assert_int_equal(keys_generate(c->dir, 1, c->err, sizeof(c->err)), 0);
	after = s_get(c, "sign.key");
	assert_string_not_equal(before, after);	/* force: a fresh key */
	s_assert_mode(s_file(c, "sign.key"), 0600);
	free(before);
	free(after);
}

/* Any one existing file is enough to refuse, and that file is named. */
static void test_generate_refuses_each_existing(void **state)
{
	struct ctx *c = *state;
	struct stat st;

	assert_int_equal(mkdir(c->dir, 0700), 0);
	for (size_t i = 0; i < 5; i++) {
		s_put(c, s_names[i], "x\n", 0600);
		assert_int_equal(keys_generate(c->dir, 0, c->err, sizeof(c->err)), -EEXIST);
		assert_non_null(strstr(c->err, s_file(c, s_names[i])));
		for (size_t j = 0; j < 5; j++)
			if (j != i)
				assert_int_equal(stat(s_file(c, s_names[j]), &st), -1);
		assert_int_equal(unlink(s_file(c, s_names[i])), 0);
	}
}

static void test_generate_dir_problems(void **state)
{
	struct ctx *c = *state;
	char path[PATH_MAX];

	/* An existing directory is used as it is. */
	assert_int_equal(mkdir(c->dir, 0700), 0);
	s_generate(c);
	/* A file where the directory should be. */
	snprintf(path, sizeof(path), "%s/plainfile", c->base);
	assert_int_equal(file_write_atomic(path, "x", 1, 0600), 0);
	assert_int_equal(keys_generate(path, 0, c->err, sizeof(c->err)), -ENOTDIR);
	assert_non_null(strstr(c->err, path));
	/* A missing parent directory. */
	snprintf(path, sizeof(path), "%s/no/such", c->base);
	assert_int_equal(keys_generate(path, 0, c->err, sizeof(c->err)), -ENOENT);
	assert_non_null(strstr(c->err, path));
}

/* Each secret file in turn, with each kind of group/other access. */
static void test_load_refuses_open_modes(void **state)
{
	static const unsigned modes[] = { 0640, 0604, 0620, 0601, 0644 };
	struct ctx *c = *state;
	struct keys k = { 0 };
	char want[PATH_MAX + 64], mode[16];

	s_generate(c);
	for (size_t i = 0; i < 3; i++) {
		const char *path = s_file(c, s_secret[i]);

		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			assert_int_equal(chmod(path, modes[m]), 0);
			assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), -EPERM);
			assert_null(k.signer);
			assert_true(strncmp(c->err, path, strlen(path)) == 0);
			snprintf(mode, sizeof(mode), "(mode %04o)", modes[m]);
			assert_non_null(strstr(c->err, mode));
			snprintf(want, sizeof(want), "run: chmod 600 %s", path);
			assert_non_null(strstr(c->err, want));
			assert_int_equal(keys_check_perms(c->dir, c->err, sizeof(c->err)), -EPERM);
			assert_non_null(strstr(c->err, want));
		}
		assert_int_equal(chmod(path, 0600), 0);
		assert_int_equal(keys_check_perms(c->dir, c->err, sizeof(c->err)), 0);
	}
	/* Stricter than 0600 is fine; public files may be world-readable. */
	assert_int_equal(chmod(s_file(c, "master.key"), 0400), 0);
	assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), 0);
	keys_clear(&k);
}

static void test_load_public_mismatch(void **state)
{
	struct ctx *c = *state;
	struct keys k = { 0 };
	char pub[41], sec[41], line[64], *orig, *b64 = NULL;
	uint8_t seed[32], spub[32];

	s_generate(c);
	/* curve.pub from another, valid key pair. */
	orig = s_get(c, "curve.pub");
	assert_int_equal(crypto_curve_keygen(pub, sec), 0);
	snprintf(line, sizeof(line), "%s\n", pub);
	s_put(c, "curve.pub", line, 0644);
	assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), -EINVAL);
	assert_non_null(strstr(c->err, s_file(c, "curve.pub")));
	assert_non_null(strstr(c->err, "does not match"));
	s_put(c, "curve.pub", orig, 0644);
	free(orig);
	assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), 0);
	keys_clear(&k);

	/* sign.pub from another, valid key pair. */
	assert_int_equal(crypto_sign_keygen(seed, spub), 0);
	assert_int_equal(crypto_b64_encode(spub, 32, &b64), 0);
	s_put(c, "sign.pub", b64, 0644);
	free(b64);
	assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), -EINVAL);
	assert_non_null(strstr(c->err, s_file(c, "sign.pub")));
	assert_non_null(strstr(c->err, "does not match"));
	assert_null(k.signer);
}

static void test_load_missing(void **state)
{
	struct ctx *c = *state;
	struct keys k = { 0 };
	char away[PATH_MAX];

	assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), -ENOENT);
	s_generate(c);
	for (size_t i = 0; i < 5; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s", s_file(c, s_names[i]));
		snprintf(away, sizeof(away), "%s/away", c->base);
		assert_int_equal(rename(path, away), 0);
		assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), -ENOENT);
		assert_non_null(strstr(c->err, path));
		assert_int_equal(rename(away, path), 0);
	}
	assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), 0);
	keys_clear(&k);
}

static void test_load_malformed(void **state)
{
	static const struct {
		const char *file;	/* file to spoil */
		const char *text;	/* its new content */
		unsigned mode;
	} cases[] = {
		{ "curve.key", "tooshort\n", 0600 },
		{ "curve.key", "0123456789012345678901234567890123456789a\n", 0600 },
		{ "curve.key", "0123456789 12345678901234567890123456789\n", 0600 },
		{ "curve.pub", "not z85 at all\n", 0644 },
		{ "sign.key", "not base64!\n", 0600 },
		{ "sign.key", "AAAA\n", 0600 },				/* 3 bytes */
		{ "sign.pub", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0644 },	/* zeros: no match */
		{ "master.key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", 0600 },	/* 31 bytes */
		{ "master.key", "", 0600 },
	};
	struct ctx *c = *state;
	struct keys k = { 0 };

	s_generate(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *orig = s_get(c, cases[i].file);

		s_put(c, cases[i].file, cases[i].text, cases[i].mode);
		assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), -EINVAL);
		assert_non_null(strstr(c->err, s_file(c, cases[i].file)));
		assert_null(k.signer);
		s_put(c, cases[i].file, orig, cases[i].mode);
		free(orig);
	}
	/* A file far too big to be a key. */
	{
		char big[4096];

		memset(big, 'A', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		s_put(c, "master.key", big, 0600);
		assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), -EINVAL);
		assert_non_null(strstr(c->err, s_file(c, "master.key")));
	}
}

/* Hand-edited files may lack the newline or carry CRLF and trailing blanks. */
static void test_load_trims_whitespace(void **state)
{
	struct ctx *c = *state;
	struct keys a = { 0 }, b = { 0 };

	s_generate(c);
	assert_int_equal(keys_load(c->dir, &a, c->err, sizeof(c->err)), 0);
	for (size_t i = 0; i < 5; i++) {
		char *text = s_get(c, s_names[i]), line[128];
		int secret = strstr(s_names[i], ".key") != NULL;

		text[strcspn(text, "\n")] = '\0';
		snprintf(line, sizeof(line), "%s%s", text, i % 2 ? "" : " \t\r\n\n");
		s_put(c, s_names[i], line, secret ? 0600 : 0644);
		free(text);
	}
	assert_int_equal(keys_load(c->dir, &b, c->err, sizeof(c->err)), 0);
	assert_string_equal(a.curve_public, b.curve_public);
	assert_string_equal(a.curve_secret, b.curve_secret);
	assert_memory_equal(a.sign_seed, b.sign_seed, CRYPTO_SIGN_KEY_LEN);
	assert_memory_equal(a.master, b.master, CRYPTO_KEY_LEN);
	keys_clear(&a);
	keys_clear(&b);
}

/* A reload that fails must leave the keys in use untouched. */
static void test_load_failure_keeps_old(void **state)
{
	struct ctx *c = *state;
	struct keys k = { 0 }, snap;

	s_generate(c);
	assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), 0);
	snap = k;
	assert_int_equal(chmod(s_file(c, "sign.key"), 0644), 0);
	assert_int_equal(keys_load(c->dir, &k, c->err, sizeof(c->err)), -EPERM);
	assert_memory_equal(&snap, &k, sizeof(k));
	keys_clear(&k);
}

static void test_peer_snippet(void **state)
{
	/* The fingerprints: SHA-256 of the raw key bytes (computed apart with
	 * Python's hashlib), first 80 bits in groups of four hex digits. */
	static const char want[] =
		"# 12AB00: compare these fingerprints with its administrator over the phone\n"
		"# (overstap keys show there prints the same) before you trust this block.\n"
		"#   curve_public_key  5225 01f4 e7a6 3f61 dd77\n"
		"#   sign_public_key   21fe 31df a154 a261 626b\n"
		"[peer 12AB00]\n"
		"name = (fill in)\n"
		"endpoint = tcp://mbo.example.nl:7470\n"
		"curve_public_key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n"
		"sign_public_key = 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n";
	/* RFC 8032 test 1 public key, whose base64 is given above. */
	static const uint8_t pub[32] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64,
		0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68,
		0xf7, 0x07, 0x51, 0x1a,
	};
	struct keys k = { 0 };
	char buf[1024], fp[KEYS_FP_LEN];
	size_t need = strlen(want);

	(void)state;
	/* The public key from libzmq's CURVE documentation example. */
	strcpy(k.curve_public, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
	memcpy(k.sign_public, pub, 32);

	assert_int_equal(keys_peer_snippet(&k, "12AB00", "tcp://mbo.example.nl:7470", buf,
					   sizeof(buf)), 0);
	assert_string_equal(buf, want);
	/* Exactly enough room, then one byte too little. */
	assert_int_equal(keys_peer_snippet(&k, "12AB00", "tcp://mbo.example.nl:7470", buf,
					   need + 1), 0);
	assert_int_equal(keys_peer_snippet(&k, "12AB00", "tcp://mbo.example.nl:7470", buf,
					   need), -ENOSPC);
	assert_int_equal(keys_peer_snippet(&k, "12AB00", NULL, NULL, 0), -ENOSPC);

	/* No endpoint known: a placeholder the operator must edit. */
	assert_int_equal(keys_peer_snippet(&k, "12AB00", NULL, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\nendpoint = tcp://HOST:7470\n"));
	assert_int_equal(keys_peer_snippet(&k, "12AB00", "", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\nendpoint = tcp://HOST:7470\n"));
	/* The configured name, when there is one. */
	assert_int_equal(keys_peer_block(&k, "12AB00", "Praktijkschool De Brug", NULL, buf,
					 sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\nname = Praktijkschool De Brug\n"));
	/* A key that does not decode has no fingerprint. */
	assert_int_equal(keys_fingerprint_curve("not z85", fp), -EINVAL);
}

static void test_clear_safe(void **state)
{
	struct keys k = { 0 };

	(void)state;
	keys_clear(&k);
	keys_clear(&k);
	keys_clear(NULL);
	assert_null(k.signer);
}

/* Issue 16 item 6: `keys rotate --days 1` at 23:59 UTC gave a window of one
 * minute. The window is never shorter than asked, and ends at a UTC
 * midnight (every peer is given the same readable moment). */
static void test_rollover_until(void **state)
{
	const int64_t day = 86400LL * 1000, d0 = 1764806400000LL;	/* 2025-12-04T00:00:00Z */
	const int64_t nows[] = { d0, d0 + 1, d0 + day - 60 * 1000, d0 + day - 1, d0 + 12 * 3600 * 1000 };

	(void)state;
	for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++)
		for (long days = 1; days <= 365; days += 13) {
			int64_t until = keys_rollover_until(nows[i], days);

			assert_true(until >= nows[i] + days * day);
			assert_true(until < nows[i] + (days + 1) * day);
			assert_int_equal(until % day, 0);
		}
	/* 23:59 with one day: until the midnight after next, not in a minute */
	assert_int_equal(keys_rollover_until(d0 + day - 60 * 1000, 1), d0 + 2 * day);
	assert_int_equal(keys_rollover_until(d0, 14), d0 + 14 * day);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generate_load_roundtrip, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_generate_twice_eexist, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_generate_refuses_each_existing, s_setup,
						s_teardown),
		cmocka_unit_test_setup_teardown(test_generate_dir_problems, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_open_modes, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_load_public_mismatch, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_load_missing, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_load_malformed, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_load_trims_whitespace, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_load_failure_keeps_old, s_setup, s_teardown),
		cmocka_unit_test(test_peer_snippet),
		cmocka_unit_test(test_rollover_until),
		cmocka_unit_test(test_clear_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

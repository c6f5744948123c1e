/* test_harden: no core dumps after harden_process, keys in the locked heap after harden_secure_heap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "harden.h"
#include "keys.h"

/* Start as a careless shell would: core dumps on, as far as we may. */
static void s_dumps_on(void)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	if (rl.rlim_max == 0) {
		print_message("hard core limit already 0: raising it needs root; checking "
			      "that harden_process keeps it 0\n");
	}
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
}

static void test_process_no_dumps(void **state)
{
	struct rlimit rl;
	char err[256] = "";

	(void)state;
	s_dumps_on();
	assert_int_equal(harden_process(err, sizeof(err)), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(rl.rlim_max, 0);
	/* Twice is fine (the limit is already {0, 0}: no setrlimit then). */
	assert_int_equal(harden_process(err, sizeof(err)), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	/* And the hard limit cannot be raised again without privilege. */
	if (geteuid() != 0) {
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
		assert_int_equal(setrlimit(RLIMIT_CORE, &rl), -1);
	}
}

/* The VmFlags line of the mapping in /proc/self/smaps that holds p. */
static int s_vmflags(const void *p, char *flags, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int inside = 0, found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, len, "%s", line + 8);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_keys_in_secure_heap(void **state)
{
	char tmpl[] = "/tmp/test_harden.XXXXXX", dir[64], err[512] = "", flags[512] = "";
	struct keys k = { 0 };
	size_t used;
	int r;

	(void)state;
	r = harden_secure_heap(err, sizeof(err));
	if (r < 0)
		print_message("secure heap: %s (%d); keys must load all the same\n", err, r);
	assert_true(r == 0 || r == -ENOLCK || r == -ENOMEM);
	assert_int_equal(harden_secure_heap(err, sizeof(err)), r == -ENOMEM ? r : 0);

	assert_non_null(mkdtemp(tmpl));
	snprintf(dir, sizeof(dir), "%s/keys", tmpl);
	assert_int_equal(keys_generate(dir, 0, err, sizeof(err)), 0);
	used = CRYPTO_secure_used();
	assert_int_equal(keys_load(dir, &k, err, sizeof(err)), 0);
	assert_non_null(k.signer);
	assert_ptr_equal(k.master, k.secret->master);
	assert_ptr_equal(k.sign_seed, k.secret->sign_seed);
	assert_ptr_equal(k.curve_secret, k.secret->curve_secret);
	if (r != -ENOMEM)
		assert_true(CRYPTO_secure_allocated(k.secret));
	if (r == 0) {
		/* lo: mlock'ed (never swapped); dd: MADV_DONTDUMP. */
		assert_int_equal(s_vmflags(k.master, flags, sizeof(flags)), 0);
		print_message("secure heap VmFlags:%s", flags);
		assert_non_null(strstr(flags, " lo"));
		assert_non_null(strstr(flags, " dd"));
	}
	keys_clear(&k);
	assert_null(k.secret);
	assert_int_equal(CRYPTO_secure_used(), used);	/* all given back */

	/* A reload's second set while the first is held. */
	{
		struct keys a = { 0 }, b = { 0 };

		assert_int_equal(keys_load(dir, &a, err, sizeof(err)), 0);
		assert_int_equal(keys_load(dir, &b, err, sizeof(err)), 0);
		assert_memory_equal(a.master, b.master, CRYPTO_KEY_LEN);
		assert_ptr_not_equal(a.secret, b.secret);
		keys_clear(&a);
		keys_clear(&b);
	}
	for (const char *n = "curve.pub\0curve.key\0sign.pub\0sign.key\0master.key\0"; *n;
	     n += strlen(n) + 1) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", dir, n);
		unlink(path);
	}
	rmdir(dir);
	rmdir(tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_no_dumps),
		cmocka_unit_test(test_keys_in_secure_heap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

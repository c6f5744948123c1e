/* harden: no core dumps, and a locked heap for secrets (issue 11, item 6). */
#include "harden.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

/* Smallest secure-heap chunk; our secrets are 32 and 105 bytes. */
#define S_SECURE_MIN 32

int harden_process(char *err, size_t errlen)
{
	struct rlimit none = { 0, 0 }, cur;
	int r;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		r = -errno;
		snprintf(err, errlen, "prctl(PR_SET_DUMPABLE, 0): %s", strerror(-r));
		return r;
	}
	/* Already {0, 0} under the unit's LimitCORE=0: then no setrlimit call,
	 * which a seccomp filter denying @resources could refuse. */
	if (getrlimit(RLIMIT_CORE, &cur) == 0 && cur.rlim_cur == 0 && cur.rlim_max == 0)
		return 0;
	if (setrlimit(RLIMIT_CORE, &none) < 0) {
		r = -errno;
		snprintf(err, errlen, "setrlimit(RLIMIT_CORE, 0): %s", strerror(-r));
		return r;
	}
	return 0;
}

/* OpenSSL's secure heap rather than our own mmap + mlock + MADV_DONTDUMP:
 * it does the same (plus guard pages and a wipe on free), and OpenSSL
 * puts its own copies there too: the Ed25519 private key inside our
 * signer (EVP_PKEY) and HMAC keys, which our own allocator could not
 * reach. */
int harden_secure_heap(char *err, size_t errlen)
{
	int r;

	if (CRYPTO_secure_malloc_initialized())
		return 0;
	r = CRYPTO_secure_malloc_init(HARDEN_SECURE_HEAP, S_SECURE_MIN);
	if (r == 1)
		return 0;
	if (r == 2) {
		snprintf(err, errlen, "the secure heap for keys (%d KiB) could not be locked "
			 "into memory or excluded from core dumps (RLIMIT_MEMLOCK?): keys may "
			 "be swapped out", HARDEN_SECURE_HEAP / 1024);
		return -ENOLCK;
	}
	snprintf(err, errlen, "no secure heap for keys (OpenSSL refused %d KiB): keys are held "
		 "in ordinary memory and may be swapped out", HARDEN_SECURE_HEAP / 1024);
	return -ENOMEM;
}

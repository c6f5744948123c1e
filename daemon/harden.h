/* harden: keep a crash from writing pupils' data and our keys to disk, and
 * our keys out of swap. Process-wide by nature (a process is dumpable or not;
 * OpenSSL has one secure heap), so each function is called once, at the top
 * of main, before any secret or pupil's data is read. */
#ifndef OVERSTAP_HARDEN_H
#define OVERSTAP_HARDEN_H

#include <stddef.h>

/* Size of the locked secure heap: three key sets (keys_load's scratch, the
 * running set, a reload's new set) of ~128 bytes each, the Ed25519 private
 * keys OpenSSL keeps there, and HMAC keys while a MAC is computed, with
 * ample room; well under the 8 MiB LimitMEMLOCK default and under the old
 * 64 KiB one. A power of two, as OpenSSL requires. */
#define HARDEN_SECURE_HEAP (32 * 1024)

/* No core dumps: PR_SET_DUMPABLE 0 (no core, and no ptrace or /proc/PID/mem
 * by other processes of the same user) and RLIMIT_CORE {0, 0}, so that no
 * later exec or credential change turns them back on. 0, or -errno with the
 * failing call named in err. A failure should be fatal. */
int harden_process(char *err, size_t errlen);

/* Start OpenSSL's secure heap (mmap'ed, mlock'ed, MADV_DONTDUMP, guard
 * pages): OPENSSL_secure_zalloc then hands out locked memory, which keys.c
 * uses for our secrets and OpenSSL itself for private keys. Returns 0 when
 * the heap is up and locked (also when it already was), -ENOLCK when it is
 * up but could not be locked or excluded from dumps (RLIMIT_MEMLOCK; some
 * sanitizers), -ENOMEM when there is no secure heap (secrets then live in
 * ordinary memory, still kept out of core files by harden_process). err
 * gets the reason; a failure should be a warning, not fatal. */
int harden_secure_heap(char *err, size_t errlen);

#endif

/* fault: test-only fault injection, as SQLite tests itself ("How SQLite Is
 * Tested", STYLE 18). One counter counts the events of the armed kinds; the
 * n-th one fails. Linked only into tests/unit/test_fault_*.c, never into the
 * daemon: the allocation and sqlite3_step hooks are `ld --wrap` wrappers (see
 * tests/CMakeLists.txt), so they see the calls made from overstap_core's
 * objects and the test's own, not those inside shared libraries.
 *
 * A sweep (fault_sweep) runs an operation once to count its events, then once
 * per event with that event failing, on a fresh copy of a template store, and
 * checks the outcome: either the operation completed with the result of the
 * fault-free run, or it failed and left the store exactly as it was, with no
 * transaction open, and the same operation then succeeds. */
#ifndef OVERSTAP_TEST_FAULT_H
#define OVERSTAP_TEST_FAULT_H

#include <stddef.h>

struct store;

/* What can be made to fail. */
enum fault_kind {
	FAULT_MALLOC = 1u << 0,		/* malloc/calloc/realloc/strdup/strndup called from
					 * our code (overstap_core and the test): NULL, ENOMEM */
	FAULT_SQLITE_MALLOC = 1u << 1,	/* sqlite's own allocator (SQLITE_CONFIG_MALLOC) */
	FAULT_STEP = 1u << 2,		/* sqlite3_step from our code: SQLITE_IOERR, not stepped */
	FAULT_IO = 1u << 3,		/* VFS xWrite/xSync/xTruncate: SQLITE_IOERR_WRITE/FSYNC/
					 * TRUNCATE, so sqlite's own rollback paths run */
	FAULT_SSL_MALLOC = 1u << 4,	/* OpenSSL's allocations (CRYPTO_set_mem_functions) */
	FAULT_ALL = (1u << 5) - 1,
	FAULT_PERSIST = 1u << 8,	/* flag: fail the n-th event and every later one */
};

/* Install the hooks (sqlite allocator, the VFS shim as default VFS, OpenSSL
 * allocator) and make randomness and the wall clock deterministic for our code
 * (see fault_seed). Call first in main, before any sqlite or OpenSSL use.
 * 0 or -1 (too late: a library was already initialised). */
int fault_init(void);

/* Counter to zero, nothing counted, nothing armed, fired cleared. */
void fault_reset(void);
/* From now on count events of the kinds in kind_mask; the n-th fails (n = 0:
 * count only). FAULT_PERSIST in the mask: the n-th and all later ones fail. */
void fault_arm(unsigned kind_mask, unsigned long n);
/* Stop counting and failing; the count and fired stay readable. */
void fault_disarm(void);
/* Events counted since fault_reset(). */
unsigned long fault_count(void);
/* 1 when the armed event happened (and failed). */
int fault_fired(void);
/* Restart the deterministic random stream and freeze the wall clock our code
 * reads, so two runs of an operation write the same bytes. */
void fault_seed(unsigned long seed);
const char *fault_kind_str(unsigned kind);

/* ---- sweeps ---- */

/* What an operation sees: the store, freshly restored from the template, and
 * whatever the case's attach built around it. */
struct fault_fx {
	struct store *s;
	const char *path;		/* the store's file, in a private temp dir */
	const char *dir;		/* that temp dir, for files an op may need */
	void *ctx;			/* set by attach, for a handler's narrow context */
	void *arg;			/* the case's arg */
};

struct fault_case {
	const char *name;		/* in the output line */
	/* Fill the template store (not counted). NULL = an empty store. */
	int (*setup)(struct fault_fx *fx);
	/* Build fx->ctx around the freshly opened store before each run, and free
	 * it after (not counted). Both optional: for handlers taking a context. */
	int (*attach)(struct fault_fx *fx);
	void (*detach)(struct fault_fx *fx);
	/* The operation under test: >= 0 done (the value is compared with the
	 * fault-free run's), < 0 failed. Runs with the faults armed. */
	int (*op)(struct fault_fx *fx);
	void *arg;
	unsigned kinds;			/* kinds to sweep, one at a time; 0 = FAULT_ALL. With
					 * FAULT_PERSIST: each point fails that event and every
					 * later one of its kind (memory stays short), so the
					 * error paths themselves run out of it */
	unsigned stride;		/* inject at every stride-th point only; 0/1 = all */
};

struct fault_stats {
	unsigned long points;		/* injections run */
	unsigned long failed;		/* op failed, store unchanged, retry worked */
	unsigned long completed;	/* op succeeded anyway, same result */
	unsigned long bad;		/* anything else (each one is printed) */
	unsigned long not_fired;	/* armed point never reached (counts drifted) */
};

/* Sweep c as described at the top; prints one line per case, e.g.
 * "fault: inbox_put: 412 points, 398 failed cleanly, 14 completed, 0 bad",
 * and one line per bad point. Returns 0 when nothing was bad. */
int fault_sweep(const struct fault_case *c, struct fault_stats *stats);

/* A canonical text dump of every table, rows ordered by all columns, read
 * through a connection of its own (so only committed data is seen). Caller
 * frees. NULL on error. */
char *fault_dump(const char *path);

/* One synthetic leaver (a PrO pupil to mbo_entree at dest) imported into s as
 * store_leavers_import does it, as user mentor1 from file: the fixture the
 * sweeps share. support_needs and mentor may be NULL. 0 or -errno. */
int fault_import_leaver(struct store *s, const char *file, const char *ref, const char *pgn,
			const char *dest, const char *support_needs, const char *mentor);

/* A cmocka test over one case (state points at the struct fault_case): the
 * sweep runs, reaches at least one point, and finds nothing bad. */
void fault_test_sweep(void **state);

/* The start of a fault test's main(): fault_init (which must come before any
 * library initialises itself), and the log quietened to nothing, since the
 * handlers' errors are expected here, unless the environment variable
 * debug_env is set. 0, or -1 with the reason printed. */
int fault_start(const char *debug_env);

#endif

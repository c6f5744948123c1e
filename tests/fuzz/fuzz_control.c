/* libFuzzer target: a request frame as a local user's bytes reach the
 * daemon on its control socket (design.md §4.9): unpacked, identified,
 * checked against the rights and run by its handler against a real store.
 * Must never crash, leak or read out of bounds; the reply must pack. The
 * caller is this process (every right), so every handler is reachable,
 * except `store backup`, which writes a file where the request says. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "import.h"
#include "control.pb-c.h"
#include "keys.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	int ready;
	struct keys keys;
	struct store *s;
	struct config cfg;
	struct peer_cfg peers[2];
	struct hctx h;
	struct net net;
	struct ctl_env env;
	struct peer_cred cred;
	char dir[32];
} F;

/* The temporary store goes when the fuzzer exits. */
static void s_cleanup(void)
{
	char cmd[64];

	import_sessions_clear(&F.h);	/* before the store: their tables are on it */
	store_close(&F.s);
	keys_clear(&F.keys);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", F.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_control: could not remove %s\n", F.dir);
}

static int s_init(void)
{
	char path[128], err[256];
	const char *dir;

	strcpy(F.dir, "/tmp/fuzz_control.XXXXXX");
	dir = mkdtemp(F.dir);
	if (!dir)
		return -1;
	atexit(s_cleanup);
	snprintf(path, sizeof(path), "%s/keys", dir);
	if (keys_generate(path, 0, err, sizeof(err)) < 0 || keys_load(path, &F.keys, err, sizeof(err)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/store.db", dir);
	if (store_open(path, F.keys.master, &F.s, err, sizeof(err)) < 0)
		return -1;
	strcpy(F.cfg.institution_id, "12AB00");
	strcpy(F.cfg.institution_name, "Fuzz school");
	strcpy(F.cfg.policy_handover, "statute");
	strcpy(F.cfg.report_csv_dialect, "excel-nl");
	F.cfg.report_min_cell = 5;
	F.cfg.retention_sent_days = F.cfg.retention_received_days = 365;
	F.cfg.retention_outcomes_days = 1825;
	strcpy(F.peers[0].id, "25LZ00");
	strcpy(F.peers[0].endpoint, "tcp://127.0.0.1:7470");
	strcpy(F.peers[1].id, "30MB00");
	F.cfg.peers = F.peers;
	F.cfg.n_peers = 2;
	F.h = (struct hctx){ .store = F.s, .cfg = &F.cfg, .keys = &F.keys };
	F.env = (struct ctl_env){ .h = &F.h, .net = &F.net, .started_at = 1700000000000 };
	F.cred = (struct peer_cred){ .uid = getuid(), .gid = getgid(), .pid = getpid() };
	return 0;
}

/* A fresh store every S_FRESH inputs: every request is audited and `audit
 * export` reads the whole log, so with one store for the whole run each
 * input cost more than the one before (200,000 runs: 5,000 inputs/s at the
 * start, under 700 at the end, past ctest's 300 s on a slow seed). */
#define S_FRESH 20000

static int s_fresh_store(void)
{
	char path[128], cmd[200], err[256];

	import_sessions_clear(&F.h);
	store_close(&F.s);
	snprintf(path, sizeof(path), "%s/store.db", F.dir);
	snprintf(cmd, sizeof(cmd), "rm -f %s %s-wal %s-shm", path, path, path);
	if (system(cmd) != 0 || store_open(path, F.keys.master, &F.s, err, sizeof(err)) < 0)
		return -1;
	F.h.store = F.s;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned inputs;
	Overstapctl__Request *req;
	Overstapctl__Reply *rep;
	uint8_t *out = NULL;
	size_t len = 0;

	if (!F.ready) {
		if (s_init() < 0)
			abort();
		F.ready = 1;
	}
	if (++inputs % S_FRESH == 0 && s_fresh_store() < 0)
		abort();
	req = overstapctl__request__unpack(NULL, size, data);
	if (req) {
		int skip = req->body_case == OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP;

		overstapctl__request__free_unpacked(req, NULL);
		if (skip)
			return 0;
	}
	control_answer(&F.env, &F.cred, data, size, &out, &len);
	if (!out)
		return 0;	/* out of memory: nothing to answer */
	rep = overstapctl__reply__unpack(NULL, len, out);
	if (!rep)
		abort();	/* a reply the client could not read */
	overstapctl__reply__free_unpacked(rep, NULL);
	free(out);
	/* an import session an input opened holds a TEMP table: not across inputs */
	import_sessions_clear(&F.h);
	return 0;
}

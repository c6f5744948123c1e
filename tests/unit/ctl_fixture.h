/* ctl_fixture: what the control-handler tests share: a temporary directory
 * with fresh keys and a store opened under them. Include after cmocka.h. */
#ifndef OVERSTAP_CTL_FIXTURE_H
#define OVERSTAP_CTL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "control.h"
#include "keys.h"
#include "store.h"

/* dir (64 bytes) gets a new directory from tmpl ("/tmp/NAME.XXXXXX"); keys
 * are generated in dir/keys and loaded into *k; *s is dir/store.db. */
static inline void ctl_fixture_open(char dir[64], const char *tmpl, struct keys *k,
				    struct store **s)
{
	char path[128], err[256];

	snprintf(dir, 64, "%s", tmpl);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	assert_int_equal(keys_generate(path, 0, err, sizeof(err)), 0);
	assert_int_equal(keys_load(path, k, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	assert_int_equal(store_open(path, k->master, s, err, sizeof(err)), 0);
}

/* What a handler gets, as the daemon wires it: the context over store,
 * configuration and keys, the request environment, and the kernel's word
 * that the caller is this test's own process. */
static inline void ctl_fixture_wire(struct hctx *h, struct ctl_env *env, struct peer_cred *cred,
				    struct store *s, const struct config *cfg,
				    const struct keys *k, const struct net *net,
				    int64_t started_at)
{
	*h = (struct hctx){ .store = s, .cfg = cfg, .keys = k };
	*env = (struct ctl_env){ .h = h, .net = net, .started_at = started_at };
	*cred = (struct peer_cred){ .uid = getuid(), .gid = getgid(), .pid = getpid() };
}

/* Close the store, forget the keys, remove dir. */
static inline void ctl_fixture_close(const char *dir, struct keys *k, struct store **s)
{
	char cmd[128];

	store_close(s);
	keys_clear(k);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

#endif

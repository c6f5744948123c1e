/* Unit tests for daemon: start-up (keys, store, sockets) and the reload an
 * administrator triggers with SIGHUP: a bad file keeps the running
 * configuration, a new peer is taken on, a restart-only setting is kept,
 * and the handlers' context follows the new configuration. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"

struct fx {
	char dir[64];
	char conf[128];
	char peer_block[2][1024];	/* two institutions we may exchange with */
	struct daemon d;
	int up;
};

static void s_write_conf(struct fx *f, const char *listen, size_t n_peers, const char *extra)
{
	FILE *o = fopen(f->conf, "w");

	assert_non_null(o);
	fprintf(o, "[institution]\nid = 12AB00\nname = Test school\nkeys_dir = %s/keys\n"
		"[network]\nlisten = %s\n[store]\npath = %s/store.db\n"
		"[control]\nsocket = %s/control.sock\n%s", f->dir, listen, f->dir, f->dir, extra);
	for (size_t i = 0; i < n_peers; i++)
		fputs(f->peer_block[i], o);
	fclose(o);
}

static void s_peer_keys(struct fx *f, size_t i, const char *id)
{
	char kd[128], err[256];
	struct keys k = { 0 };

	snprintf(kd, sizeof(kd), "%s/peer%zu", f->dir, i);
	assert_int_equal(keys_generate(kd, 0, err, sizeof(err)), 0);
	assert_int_equal(keys_load(kd, &k, err, sizeof(err)), 0);
	assert_int_equal(keys_peer_snippet(&k, id, "tcp://127.0.0.1:9", f->peer_block[i],
					   sizeof(f->peer_block[i])), 0);
	keys_clear(&k);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char kd[128], err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/overstap-daemon-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/overstapd.conf", f->dir);
	snprintf(kd, sizeof(kd), "%s/keys", f->dir);
	assert_int_equal(keys_generate(kd, 0, err, sizeof(err)), 0);
	s_peer_keys(f, 0, "25XY00");
	s_peer_keys(f, 1, "31ZZ00");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	if (f->up)
		daemon_fini(&f->d);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void s_start(struct fx *f)
{
	struct config *cfg = NULL;

	assert_int_equal(config_load(f->conf, &cfg, NULL), 0);
	assert_int_equal(daemon_init(&f->d, cfg), 0);
	f->up = 1;
}

static void test_init_wires_the_context(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char sock[128];

	s_write_conf(f, "tcp://127.0.0.1:*", 1, "");
	s_start(f);
	/* the handlers' context points at what the daemon owns */
	assert_ptr_equal(f->d.h.store, f->d.store);
	assert_ptr_equal(f->d.h.cfg, f->d.cfg);
	assert_ptr_equal(f->d.h.keys, &f->d.keys);
	assert_ptr_equal(f->d.net.h, &f->d.h);
	assert_int_equal(f->d.net.n_peers, 1);
	assert_string_equal(f->d.net.peers[0].cfg.id, "25XY00");
	assert_non_null(strstr(f->d.net.bound, "tcp://127.0.0.1:"));
	assert_null(strstr(f->d.net.bound, ":*"));	/* the port is resolved */
	snprintf(sock, sizeof(sock), "%s/control.sock", f->dir);
	assert_int_equal(stat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
}

static void test_bad_reload_keeps_running_config(void **state)
{
	struct fx *f = *state;
	const struct config *before;

	s_write_conf(f, "tcp://127.0.0.1:*", 1, "");
	s_start(f);
	before = f->d.cfg;
	/* a typo must not silently take effect, nor stop the daemon */
	s_write_conf(f, "tcp://127.0.0.1:*", 2, "[network]\nmax_in_flihgt = 3\n");
	assert_true(daemon_reload(&f->d) < 0);
	assert_ptr_equal(f->d.cfg, before);
	assert_ptr_equal(f->d.h.cfg, before);
	assert_int_equal(f->d.net.n_peers, 1);
}

static void test_reload_adds_a_peer(void **state)
{
	struct fx *f = *state;

	s_write_conf(f, "tcp://127.0.0.1:*", 1, "");
	s_start(f);
	s_write_conf(f, "tcp://127.0.0.1:*", 2, "");
	assert_int_equal(daemon_reload(&f->d), 0);
	assert_int_equal(f->d.net.n_peers, 2);
	assert_string_equal(f->d.net.peers[1].cfg.id, "31ZZ00");
	assert_ptr_equal(f->d.h.cfg, f->d.cfg);	/* handlers see the new file */
	assert_int_equal(f->d.cfg->n_peers, 2);
}

static void test_restart_only_setting_kept(void **state)
{
	struct fx *f = *state;
	char listen[256];

	s_write_conf(f, "tcp://127.0.0.1:*", 1, "");
	s_start(f);
	str_copy(listen, sizeof(listen), f->d.cfg->listen);
	s_write_conf(f, "tcp://127.0.0.1:7999", 1, "[log]\nlevel = notice\n");
	assert_int_equal(daemon_reload(&f->d), 0);
	assert_string_equal(f->d.cfg->listen, listen);	/* takes a restart */
	assert_string_equal(f->d.cfg->log_level, "notice");	/* this one applies */
	log_set_level(LOG_LVL_INFO);
}

static void test_missing_keys_refused(void **state)
{
	struct fx *f = *state;
	struct config *cfg = NULL;
	char path[128];

	s_write_conf(f, "tcp://127.0.0.1:*", 1, "");
	snprintf(path, sizeof(path), "%s/keys/master.key", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(config_load(f->conf, &cfg, NULL), 0);
	assert_true(daemon_init(&f->d, cfg) < 0);
	f->up = 1;	/* daemon_fini undoes a partial start too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_wires_the_context, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_reload_keeps_running_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_adds_a_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_only_setting_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_keys_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

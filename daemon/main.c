/* overstapd: the overstap daemon. main() reads like a table of contents:
 * options → config → logging → keys, store, sockets → loop → teardown. */
#include "config.h"
#include "csvdialect.h"
#include "daemon.h"
#include "harden.h"
#include "i18n.h"
#include "keys.h"
#include "log.h"
#include "spool.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/overstap/overstapd.conf"

static void s_usage(FILE *f)
{
	fprintf(f,
		"Usage: overstapd [-c FILE] [-t] [-d] [--init]\n"
		"The overstap daemon: warm handover of pupils' dossiers between schools and\n"
		"MBO institutions over CURVE-encrypted ZeroMQ (see overstapd(8)).\n\n"
		"  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
		"  -t, --test          check the configuration and key files, print every\n"
		"                      error as FILE:LINE: message, and exit (0 = valid)\n"
		"  -d, --debug         log at debug level, whatever the config says\n"
		"      --init          start anew: create an empty store where this installation\n"
		"                      had one that is now missing or empty (never replaces a\n"
		"                      store that is there; see RESTORING FROM A BACKUP)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n\n"
		"Signals: SIGHUP reloads the configuration (peers; a bad file keeps the old\n"
		"one), SIGTERM and SIGINT stop the daemon.\n");
}

/* After permission errors: a check run as the wrong user (root's shell, an
 * administrator's own account) fails where the daemon would not. Says whose
 * the keys are, and how to check as that user. */
static void s_owner_hint(const struct config *cfg)
{
	const struct passwd *pw;
	struct stat st;

	if (stat(cfg->keys_dir, &st) < 0 || st.st_uid == geteuid() ||
	    (pw = getpwuid(st.st_uid)) == NULL)
		return;
	fprintf(stderr, "%s: the keys belong to user %s, whom overstapd runs as: check as that "
		"user (runuser -u %s -- overstapd -t -c %s)\n", cfg->path, pw->pw_name, pw->pw_name,
		cfg->path);
}

/* `overstapd -t`: everything that can be checked without starting. */
static int s_check(struct config *cfg)
{
	struct keys k = { 0 };
	char err[1024] = "", dir[PATH_MAX];
	int bad = 0, denied = 0, r;

	if ((r = keys_load(cfg->keys_dir, &k, err, sizeof(err))) < 0) {
		fprintf(stderr, "%s: [institution] keys_dir: %s\n", cfg->path, err);
		denied |= r == -EACCES;
		bad = 1;
	}
	keys_clear(&k);
	str_copy(dir, sizeof(dir), cfg->store_path);
	if (access(dirname(dir), W_OK) < 0) {
		r = errno;
		fprintf(stderr, "%s: [store] path: directory of %s is not writable: %s\n", cfg->path,
			cfg->store_path, strerror(r));
		denied |= r == EACCES;
		bad = 1;
	}
	str_copy(dir, sizeof(dir), cfg->control_socket);
	if (access(dirname(dir), W_OK) < 0) {
		r = errno;
		fprintf(stderr, "%s: [control] socket: directory of %s is not writable: %s\n",
			cfg->path, cfg->control_socket, strerror(r));
		denied |= r == EACCES;
		bad = 1;
	}
	if (denied)
		s_owner_hint(cfg);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_cfg *p = &cfg->peers[i];
		char until[21];

		/* Not an error: the daemon runs fine on the next keys alone. */
		time_format_utc(p->rollover_until, until);
		if (p->curve_next[0] && !config_peer_old_keys_ok(p, time_now_ms()))
			fprintf(stderr, "%s:%d: warning: [peer %s]: the key rollover window closed at "
				"%s; move the *_next keys into curve_public_key and sign_public_key and "
				"remove rollover_until\n", cfg->path, p->line, p->id, until);
	}
	if (cfg->import_spool[0] && spool_dir_check(cfg->import_spool, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: [import] spool: %s\n", cfg->path, err);
		bad = 1;
	}
	if (cfg->import_spool_map[0]) {	/* else only the spool's next file would tell */
		struct csvdialect_map *map = NULL;
		struct strlist errors = { 0 };

		if ((r = csvdialect_map_load(cfg->import_spool_map, &map, &errors)) < 0) {
			for (size_t i = 0; i < errors.n; i++)
				fprintf(stderr, "%s: [import] spool_map: %s\n", cfg->path, errors.v[i]);
			if (!errors.n)
				fprintf(stderr, "%s: [import] spool_map: %s: %s\n", cfg->path,
					cfg->import_spool_map, strerror(-r));
			bad = 1;
		}
		csvdialect_map_free(&map);
		strlist_clear(&errors);
	}
	if (cfg->control_group[0] && !getgrnam(cfg->control_group)) {
		fprintf(stderr, "%s: [control] group: no group named '%s'\n", cfg->path,
			cfg->control_group);
		bad = 1;
	}
	return bad;
}

/* `overstapd -t` on success: the key fingerprints, ours and each peer's, to
 * compare with the administrators at the other end (keys show prints theirs). */
static void s_fingerprints(const struct config *cfg)
{
	char c[KEYS_FP_LEN], s[KEYS_FP_LEN];
	struct keys k = { 0 };
	char err[256];

	if (keys_load(cfg->keys_dir, &k, err, sizeof(err)) == 0 &&
	    keys_fingerprint_curve(k.curve_public, c) == 0 && keys_fingerprint_sign(k.sign_public, s) == 0)
		printf("  %s (this institution): curve %s, sign %s\n", cfg->institution_id, c, s);
	keys_clear(&k);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_cfg *p = &cfg->peers[i];

		if (keys_fingerprint_curve(p->curve_public, c) == 0 &&
		    keys_fingerprint_sign(p->sign_public, s) == 0)
			printf("  %s (%s): curve %s, sign %s\n", p->id, p->name, c, s);
		if (p->curve_next[0] && p->has_sign_next && keys_fingerprint_curve(p->curve_next, c) == 0 &&
		    keys_fingerprint_sign(p->sign_next, s) == 0)
			printf("  %s next keys: curve %s, sign %s\n", p->id, c, s);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "test", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },	    { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	    { "init", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	struct strlist errors = { 0 };
	struct config *cfg = NULL;
	struct daemon d;
	char herr[256] = "";
	int test = 0, debug = 0, init = 0, c, r;

	while ((c = getopt_long(argc, argv, "c:tdhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 't': test = 1; break;
		case 'd': debug = 1; break;
		case 'I': init = 1; break;
		case 'h': s_usage(stdout); return 0;
		case 'V': printf("overstapd %s\n", OVERSTAP_VERSION); return 0;
		default: s_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		s_usage(stderr);
		return 2;
	}
	log_init(debug);
	/* The catalogs for the replies to the CLI, each in the language its
	 * request names; the log and this program's own output stay English,
	 * for the administrator (design.md §10). */
	if ((r = i18n_init()) < 0)
		log_warn("message catalogs unavailable, replies stay English: %s", strerror(-r));
	/* 0. no core dumps, keys in locked memory: before any secret is read */
	if (harden_process(herr, sizeof(herr)) < 0) {
		log_err("cannot turn core dumps off (a crash would write keys and pupils' data "
			"to disk): %s", herr);
		return 1;
	}
	if (harden_secure_heap(herr, sizeof(herr)) < 0)
		log_warn("%s", herr);
	/* 1. configuration */
	r = config_load(path, &cfg, &errors);
	for (size_t i = 0; i < errors.n; i++)
		fprintf(stderr, "%s\n", errors.v[i]);
	strlist_clear(&errors);
	if (r < 0)
		return 1;	/* config_load put the reason in errors */
	if (test) {
		r = s_check(cfg);
		if (!r) {
			printf("%s: configuration OK (%zu peer%s)\n", path, cfg->n_peers,
			       cfg->n_peers == 1 ? "" : "s");
			s_fingerprints(cfg);
		}
		config_free(&cfg);
		return r ? 1 : 0;
	}
	/* 2. logging */
	log_set_level_name(cfg->log_level);
	if (debug)
		log_set_level(LOG_LVL_DEBUG);
	/* 3. keys, store, sockets (the daemon owns cfg from here) */
	r = daemon_init_store(&d, cfg, init);
	d.log_forced = debug;
	/* 4. the loop */
	if (r == 0)
		r = daemon_run(&d);
	/* 5. teardown in reverse */
	daemon_fini(&d);
	return r < 0 ? 1 : 0;
}

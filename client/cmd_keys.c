/* cmd_keys: `overstap keys gen|show`, local key management (no daemon). */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "keys.h"
#include "util.h"
#include "i18n.h"

int cmd_keys_gen(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = NULL;
	char err[512] = "";
	int c, force = 0, r;

	while ((c = getopt_long(argc, argv, "d:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'f': force = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	/* Required rather than taken from the config: a new key set replaces an
	 * institution's identity, so where it goes is said out loud. */
	if (!dir || !*dir)
		return cli_usage_error(cli, "--dir DIR is required");
	r = keys_generate(dir, force, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, _("overstap: %s\n"), *err ? err : strerror(-r));
		if (r == -EEXIST)
			fputs(_("overstap: nothing was changed. --force replaces the keys: every "
			      "counterpart then needs the new public keys, and a store written under "
			      "the old master.key can no longer be read (overstapd refuses to start on "
			      "it)\n"), stderr);
		return CLI_EXIT_REFUSED;
	}
	printf(_("wrote a new key set to %s:\n"
	       "  curve.pub sign.pub             public: counterparts need them (overstap keys show)\n"
	       "  curve.key sign.key master.key  secret: mode 0600, readable by their owner only\n"
	       "Give the files to the user overstapd runs as (chown), and back up master.key:\n"
	       "without it the dossiers in the store cannot be decrypted.\n"), dir);
	return CLI_EXIT_OK;
}

/* After a permission error on the key directory: whose the keys are, and
 * how to run the command as that user (joining a group does not help: the
 * secret files are the owner's alone). */
static void s_owner_hint(const struct cli *cli, const char *dir, int r)
{
	const struct passwd *pw;
	struct stat st;

	if ((r != -EACCES && r != -EPERM) || !dir || stat(dir, &st) < 0 ||
	    st.st_uid == geteuid() || (pw = getpwuid(st.st_uid)) == NULL)
		return;
	fprintf(stderr, _("overstap: the keys in %s belong to user %s: run it as that user "
			  "(sudo -u %s %s)\n"), dir, pw->pw_name, pw->pw_name, cli->prog);
}

/* Hosts in a listen address that mean "every interface": counterparts cannot
 * connect to them, so keys show puts this machine's name there instead. */
static const char *const s_wildcards[] = { "*", "0.0.0.0", "[::]", "::" };

/* A connectable endpoint from [network] listen ("tcp://HOST:PORT"). */
static void s_endpoint_from_listen(const char *listen, char *buf, size_t len)
{
	const char *host = strstr(listen, "://"), *port = strrchr(listen, ':');
	char name[256];

	str_copy(buf, len, listen);
	if (!host || !port || port < host + 3)
		return;
	host += 3;
	for (size_t i = 0; i < ARRAY_SIZE(s_wildcards); i++) {
		size_t n = strlen(s_wildcards[i]);
		if ((size_t)(port - host) == n && strncmp(host, s_wildcards[i], n) == 0 &&
		    gethostname(name, sizeof(name)) == 0) {
			name[sizeof(name) - 1] = '\0';
			snprintf(buf, len, "%.*s%s%s", (int)(host - listen), listen, name, port);
			fprintf(stderr, _("overstap: endpoint %s is [network] listen with this host's "
				"name; use --endpoint if counterparts know it by another\n"), buf);
			return;
		}
	}
}

struct show_args {
	const char *dir, *id, *endpoint;
};

/* Fill what --dir, --id and --endpoint left open from the config. The config
 * is required only for the directory and the id; for the endpoint and the
 * name it is a convenience, and without it keys_peer_block writes
 * placeholders. */
static int s_show_defaults(const struct cli *cli, struct show_args *a, struct config **cfg,
			   char *ep, size_t eplen)
{
	struct strlist quiet = { 0 };
	int r;

	if (!a->dir || !a->id) {
		r = cli_config_load(cli, cfg);
		if (r != CLI_EXIT_OK)
			return r;
	} else {
		/* for the endpoint and the name only: a missing config is fine */
		config_load(cli_config_path(cli), cfg, &quiet);
		strlist_clear(&quiet);
	}
	if (*cfg) {
		a->dir = a->dir ? a->dir : (*cfg)->keys_dir;
		a->id = a->id ? a->id : (*cfg)->institution_id;
		if (!a->endpoint && *(*cfg)->listen) {
			s_endpoint_from_listen((*cfg)->listen, ep, eplen);
			a->endpoint = ep;
		}
	}
	if (!a->endpoint)
		fputs(_("overstap: no endpoint known: replace tcp://HOST:7470 below, or use "
		      "--endpoint\n"), stderr);
	return -1;
}

static int s_show_options(struct cli *cli, int argc, char **argv, struct show_args *a)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "id", required_argument, NULL, 'i' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:i:e:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->dir = optarg; break;
		case 'i': a->id = optarg; break;
		case 'e': a->endpoint = optarg; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (a->id && !config_institution_id_valid(a->id))
		return cli_usage_error(cli, "'%s' is not an institution id (BRIN + location, "
				       "e.g. 12AB00)", a->id);
	return -1;
}

int cmd_keys_show(struct cli *cli, int argc, char **argv)
{
	struct show_args a = { 0 };
	struct config *cfg = NULL;
	struct keys k = { 0 };
	char ep[512], err[512] = "", snippet[2048];
	const char *name;
	int r;

	r = s_show_options(cli, argc, argv, &a);
	if (r >= 0)
		return r;
	r = s_show_defaults(cli, &a, &cfg, ep, sizeof(ep));
	if (r >= 0)
		goto out;
	r = keys_load(a.dir, &k, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, _("overstap: %s\n"), *err ? err : strerror(-r));
		s_owner_hint(cli, a.dir, r);
		r = CLI_EXIT_REFUSED;
		goto out;
	}
	/* the configured name when the block is this institution's own */
	name = cfg && a.id && strcmp(a.id, cfg->institution_id) == 0 ? cfg->institution_name : NULL;
	r = keys_peer_block(&k, a.id, name, a.endpoint, snippet, sizeof(snippet));
	if (r < 0) {
		fprintf(stderr, _("overstap: cannot format the [peer] block: %s\n"), strerror(-r));
		r = CLI_EXIT_REFUSED;
		goto out;
	}
	fputs(snippet, stdout);
	r = CLI_EXIT_OK;
out:
	keys_clear(&k);
	config_free(&cfg);
	return r;
}

/* --dir, else keys_dir of the config; *id likewise, when id is not NULL. */
static int s_dir_and_id(const struct cli *cli, const char **dir, const char **id,
			struct config **cfg)
{
	int r;

	if (*dir && (!id || *id))
		return -1;
	if ((r = cli_config_load(cli, cfg)) != CLI_EXIT_OK)
		return r;
	*dir = *dir ? *dir : (*cfg)->keys_dir;
	if (id)
		*id = *id ? *id : (*cfg)->institution_id;
	return -1;
}

static int s_rotate_print(const struct keys *k, const char *id, long days)
{
	char *sign_b64 = NULL, until[21];

	if (crypto_b64_encode(k->sign_public, sizeof(k->sign_public), &sign_b64) < 0)
		return -ENOMEM;
	time_format_utc(keys_rollover_until(time_now_ms(), days), until);
	printf(_("# Key rollover for %s: send these lines to every peer. Each adds them to its\n"
	       "# [peer %s] section and reloads; until %s it accepts both our old and\n"
	       "# our new keys. Then run `overstap keys activate` here and reload overstapd,\n"
	       "# before that moment. Afterwards each peer moves the *_next keys into\n"
	       "# curve_public_key / sign_public_key and removes rollover_until.\n"
	       "curve_public_key_next = %s\n"
	       "sign_public_key_next = %s\n"
	       "rollover_until = %s\n"),
	       id, id, until, k->curve_public, sign_b64, until);
	free(sign_b64);
	return 0;
}

int cmd_keys_rotate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "id", required_argument, NULL, 'i' },
		{ "days", required_argument, NULL, 'n' }, { "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },	  { 0 },
	};
	const char *dir = NULL, *id = NULL;
	struct config *cfg = NULL;
	struct keys k = { 0 };
	char err[512] = "", *end = NULL;
	long days = 14;
	int c, force = 0, r;

	while ((c = getopt_long(argc, argv, "d:i:n:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'i': id = optarg; break;
		case 'n':
			days = strtol(optarg, &end, 10);
			if (!*optarg || *end || days < 1 || days > 365)
				return cli_usage_error(cli, "--days must be 1 to 365");
			break;
		case 'f': force = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (id && !config_institution_id_valid(id))
		return cli_usage_error(cli, "'%s' is not an institution id (e.g. 12AB00)", id);
	if ((r = s_dir_and_id(cli, &dir, &id, &cfg)) >= 0)
		return r;
	if ((r = keys_rotate(dir, force, err, sizeof(err))) < 0 ||
	    (r = keys_load_next(dir, &k, err, sizeof(err))) < 0) {
		fprintf(stderr, _("overstap: %s\n"), *err ? err : strerror(-r));
		if (r == -EEXIST)
			fputs(_("overstap: nothing was changed; `overstap keys activate` finishes that "
			      "rollover, --force starts it over with new keys\n"), stderr);
		s_owner_hint(cli, dir, r);
		r = CLI_EXIT_REFUSED;
		goto out;
	}
	r = s_rotate_print(&k, id, days) < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
out:
	keys_clear(&k);
	config_free(&cfg);
	return r;
}

int cmd_keys_activate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = NULL;
	struct config *cfg = NULL;
	char err[512] = "";
	int c, r;

	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if ((r = s_dir_and_id(cli, &dir, NULL, &cfg)) >= 0)
		return r;
	r = keys_activate(dir, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, _("overstap: %s\n"), *err ? err : strerror(-r));
		if (r == -ENOENT)
			fputs(_("overstap: no rollover under way: `overstap keys rotate` starts one\n"),
			      stderr);
		s_owner_hint(cli, dir, r);
		r = CLI_EXIT_REFUSED;
	} else {
		printf(_("the next key pair in %s is now the current one.\n"
		       "Reload overstapd now (systemctl reload overstapd): until then it keeps "
		       "using the old keys.\n"), dir);
		r = CLI_EXIT_OK;
	}
	config_free(&cfg);
	return r;
}

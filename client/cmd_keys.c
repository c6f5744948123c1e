/* cmd_keys: `overstap keys gen|show`, local key management (no daemon). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "keys.h"
#include "util.h"

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
		fprintf(stderr, "overstap: %s\n", *err ? err : strerror(-r));
		if (r == -EEXIST)
			fputs("overstap: nothing was changed. --force replaces the keys: every "
			      "counterpart then needs the new public keys, and a store written under "
			      "the old master.key can no longer be read (overstapd refuses to start on "
			      "it)\n", stderr);
		return CLI_EXIT_REFUSED;
	}
	printf("wrote a new key set to %s:\n"
	       "  curve.pub sign.pub             public: counterparts need them (overstap keys show)\n"
	       "  curve.key sign.key master.key  secret: mode 0600, readable by their owner only\n"
	       "Give the files to the user overstapd runs as (chown), and back up master.key:\n"
	       "without it the dossiers in the store cannot be decrypted.\n", dir);
	return CLI_EXIT_OK;
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
			fprintf(stderr, "overstap: endpoint %s is [network] listen with this host's "
				"name; use --endpoint if counterparts know it by another\n", buf);
			return;
		}
	}
}

struct show_args {
	const char *dir, *id, *endpoint;
};

/* Fill what --dir, --id and --endpoint left open from the config. The config
 * is required only for the directory and the id; for the endpoint it is a
 * convenience, and without it keys_peer_snippet writes a placeholder. */
static int s_show_defaults(const struct cli *cli, struct show_args *a, struct config **cfg,
			   char *ep, size_t eplen)
{
	struct strlist quiet = { 0 };
	int r;

	if (!a->dir || !a->id) {
		r = cli_config_load(cli, cfg);
		if (r != CLI_EXIT_OK)
			return r;
	} else if (!a->endpoint) {
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
		fputs("overstap: no endpoint known: replace tcp://HOST:7470 below, or use "
		      "--endpoint\n", stderr);
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
	int r;

	r = s_show_options(cli, argc, argv, &a);
	if (r >= 0)
		return r;
	r = s_show_defaults(cli, &a, &cfg, ep, sizeof(ep));
	if (r >= 0)
		goto out;
	r = keys_load(a.dir, &k, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "overstap: %s\n", *err ? err : strerror(-r));
		r = CLI_EXIT_REFUSED;
		goto out;
	}
	r = keys_peer_snippet(&k, a.id, a.endpoint, snippet, sizeof(snippet));
	if (r < 0) {
		fprintf(stderr, "overstap: cannot format the [peer] block: %s\n", strerror(-r));
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

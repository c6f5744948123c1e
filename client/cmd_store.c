/* cmd_store: `overstap store check|backup`: the store's integrity check and a
 * consistent copy to restore from (design.md §5.8). The daemon does both: it
 * holds the store open and writes the backup as its own user. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "util.h"
#include "i18n.h"

int cmd_store_check(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Empty empty = OVERSTAPCTL__EMPTY__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__StoreCheckResult *v;
	int json, r;

	r = cli_json_only_options(cli, argc, argv, 0, &json);
	if (r >= 0)
		return r;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_STORE_CHECK;
	req.store_check = &empty;
	/* it reads the whole store: minutes at some GiB, the daemon busy with
	 * other things meanwhile; not the 30 s meant for a quick answer */
	if (!cli->timeout_given)
		cli->timeout_ms = CLI_STORE_TIMEOUT_S * 1000;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_STORE_CHECK, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	v = rep->store_check;
	r = v->ok ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	if (json) {
		json_t *o = json_object(), *a = json_array();
		int e = 0;

		e |= out_json_set(o, "ok", json_boolean(v->ok));
		for (size_t i = 0; i < v->n_problems; i++)
			e |= out_json_append(a, out_json_str(v->problems[i]));
		e |= out_json_set(o, "problems", a);
		o = out_json_done(o, e);
		if (cli_json_print(&o) != CLI_EXIT_OK)
			r = CLI_EXIT_REFUSED;
	} else if (v->ok) {
		puts("ok");
	} else {
		for (size_t i = 0; i < v->n_problems; i++) {
			out_text(stdout, v->problems[i]);
			putchar('\n');
		}
		fputs(_("overstap: the store is damaged: writes are refused; restore the last good "
		      "backup (overstapd(8), RESTORING FROM A BACKUP)\n"), stderr);
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

/* FILE as the daemon must see it: absolute, its last part not resolved (the
 * daemon refuses to follow a symlink there). */
static int s_absolute(const char *file, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (file[0] == '/')
		return snprintf(out, len, "%s", file) < (int)len ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return snprintf(out, len, "%s/%s", cwd, file) < (int)len ? 0 : -ENAMETOOLONG;
}

int cmd_store_backup(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__StoreBackup q = OVERSTAPCTL__STORE_BACKUP__INIT;
	Overstapctl__Reply *rep = NULL;
	char path[PATH_MAX];
	int c, r, json = 0;

	while ((c = getopt_long(argc, argv, "fjh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': q.force = 1; break;
		case 'j': json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(cli, optind < argc ? "unexpected argument '%s'" :
				       "which FILE?%s", optind < argc ? argv[optind + 1] : "");
	if ((r = s_absolute(argv[optind], path, sizeof(path))) < 0) {
		fprintf(stderr, _("overstap: %s: %s\n"), argv[optind], strerror(-r));
		return CLI_EXIT_USAGE;
	}
	q.file = path;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP;
	req.store_backup = &q;
	if (!cli->timeout_given)	/* a copy of some GiB, as store check */
		cli->timeout_ms = CLI_STORE_TIMEOUT_S * 1000;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_STORE_BACKUP, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	if (json) {
		json_t *o = json_object();
		int e = 0;

		e |= out_json_set_str(o, "file", rep->store_backup->file);
		e |= out_json_set(o, "bytes", out_json_uint(rep->store_backup->bytes));
		o = out_json_done(o, e);
		r = cli_json_print(&o);
	} else {
		fputs(_("store backed up to "), stdout);
		out_text(stdout, rep->store_backup->file);
		printf(_(" (%llu bytes)\n"), (unsigned long long)rep->store_backup->bytes);
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

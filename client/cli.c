/* cli: usage, config lookup and the daemon round trip shared by every verb. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "out.h"
#include "util.h"
#include "i18n.h"

void cli_help(const struct cli *cli, FILE *f)
{
	const char *sum = _(cli->verb->summary);

	/* The summary doubles as a sentence here: capitalise it (ASCII only,
	 * which every summary starts with, in either language). The table's
	 * texts are msgids (N_ in overstap.c); the bash completion reads the
	 * option names from the untranslated table (design.md §10). */
	fprintf(f, _("usage: %s %s\n\n%c%s.\n\noptions:\n%s"), cli->prog, _(cli->verb->args),
		toupper((unsigned char)sum[0]), sum + 1,
		cli->verb->options ? _(cli->verb->options) : "");
	if (cli->verb->more_options)
		fputs(_(cli->verb->more_options), f);
	fputs(_("  -h, --help            show this help\n"), f);
	if (cli->verb->notes)
		fprintf(f, "\n%s", _(cli->verb->notes));
	fputs(_("\nGlobal options (-s, -c, -t) go before the command: see `overstap --help`.\n"), f);
}

int cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(stderr, gettext(fmt), ap);	/* xgettext: po/xgettext.sh's cli_usage_error:2 */
	va_end(ap);
	fprintf(stderr, _("\nTry '%s --help'.\n"), cli->prog);
	return CLI_EXIT_USAGE;
}

int cli_usage_hint(const struct cli *cli)
{
	fprintf(stderr, _("Try '%s --help'.\n"), cli->prog);
	return CLI_EXIT_USAGE;
}

int cli_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end = NULL;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;	/* strtoul would accept blanks and a minus sign */
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int cli_json_only_options(struct cli *cli, int argc, char **argv, size_t npos, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*json = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': *json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (npos == 0 && optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if ((size_t)(argc - optind) != npos)
		return npos == 1 ? cli_usage_error(cli, "expected %zu argument", npos)
				 : cli_usage_error(cli, "expected %zu arguments", npos);
	return -1;
}

int cli_date_check(const struct cli *cli, const char *arg)
{
	if (date_valid(arg, NULL, NULL, NULL))
		return -1;
	return cli_usage_error(cli, "'%s' is not a date written YYYY-MM-DD", arg);
}

const char *cli_party_code(const char *by)
{
	static const char *const nl[][2] = {
		{ "leerling", "pupil" }, { "ouder", "parent" }, { "voogd", "guardian" },
	};

	for (size_t i = 0; i < sizeof(nl) / sizeof(nl[0]); i++)
		if (strcasecmp(by, nl[i][0]) == 0)
			return nl[i][1];
	return by;
}

int cli_cohort_valid(const char *s)
{
	return cohort_valid(s);
}

static int s_state_check(const struct cli *cli, const char *const *states, const char *s)
{
	char list[256] = "";

	if (!states)
		return -1;	/* no list to check against */
	for (size_t i = 0; states[i]; i++) {
		if (strcmp(states[i], s) == 0)
			return -1;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 states[i]);
	}
	return cli_usage_error(cli, "unknown state '%s' (one of: %s)", s, list);
}

int cli_list_options(struct cli *cli, int argc, char **argv, const char *const *states,
		     Overstapctl__ListFilter *filter, int *json)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 'S' },
		{ "cohort", required_argument, NULL, 'C' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct option *o = states ? opts : opts + 1;
	int c, r;

	*json = 0;
	while ((c = getopt_long(argc, argv, states ? "S:C:n:jh" : "C:n:jh", o, NULL)) != -1) {
		switch (c) {
		case 'S':
			r = s_state_check(cli, states, optarg);
			if (r >= 0)
				return r;
			filter->state = optarg;
			break;
		case 'C':
			if (!cli_cohort_valid(optarg))
				return cli_usage_error(cli, "cohort '%s' is not a school year YYYY-YYYY, e.g. 2024-2025",
						       optarg);
			filter->cohort = optarg;
			break;
		case 'n':
			if (cli_parse_uint(optarg, 1, 1000000, &filter->limit) < 0)
				return cli_usage_error(cli, "--limit wants a number from 1, not '%s'", optarg);
			break;
		case 'j': *json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	return -1;
}

int cli_json_print(json_t **root)
{
	int r = out_json_print(stdout, root, 0);

	if (r == -ENOMEM)
		fputs(_("overstap: out of memory\n"), stderr);
	else if (r < 0)
		fputs(_("overstap: cannot write the JSON output\n"), stderr);
	return r < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}

int cli_json_rows(const void *const *rows, size_t n, json_t *(*row_json)(const void *row))
{
	json_t *a = json_array();
	int e = 0;

	for (size_t i = 0; i < n; i++)
		e |= out_json_append(a, row_json(rows[i]));
	a = out_json_done(a, e);
	return cli_json_print(&a);
}

const char *cli_config_path(const struct cli *cli)
{
	const char *env = getenv("OVERSTAP_CONFIG");

	if (cli->config)
		return cli->config;
	return env && *env ? env : CLI_DEFAULT_CONFIG;
}

/* What to do about a permission error on path (the config, the control
 * socket): join the group that owns it, or its directory's. "" when that
 * group cannot be known. */
static const char *s_group_hint(const char *path, char *buf, size_t len)
{
	char dir[PATH_MAX];
	struct stat st;
	const struct group *g;
	const struct passwd *pw = getpwuid(geteuid());
	int ok = stat(path, &st) == 0;

	if (!ok && str_copy(dir, sizeof(dir), path) == 0)
		ok = stat(dirname(dir), &st) == 0;
	buf[0] = '\0';
	if (ok && st.st_gid != 0 && (g = getgrgid(st.st_gid)) != NULL)
		snprintf(buf, len, _("; join group '%s' (sudo adduser %s %s), then log in again"),
			 g->gr_name, pw && pw->pw_name ? pw->pw_name : "$USER", g->gr_name);
	return buf;
}

int cli_csv_failed(const char *file, int r, struct strlist *errors, const char *nothing)
{
	for (size_t i = 0; i < errors->n; i++) {
		out_text(stderr, errors->v[i]);
		fputc('\n', stderr);
	}
	if (!errors->n)
		fprintf(stderr, _("overstap: %s: %s\n"), file, strerror(-r));
	else
		fprintf(stderr, ngettext("overstap: %s: %zu error, %s\n", "overstap: %s: %zu errors, %s\n",
					 errors->n), file, errors->n, nothing);
	strlist_clear(errors);
	return r == -ENOMEM ? CLI_EXIT_REFUSED : CLI_EXIT_INPUT;
}

int cli_config_load(const struct cli *cli, struct config **out)
{
	const char *path = cli_config_path(cli);
	struct strlist errors = { 0 };
	char hint[256];
	int r;

	r = config_load(path, out, &errors);
	if (r == -EACCES)	/* its one message, with what to do about it */
		fprintf(stderr, _("overstap: cannot read config %s: %s%s\n"), path, strerror(-r),
			s_group_hint(path, hint, sizeof(hint)));
	else if (r < 0 && errors.n == 0)
		fprintf(stderr, _("overstap: cannot read config %s: %s\n"), path, strerror(-r));
	for (size_t i = 0; r != -EACCES && i < errors.n; i++)
		fprintf(stderr, _("overstap: %s\n"), errors.v[i]);
	strlist_clear(&errors);
	return r < 0 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

/* -s, then $OVERSTAP_SOCKET, then [control] socket from the config: the config
 * is read only when it is the one place left to look. A config that does not
 * load must not lock staff out of a daemon that still runs on its last good
 * version (as chronyc works without chrony.conf): then the socket the file
 * names, or the default one, is tried, with a warning. */
static int s_socket_path(const struct cli *cli, char *buf, size_t len)
{
	const char *env = getenv("OVERSTAP_SOCKET"), *path = cli_config_path(cli);
	struct strlist errors = { 0 };
	struct config *c = NULL;
	char hint[256];
	int r, named;

	if (cli->socket || (env && *env)) {
		const char *p = cli->socket ? cli->socket : env;
		/* Accept the endpoint form too, as the daemon's log may print it. */
		if (strncmp(p, "ipc://", 6) == 0)
			p += 6;
		if (str_copy(buf, len, p) < 0) {
			fprintf(stderr, _("overstap: control socket path too long\n"));
			return CLI_EXIT_USAGE;
		}
		return CLI_EXIT_OK;
	}
	r = config_load(path, &c, &errors);
	if (r == 0) {
		str_copy(buf, len, c->control_socket);	/* same size, cannot be cut */
		config_free(&c);
		return CLI_EXIT_OK;
	}
	named = config_control_socket(path, buf, len);
	/* No config at the default place is normal on a staff machine; a file
	 * named by -c or $OVERSTAP_CONFIG that is not there is a typo to show. */
	if (r == -ENOENT && strcmp(path, CLI_DEFAULT_CONFIG) != 0)
		fprintf(stderr, _("overstap: warning: cannot read %s: %s%s\n"), path, strerror(-r), "");
	if (r == -EACCES)
		fprintf(stderr, _("overstap: warning: cannot read %s: %s%s\n"), path, strerror(-r),
			s_group_hint(path, hint, sizeof(hint)));
	else if (r != -ENOENT && errors.n)
		fprintf(stderr, _("overstap: warning: %s%s; a running overstapd keeps the "
			"configuration it last loaded (overstap status shows a failed reload)\n"),
			errors.v[0], errors.n > 1 ? _(" (and more: overstapd -t lists them)") : "");
	if (r != -ENOENT || strcmp(path, CLI_DEFAULT_CONFIG) != 0)
		fprintf(stderr, named ? _("overstap: trying the control socket %s\n")
				      : _("overstap: trying the default control socket %s\n"), buf);
	strlist_clear(&errors);
	return CLI_EXIT_OK;
}

/* How each failure of the round trip reads and exits (translated where
 * printed). */
static const struct {
	int err;
	int exit;
	const char *what;
	const char *hint;
} s_ctl_errors[] = {
	{ -ENOENT, CLI_EXIT_UNREACHABLE, N_("cannot reach overstapd"), N_("is the daemon running?") },
	{ -ECONNREFUSED, CLI_EXIT_UNREACHABLE, N_("cannot reach overstapd"), N_("is the daemon running?") },
	{ -ENOTSOCK, CLI_EXIT_UNREACHABLE, N_("cannot reach overstapd"), N_("is this the control socket?") },
	{ -EACCES, CLI_EXIT_UNREACHABLE, N_("cannot reach overstapd"),
	  N_("is your user in the control socket's group?") },
	{ -EBUSY, CLI_EXIT_UNREACHABLE, N_("overstapd is busy"),
	  N_("its queue of connections is full; try again in a moment") },
	{ -ETIMEDOUT, CLI_EXIT_UNREACHABLE, N_("no reply from overstapd"),
	  N_("the daemon is busy or hung; see its log, or raise --timeout") },
	{ -ENAMETOOLONG, CLI_EXIT_USAGE, N_("cannot use control socket"),
	  N_("unix socket paths are limited to 107 bytes") },
	{ -EMSGSIZE, CLI_EXIT_REFUSED, N_("request too large for overstapd"), N_("import fewer rows at once") },
	{ -ECONNRESET, CLI_EXIT_UNREACHABLE, N_("overstapd went away during the request"),
	  N_("it stopped or restarted; whether the request was carried out shows in its "
	  "audit log and the lists, so look before you try again") },
	{ -EBADMSG, CLI_EXIT_REFUSED, N_("unreadable reply from overstapd"),
	  N_("do the daemon and this client come from the same release?") },
};

static int s_ctl_error(const char *path, int err)
{
	char hint[256];

	if (err == -EACCES && *s_group_hint(path, hint, sizeof(hint))) {
		fprintf(stderr, _("overstap: cannot reach overstapd at %s: %s%s\n"), path,
			strerror(-err), hint);
		return CLI_EXIT_UNREACHABLE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(s_ctl_errors); i++)
		if (s_ctl_errors[i].err == err) {
			fprintf(stderr, _("overstap: %s at %s: %s (%s)\n"), _(s_ctl_errors[i].what),
				path, strerror(-err), _(s_ctl_errors[i].hint));
			return s_ctl_errors[i].exit;
		}
	fprintf(stderr, _("overstap: cannot talk to overstapd at %s: %s\n"), path, strerror(-err));
	return CLI_EXIT_UNREACHABLE;
}

/* A reply from the daemon that we must not read as success. */
static int s_reply_error(const Overstapctl__Reply *rep, Overstapctl__Reply__BodyCase want)
{
	if (rep->version != OVERSTAPCTL__VERSION__CURRENT) {
		fprintf(stderr, _("overstap: overstapd speaks control protocol version %u, this "
			"client version %u: install matching versions of overstap and overstapd\n"),
			rep->version, (unsigned)OVERSTAPCTL__VERSION__CURRENT);
		if (rep->error && *rep->error) {
			fputs(_("overstap: overstapd says: "), stderr);
			out_text(stderr, rep->error);
			fputc('\n', stderr);
		}
	} else if (rep->code != 0) {
		fputs(_("overstap: "), stderr);
		out_text(stderr, rep->error && *rep->error ? rep->error : strerror(-rep->code));
		fputc('\n', stderr);
	} else if (want != OVERSTAPCTL__REPLY__BODY__NOT_SET && rep->body_case != want) {
		fprintf(stderr, _("overstap: unexpected reply from overstapd (body %d, expected %d)\n"),
			(int)rep->body_case, (int)want);
	} else {
		return CLI_EXIT_OK;
	}
	return CLI_EXIT_REFUSED;
}

static int s_request(struct cli *cli, Overstapctl__Request *req, Overstapctl__Reply__BodyCase want,
		     int partial, Overstapctl__Reply **out)
{
	char path[PATH_MAX];
	Overstapctl__Reply *rep = NULL;
	int r;

	*out = NULL;
	r = s_socket_path(cli, path, sizeof(path));
	if (r != CLI_EXIT_OK)
		return r;
	/* No user name: the daemon asks the kernel who we are (design.md §4.9). */
	req->version = OVERSTAPCTL__VERSION__CURRENT;
	req->lang = (char *)i18n_lang();	/* the daemon answers in it (design.md §10) */
	r = ctl_roundtrip(path, cli->timeout_ms, req, &rep);
	if (r < 0)
		return s_ctl_error(path, r);
	r = s_reply_error(rep, want);
	/* A refusal that still carries the result body has per-item reasons. */
	if (r == CLI_EXIT_OK || (partial && rep->version == OVERSTAPCTL__VERSION__CURRENT &&
				 rep->code != 0 && rep->body_case == want)) {
		*out = rep;
		return r;
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cli_request(struct cli *cli, Overstapctl__Request *req, Overstapctl__Reply__BodyCase want,
		Overstapctl__Reply **out)
{
	return s_request(cli, req, want, 0, out);
}

int cli_request_partial(struct cli *cli, Overstapctl__Request *req,
			Overstapctl__Reply__BodyCase want, Overstapctl__Reply **out)
{
	return s_request(cli, req, want, 1, out);
}

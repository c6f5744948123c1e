/* cli: what every overstap subcommand shares: the invocation context, the exit
 * codes, usage printing, the config lookup and the request/reply round trip
 * translated into messages and exit codes. */
#ifndef OVERSTAP_CLI_H
#define OVERSTAP_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "control.pb-c.h"

struct config;

/* Exit codes of overstap(1). Scripts depend on them: never renumber.
 *   0  ok
 *   1  the daemon (or a local operation) refused or failed, also partly
 *   2  usage or configuration error
 *   3  the daemon cannot be reached or did not answer in time
 *   4  the input file is missing or invalid; nothing was imported */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_UNREACHABLE = 3,
	CLI_EXIT_INPUT = 4,
};

#define CLI_DEFAULT_CONFIG "/etc/overstap/overstapd.conf"
#define CLI_DEFAULT_TIMEOUT_S 30

struct cli;

/* One row of the verb table in overstap.c. */
struct verb {
	const char *group;	/* first word, e.g. "handover" */
	const char *name;	/* second word, or NULL for one-word verbs ("status") */
	int (*run)(struct cli *cli, int argc, char **argv);	/* returns an exit code */
	const char *args;	/* synopsis after the verb words */
	const char *summary;	/* one line for `overstap --help` */
	const char *options;	/* option lines for `overstap VERB --help`, or NULL */
	const char *more_options;	/* printed after options: lines many verbs share
					 * (JSON_OPT, DIALECT_OPTS in overstap.c), each
					 * its own msgid; or NULL */
	const char *notes;	/* paragraph after the options, or NULL */
};

/* The invocation: global options plus the verb being run. */
/* store check and store backup wait this long unless --timeout is given:
 * a store of some GiB takes a minute or more (cmd_store.c). */
#define CLI_STORE_TIMEOUT_S 3600

struct cli {
	const char *socket;	/* -s PATH, or NULL: look it up when first needed */
	const char *config;	/* -c FILE, or NULL: $OVERSTAP_CONFIG, then the default */
	int timeout_ms;		/* --timeout, for the control-socket round trip */
	int timeout_given;	/* --timeout was given: a verb keeps its own default else */
	const struct verb *verb;	/* the verb being run, for its usage text */
	char prog[64];		/* "overstap handover list": argv[0] for getopt's messages */
};

/* Usage of the running verb on f. */
void cli_help(const struct cli *cli, FILE *f);

/* Print "PROG: message" and a pointer to --help on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* After getopt has printed what was wrong: the pointer to --help on stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_hint(const struct cli *cli);

/* A date option's value (--date, --until, ...): -1 when arg is a real date
 * written YYYY-MM-DD, else the usage error (exit 2, as for every malformed
 * option value, whichever verb it is given to). */
int cli_date_check(const struct cli *cli, const char *arg);

/* --by in the words a Dutch mentor types (leerling, ouder, voogd, any case)
 * as well as the codes pupil, parent, guardian: the code; by itself when it
 * is neither (for the caller to refuse). */
const char *cli_party_code(const char *by);

/* Parse a decimal number in [min, max] (the whole string). 0 or -EINVAL. */
int cli_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);

/* Options of a verb whose only option is --json: parses them and checks that
 * exactly npos positional arguments follow (they start at argv[optind]).
 * Returns -1 to go on, or the exit code to return (after --help or an error). */
int cli_json_only_options(struct cli *cli, int argc, char **argv, size_t npos, int *json);

/* Options of the list verbs: --cohort C, --limit N, --json, and --state S
 * when states (a NULL-terminated list of the valid ones) is not NULL. The
 * filter borrows strings from argv. Returns -1 to go on, or an exit code. */
int cli_list_options(struct cli *cli, int argc, char **argv, const char *const *states,
		     Overstapctl__ListFilter *filter, int *json);

/* True for "YYYY-YYYY" with consecutive years, the way cohorts are written. */
int cli_cohort_valid(const char *s);

/* The config file to read: -c, else $OVERSTAP_CONFIG, else the default. */
const char *cli_config_path(const struct cli *cli);

/* Find and load the config file (-c, $OVERSTAP_CONFIG, the default). On
 * failure its errors are printed and CLI_EXIT_USAGE is returned; on success
 * *out owns the config (config_free) and CLI_EXIT_OK is returned. */
struct strlist;

/* A CSV that did not parse: every problem on stderr, then "FILE: N errors,
 * NOTHING" (e.g. "nothing sent"); errors is cleared. The exit status: 4 for
 * the file, 1 when memory ran out. */
int cli_csv_failed(const char *file, int r, struct strlist *errors, const char *nothing);
int cli_config_load(const struct cli *cli, struct config **out);

/* Send req (version and user are filled in here) to the daemon and wait for
 * the reply, which must carry body `want` (any body, or none, when want is
 * OVERSTAPCTL__REPLY__BODY__NOT_SET). Every failure is printed here and
 * mapped to an exit code; on CLI_EXIT_OK *out owns the reply (free with
 * overstapctl__reply__free_unpacked(r, NULL)). */
int cli_request(struct cli *cli, Overstapctl__Request *req, Overstapctl__Reply__BodyCase want,
		Overstapctl__Reply **out);

/* Like cli_request, for verbs whose result lists per-item reasons (import,
 * registered, send): when the daemon refuses (code != 0) but still sends the
 * result body, the error is printed, *out owns the reply and
 * CLI_EXIT_REFUSED is returned, so the caller can show the reasons. When *out
 * is NULL there is nothing more to show. */
int cli_request_partial(struct cli *cli, Overstapctl__Request *req,
			Overstapctl__Reply__BodyCase want, Overstapctl__Reply **out);

/* The verbs (cmd_*.c). Each parses its own options and returns an exit code. */
int cmd_keys_gen(struct cli *cli, int argc, char **argv);
int cmd_keys_show(struct cli *cli, int argc, char **argv);
int cmd_keys_rotate(struct cli *cli, int argc, char **argv);
int cmd_audit_verify(struct cli *cli, int argc, char **argv);
int cmd_consent_grant(struct cli *cli, int argc, char **argv);
int cmd_registration_status(struct cli *cli, int argc, char **argv);
int cmd_outcome_record(struct cli *cli, int argc, char **argv);
int cmd_import_outcomes(struct cli *cli, int argc, char **argv);
int cmd_registration_record(struct cli *cli, int argc, char **argv);
int cmd_registration_list(struct cli *cli, int argc, char **argv);
int cmd_consent_withdraw(struct cli *cli, int argc, char **argv);
int cmd_consent_list(struct cli *cli, int argc, char **argv);
int cmd_consent_due(struct cli *cli, int argc, char **argv);
int cmd_audit_export(struct cli *cli, int argc, char **argv);
int cmd_keys_activate(struct cli *cli, int argc, char **argv);
int cmd_import_leavers(struct cli *cli, int argc, char **argv);
int cmd_import_consents(struct cli *cli, int argc, char **argv);
int cmd_handover_registered(struct cli *cli, int argc, char **argv);
int cmd_handover_inzage(struct cli *cli, int argc, char **argv);
int cmd_handover_send(struct cli *cli, int argc, char **argv);
int cmd_handover_list(struct cli *cli, int argc, char **argv);
int cmd_handover_show(struct cli *cli, int argc, char **argv);
int cmd_inbox_list(struct cli *cli, int argc, char **argv);
int cmd_inbox_show(struct cli *cli, int argc, char **argv);
int cmd_inbox_find(struct cli *cli, int argc, char **argv);
int cmd_import_enrolments(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_peers(struct cli *cli, int argc, char **argv);
int cmd_whoami(struct cli *cli, int argc, char **argv);
int cmd_import_registrations(struct cli *cli, int argc, char **argv);
int cmd_erase(struct cli *cli, int argc, char **argv);
int cmd_subject(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);
int cmd_lost(struct cli *cli, int argc, char **argv);
int cmd_store_check(struct cli *cli, int argc, char **argv);
int cmd_store_backup(struct cli *cli, int argc, char **argv);
int cmd_outbox_list(struct cli *cli, int argc, char **argv);
int cmd_audit_ack_incident(struct cli *cli, int argc, char **argv);
int cmd_outbox_retry(struct cli *cli, int argc, char **argv);
int cmd_outbox_cancel(struct cli *cli, int argc, char **argv);

/* Print a --json document on stdout and release it (*root = NULL): a NULL
 * *root (a build ran out of memory) prints nothing but a message on stderr.
 * CLI_EXIT_OK, or CLI_EXIT_REFUSED after that message. */
int cli_json_print(json_t **root);
/* rows[0..n) as one JSON array on stdout, each made by row_json (which gets
 * rows[i]): an exit code. */
int cli_json_rows(const void *const *rows, size_t n, json_t *(*row_json)(const void *row));

/* Shared renderers (text when obj is NULL, else members set on the JSON object
 * obj): handover show, inbox show and the consent tables, reused by `subject`.
 * The detail renderers return -EBADMSG when the dossier does not unpack (the
 * rest is still shown), -ENOMEM when a JSON member could not be built, else 0. */
int handover_detail_show(json_t *obj, const Overstapctl__HandoverDetail *d);
int inbox_detail_show(json_t *obj, const Overstapctl__InboxDetail *d);
/* A consent row as a JSON object: new reference, NULL on ENOMEM. */
json_t *consent_row_json(const Overstapctl__ConsentRow *r);
int consent_rows_text(Overstapctl__ConsentRow *const *rows, size_t n, const char *none);

#endif

/* overstap: the staff and administrator client of overstapd (design.md §7). main
 * parses the global options, looks the verb up in the table below and runs it;
 * every verb parses its own options and returns an exit code (cli.h). */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "completion.h"
#include "harden.h"
#include "i18n.h"
#include "util.h"

#ifndef OVERSTAP_VERSION
#define OVERSTAP_VERSION "unknown"	/* CMake defines it; this is for ad-hoc builds */
#endif

/* The --json line of every verb that has it, alone or in a verb's second
 * options field after its own (struct verb): one msgid, which xgettext
 * finds here in the macro's body. */
#define JSON_OPT N_("  -j, --json            print JSON instead of a table\n")
/* The CSV-dialect options of every import (client/dialect.c), one msgid too,
 * in a verb's second options field after its own. */
#define DIALECT_OPTS                                                                            \
	N_("      --delimiter C     the separator: , ; or tab (default: found in the\n"           \
	   "                        header line)\n"                                                \
	   "      --encoding E      utf-8, windows-1252 or another iconv name (default:\n"        \
	   "                        UTF-8 when the bytes are, else Windows-1252)\n"               \
	   "      --date-format F   ymd (YYYY-MM-DD), dmy (DD-MM-YYYY) or mdy (default:\n"        \
	   "                        each date by where its four-digit year stands)\n"             \
	   "      --strict          unknown columns are errors, not ignored\n"                     \
	   "      --map FILE        the school's own column names and codes (INI:\n"              \
	   "                        [columns] and [values.COLUMN], see overstap(1))\n")

static int s_cmd_completion(struct cli *cli, int argc, char **argv);

/* Every command overstap knows: one row each, in the order --help lists them. */
static const struct verb s_verbs[] = {
	{ "status", NULL, cmd_status, N_("[--json]"),
	  N_("the daemon's health: peers, connections, queues, rejected messages"),
	  JSON_OPT, NULL, NULL },
	{ "completion", NULL, s_cmd_completion, N_("bash"),
	  N_("print the bash completion script (commands and options as --help lists them)"),
	  NULL, NULL,
	  N_("The package installs it for bash-completion. By hand: eval \"$(overstap\n"
	  "completion bash)\" in ~/.bashrc; zsh takes it after `autoload -U bashcompinit\n"
	  "&& bashcompinit`.\n") },
	{ "peers", NULL, cmd_peers, N_("[--json]"),
	  N_("the configured peers and whether they are connected"),
	  JSON_OPT, NULL, NULL },
	{ "whoami", NULL, cmd_whoami, N_("[--json]"),
	  N_("who overstapd takes you to be, and what your groups let you do"),
	  JSON_OPT, NULL,
	  N_("overstapd asks the kernel who is on its control socket; the rights (read,\n"
	  "mentor, intake, quality, privacy, admin) come from the groups [control] names\n"
	  "in overstapd.conf. A command you lack the right for is refused and audited.\n") },
	{ "keys", "gen", cmd_keys_gen, N_("--dir DIR [--force]"),
	  N_("generate this institution's key files (local, no daemon)"),
	  N_("  -d, --dir DIR         directory for the key files (created with mode 0700)\n"
	  "  -f, --force           replace key files that already exist\n"), NULL, NULL },
	{ "keys", "show", cmd_keys_show, N_("[--dir DIR] [--id ID] [--endpoint EP]"),
	  N_("print the [peer] block a counterpart pastes into its config"),
	  N_("  -d, --dir DIR         key directory (default: keys_dir from the config)\n"
	  "  -i, --id ID           this institution's id, e.g. 12AB00 (default: from the config)\n"
	  "  -e, --endpoint EP     where counterparts connect, e.g. tcp://overstap.school.nl:7470\n"
	  "                        (default: [network] listen with this host's name)\n"), NULL, NULL },
	{ "keys", "rotate", cmd_keys_rotate, N_("[--dir DIR] [--id ID] [--days N] [--force]"),
	  N_("start a key rollover: make the next key pair, print what peers add"),
	  N_("  -d, --dir DIR         key directory (default: keys_dir from the config)\n"
	  "  -i, --id ID           this institution's id (default: from the config)\n"
	  "  -n, --days N          length of the rollover window in days (default 14)\n"
	  "  -f, --force           replace a next key pair that already exists\n"), NULL,
	  N_("Writes curve.next.{pub,key} and sign.next.{pub,key} beside the current keys and\n"
	  "prints the lines each peer adds to its [peer ID] section. Peers then accept the\n"
	  "old and the new keys until rollover_until. Once they all have, run `overstap\n"
	  "keys activate` and reload overstapd, before the window closes.\n") },
	{ "keys", "activate", cmd_keys_activate, N_("[--dir DIR]"),
	  N_("finish a key rollover: the next key pair becomes the current one"),
	  N_("  -d, --dir DIR         key directory (default: keys_dir from the config)\n"), NULL,
	  N_("Renames the next pair over the current one (the old secret keys are gone\n"
	  "afterwards). Reload overstapd (systemctl reload overstapd) to use it: it dials\n"
	  "every peer again, listens with the new key and re-signs queued messages.\n") },
	{ "consent", "grant", cmd_consent_grant,
	  N_("PUPIL --purpose P --by WHO --evidence HOW --ref DOC [--to ID] [--date D] [--until D]"),
	  N_("record a consent (design.md §3); the daemon checks the age rule and the dates"),
	  N_("  -p, --purpose P       handover or follow_up (outcomes back to the school)\n"
	  "  -b, --by WHO          who gave it: pupil, parent or guardian. On the day it\n"
	  "                        is given, under 16 only a parent or guardian may, from\n"
	  "                        16 only the pupil\n"
	  "  -e, --evidence HOW    form, digital, email or verbal_recorded\n"
	  "  -r, --ref DOC         where the evidence is kept (no names: a document number)\n"
	  "      --to ID           the institution it allows, or '*' for any (default: the\n"
	  "                        pupil's destination institution)\n"
	  "  -d, --date D          the day it was given (default today; never in the future)\n"
	  "  -u, --until D         last day it is valid (default: no end date)\n"),
	  JSON_OPT, NULL },
	{ "consent", "withdraw", cmd_consent_withdraw, N_("CONSENT_ID [--date D]"),
	  N_("record that a consent was withdrawn, from D (default today)"),
	  N_("  -d, --date D          the day of the withdrawal (not before the grant, not later\n"
	  "                        than today)\n"), JSON_OPT, NULL },
	{ "consent", "list", cmd_consent_list, N_("[PUPIL] [--json]"),
	  N_("every consent recorded (of one pupil), with its history"),
	  JSON_OPT, NULL, NULL },
	{ "consent", "due", cmd_consent_due, N_("[--days N] [--json]"),
	  N_("consents needing attention: parental ones of pupils now 16, ones expiring soon"),
	  N_("  -n, --days N          expiring within N days (default 60)\n"), JSON_OPT,
	  N_("A parental consent stays listed until the pupil, now 16 or older, has granted\n"
	  "one covering the same purpose and institution (or it is withdrawn).\n") },
	{ "audit", "verify", cmd_audit_verify, N_("[--json]"),
	  N_("check the audit log's hash chain; exit 1 when an entry was altered"),
	  JSON_OPT, NULL,
	  N_("Recomputes every entry's HMAC chain link and names the first entry that was\n"
	  "edited, removed or reordered. Keep the printed head (entry count and mac)\n"
	  "elsewhere: a log cut short at its end still verifies, the head then differs.\n") },
	{ "audit", "ack-incident", cmd_audit_ack_incident, N_("ID [--note TEXT]"),
	  N_("acknowledge an audit incident once it has been seen to"),
	  N_("  -n, --note TEXT       what was found and done (kept with the incident)\n"), NULL,
	  N_("A peer's checkpoint that showed entries removed from or rewritten in the audit\n"
	  "log, or a peer's own log going back, is an incident: `audit verify` lists it and\n"
	  "exits 1 until it is acknowledged, whatever later checkpoints say. Audited as\n"
	  "audit.incident_acked.\n") },
	{ "audit", "export", cmd_audit_export, N_("[--from N] [-o FILE [--force]]"),
	  N_("write the audit log as JSON lines"),
	  N_("  -f, --from N          start at entry N (default 1)\n"
	  "  -o, --output FILE     write to FILE (a new file, mode 0600) instead of\n"
	  "                        standard output\n"
	  "      --force           replace FILE when it exists (never through a link)\n"), NULL,
	  N_("One object per line: seq, at (UTC), actor, action, subject (a record id or\n"
	  "leaver:N, never a name), counterpart, detail, mac.\n") },
	{ "store", "check", cmd_store_check, N_("[--json]"),
	  N_("check the whole store (PRAGMA integrity_check); exit 1 when it is damaged"),
	  JSON_OPT, NULL,
	  N_("Prints \"ok\", or the problems sqlite found. A damaged store refuses every\n"
	  "write until it is restored from a backup (overstapd(8), RESTORING FROM A BACKUP).\n"
	  "Reads every page: on a large store it holds the daemon for a while.\n") },
	{ "store", "backup", cmd_store_backup, N_("FILE [--force] [--json]"),
	  N_("write a consistent copy of the store to FILE, to restore from"),
	  N_("  -f, --force           replace FILE if it exists (a symlink is replaced, not followed)\n"),
	  JSON_OPT,
	  N_("The daemon writes FILE (mode 0600, as its own user, so in a directory it may\n"
	  "write, e.g. /var/lib/overstap/backup) with sqlite's online backup while it keeps\n"
	  "running. The copy is as sealed as the store: keep master.key, backed up apart,\n"
	  "to read it. To restore: stop overstapd, copy FILE over [store] path, remove the\n"
	  "store's -wal and -shm files, start overstapd.\n") },
	{ "outbox", "list", cmd_outbox_list, N_("[--refused] [--peer ID] [--json]"),
	  N_("parked messages: refused for their size or protocol version, kept, not sent"),
	  N_("  -r, --refused         instead: what receivers refused for good, with their reason\n"
	  "  -p, --peer ID         only those to this peer\n"), JSON_OPT,
	  N_("A receiver that refuses a message for what an administrator can change (it\n"
	  "is larger than its max_message_size, or of a protocol version it does not\n"
	  "speak) has it parked here, as has a message queued over the limit the\n"
	  "receiver announced. Parked messages never block what is queued behind them\n"
	  "and are not sent again until retried. `overstap status` counts them.\n"
	  "With --refused: the messages a receiver refused for good (a status or\n"
	  "outcome the school did not accept, say for want of consent), each with the\n"
	  "record id, event, date and the reason the receiver gave; `overstap status`\n"
	  "counts them too.\n") },
	{ "outbox", "retry", cmd_outbox_retry, N_("ID... | --all [--peer ID]"),
	  N_("queue parked messages again (after the receiver raised its limit)"),
	  N_("  -a, --all             every parked message\n"
	  "  -p, --peer ID         with --all: only those to this peer\n"), NULL,
	  N_("A message still over the receiver's announced limit is parked again at once.\n") },
	{ "outbox", "cancel", cmd_outbox_cancel, N_("ID... | --all [--peer ID]"),
	  N_("give parked messages up; a parked dossier's handover becomes cancelled"),
	  N_("  -a, --all             every parked message\n"
	  "  -p, --peer ID         with --all: only those to this peer\n"), NULL,
	  N_("Audited per message (message.cancelled). A cancelled dossier is not sent again.\n") },
	{ "outcome", "record", cmd_outcome_record, N_("RECORD_ID OUTCOME [--date D] [--level N]"),
	  N_("at the receiver: tell the school how a pupil fares, under its follow_up consent"),
	  N_("  -d, --date D          when (default today)\n"
	  "  -l, --level N         MBO level 1-4, for diploma and progressed\n"), NULL,
	  N_("OUTCOME is still_enrolled, diploma, progressed, switched or left_without_diploma.\n"
	  "Refused unless the dossier asserted a follow_up consent for this institution\n"
	  "that is in force and not withdrawn; the refusal is in the audit log. A queued\n"
	  "outcome whose consent ends before it is sent is cancelled, never sent.\n") },
	{ "import", "outcomes", cmd_import_outcomes, N_("[options] FILE.csv"),
	  N_("at the receiver: statuses and outcomes from a CSV, all or nothing"),
	  N_("  -n, --check           run every check (the daemon's too), queue nothing\n"),
	  DIALECT_OPTS,
	  N_("Columns record_id, event, date, level (design.md §8). Every bad row is reported as\n"
	  "FILE:LINE: column: reason (exit 4); a row the daemon refuses (unknown record,\n"
	  "no consent for an outcome) refuses the file (exit 1). Nothing is sent then.\n") },
	{ "registration", "record", cmd_registration_record, N_("PGN --from SCHOOL [--date D]"),
	  N_("at the receiver: tell a school that its pupil registered here"),
	  N_("  -f, --from SCHOOL     the school's institution id (a configured peer)\n"
	  "  -d, --date D          date of registration (default today)\n"), NULL,
	  N_("The school's daemon marks its leaver with this PGN registered, so the dossier\n"
	  "can be sent. The PGN travels (there is no record id yet) but is not logged.\n") },
	{ "registration", "list", cmd_registration_list, N_("[PGN] [--school ID] [--json]"),
	  N_("at the receiver: the registrations sent, and what each became"),
	  N_("  -s, --school ID       only those to this school\n"), JSON_OPT,
	  N_("Each registration recorded here (registration record, import registrations)\n"
	  "with its state: queued (the school has not taken it yet), delivered, refused\n"
	  "(with the school's reason), parked or cancelled. With a PGN, only those of\n"
	  "that pupil: the search is audited, the PGN is not logged. A registration is\n"
	  "listed as long as a dossier received would be kept (retention).\n") },
	{ "registration", "status", cmd_registration_status, N_("RECORD_ID STATUS [--date D]"),
	  N_("at the receiver: tell the school a registration status of a handover it sent"),
	  N_("  -d, --date D          when it happened (default today)\n"), NULL,
	  N_("STATUS is registered, agreement_offered, not_enrolled, withdrawn, enrolled or\n"
	  "intake_held (the warm part: the intake conversation took place). Statuses\n"
	  "are statutory: no consent needed. They refer to the record id, never the PGN.\n"
	  "`overstap status set` is the old name of this command; it still works, with a\n"
	  "warning, and goes in the next release.\n") },
	{ "import", "enrolments", cmd_import_enrolments, N_("[options] FILE.csv"),
	  N_("at the MBO: every new enrolment, with or without a dossier, for the report"),
	  N_("  -n, --check           run every check, say what would happen, change nothing\n"),
	  DIALECT_OPTS,
	  N_("FILE.csv has a header row, in any CSV dialect (see overstap(1)): pgn (BSN or\n"
	  "onderwijsnummer), level (MBO level 1-4), start_date and, when known, previous (the\n"
	  "previous education as a program code: pro, vso_arbeid, vmbo_b, ...). Each\n"
	  "enrolment is stored with its PGN encrypted, matched to the dossier received\n"
	  "for the student, retained and erased like a dossier. The receiving report\n"
	  "then counts the whole intake: `students`, `enrolments`, `dossier_by_start`\n"
	  "(of enrolments: the dossier was there on or before the first day) and a\n"
	  "`no_dossier` row under previous education. A row already held (same pgn and\n"
	  "start_date) is left as it is, or corrected when its level or previous\n"
	  "differs, so a longer or corrected list can be imported again.\n") },
	{ "import", "registrations", cmd_import_registrations, N_("[options] FILE.csv"),
	  N_("at the receiver: registrations from a CSV, told to each sending school"),
	  N_("  -n, --check           run every check (the daemon's too), queue nothing\n"),
	  DIALECT_OPTS,
	  N_("Columns pgn, sending_school, registered_on (all required, any order). Every\n"
	  "bad row is reported as FILE:LINE: column: reason (exit 4); a school that is\n"
	  "not a configured peer refuses the file (exit 1). Nothing is sent then.\n") },
	{ "erase", NULL, cmd_erase, N_("PUPIL|RECORD_ID [--yes]"),
	  N_("erase a pupil for good (right to erasure), by destroying the pupil key"),
	  N_("  -y, --yes             do not ask (for scripts); else retype the key to confirm\n"), NULL,
	  N_("At the school PUPIL is the pupil number: every consent is withdrawn, the\n"
	  "receiver is sent a Withdrawal (it erases what it holds under them and sends a\n"
	  "receipt), the pupil's data key is destroyed (no copy of the store made from\n"
	  "now on can be decrypted), and the pupil's statuses and outcomes are deleted.\n"
	  "At a receiver RECORD_ID erases a received dossier and its timeline.\n") },
	{ "subject", NULL, cmd_subject, N_("PUPIL|PGN|RECORD_ID [--format F] [-o FILE [--force]]"),
	  N_("the GDPR access report: everything held on one pupil, and who saw or got it"),
	  N_("  -f, --format F        text (default) or html: the letter for the pupil and\n"
	  "                        parents, in Dutch; json: the evidence, as the daemon\n"
	  "                        returned it, audit entries with their MACs\n"
	  "  -j, --json            the same as --format json\n"
	  "  -o, --output FILE     write to FILE (created 0600, never over an existing\n"
	  "                        file) instead of standard output\n"
	  "      --force           with -o: replace FILE if it exists\n"), NULL,
	  N_("Everything held on the pupil, decrypted: the dossier, the timeline, every\n"
	  "consent with its history and withdrawal, every withdrawal and receipt, every\n"
	  "dossier received and registration sent, and every audit entry about the\n"
	  "pupil. The letter says it in plain Dutch, names institutions and staff roles\n"
	  "rather than ids and logins, and prints well (html). The report is audited.\n") },
	{ "report", NULL, cmd_report,
	  N_("[--cohort C,...] [--by DIM,...] [--side sending|receiving] [--format F] "
	  "[--csv-dialect D] [--language nl|en] [-o FILE [--force]]"),
	  N_("the quality-care report: where leavers went and how they fare, suppressed"),
	  N_("  -C, --cohort C,...    only these cohorts (default: every cohort held)\n"
	  "  -b, --by DIM,...      group by these dimensions, in order. Sending side:\n"
	  "                        cohort, program, destination, institution, advice,\n"
	  "                        followed (advice followed; no = zelfmelder), taal,\n"
	  "                        rekenen. Receiving side: cohort, previous, school,\n"
	  "                        destination. Default: one row per cohort total.\n"
	  "  -s, --side SIDE       sending (the school's leavers, default) or receiving\n"
	  "                        (the intake of an MBO)\n"
	  "  -f, --format F        text (default), csv, json or html\n"
	  "  -j, --json            the same as --format json\n"
	  "      --csv-dialect D   excel-nl (';', decimal comma, UTF-8 BOM: opens as it\n"
	  "                        stands in a Dutch spreadsheet) or rfc4180 (',',\n"
	  "                        decimal point, no BOM); both CRLF. Default: the\n"
	  "                        daemon's [report] csv_dialect (excel-nl)\n"
	  "      --language L      nl or en: the language of the text, CSV and HTML\n"
	  "                        report. Default: the daemon's [report] language (nl)\n"
	  "  -o, --output FILE     write to FILE (a new file, mode 0600) instead of\n"
	  "                        standard output\n"
	  "      --force           replace FILE when it exists (never through a link)\n"), NULL,
	  N_("Measures and denominators as design.md §6 defines them (see overstap(1)). Counts\n"
	  "below [report] min_cell are shown as <5, more are withheld where they could\n"
	  "be worked out from the totals, and rates are clamped when small: by the\n"
	  "daemon, so no format ever carries a withheld value. The report is audited.\n") },
	{ "lost", NULL, cmd_lost, N_("[--cohort C,...] [--days N] [--json]"),
	  N_("the named list of pupils out of sight, for the mentor (never in a report)"),
	  N_("  -C, --cohort C,...    only these cohorts\n"
	  "  -d, --days N          not enrolled N days after the expected start of\n"
	  "                        1 September (default 30)\n"), JSON_OPT,
	  N_("A pupil is out of sight when the dossier was delivered but no enrolment came\n"
	  "back N days after the expected start, or when they left without a diploma.\n"
	  "Shows names: for the local operator only. Each listing is audited.\n") },
	{ "import", "leavers", cmd_import_leavers, N_("[options] FILE.csv"),
	  N_("validate a leavers CSV and import it, all or nothing"),
	  N_("  -n, --check           run every check, say what would happen, change nothing\n"
	  "      --chunk N         rows a request (default 5000); the daemon imports the\n"
	  "                        whole file, or nothing, at the last\n"),
	  DIALECT_OPTS,
	  N_("FILE.csv has a header row naming its columns (or their Dutch names, see\n"
	  "overstap(1); unknown columns are ignored with one warning):\n"
	  "  required  pupil_ref, birth_date, program, cohort, exit_date, destination_type\n"
	  "  optional  pgn, given_name, tussenvoegsel, family_name,\n"
	  "            destination_institution, advice, advice_followed, level_taal,\n"
	  "            level_rekenen, support_needs,\n"
	  "            mentor_name, mentor_email, mentor_phone\n"
	  "(pgn is required with destination_institution, the names with pgn.)\n"
	  "Every bad row is reported as FILE:LINE: column: reason, and then nothing is\n"
	  "imported (exit status 4).\n"
	  "Imports are cumulative: the same file again, or next month's longer one, adds\n"
	  "new pupils, skips unchanged rows and updates changed ones while the dossier has\n"
	  "not left (inzage is then recorded again); a changed row whose dossier was sent\n"
	  "is kept as it was and reported with the date. A destination that is not a\n"
	  "configured peer is a warning: its rows stay unsendable until it is one.\n") },
	{ "import", "consents", cmd_import_consents, N_("[options] FILE.csv"),
	  N_("record consents in bulk (paper forms, the LAS), all or nothing"),
	  N_("  -n, --check           run every check, say what would happen, change nothing\n"),
	  DIALECT_OPTS,
	  N_("FILE.csv is UTF-8 with a header row naming its columns:\n"
	  "  required  pupil_ref, purpose, by, evidence, ref\n"
	  "  optional  for (an institution id or '*'; default: the pupil's destination),\n"
	  "            granted_on (default today), until (default: no end date)\n"
	  "The rules of `consent grant` hold for every row (the pupil is imported, under\n"
	  "16 on granted_on only a parent or guardian may grant, from 16 only the pupil).\n"
	  "Every bad row is reported as FILE:LINE: column: reason, and then nothing is\n"
	  "recorded (exit status 4). A row equal to a consent the pupil holds is unchanged.\n") },
	{ "handover", "registered", cmd_handover_registered, N_("REF... [--date YYYY-MM-DD]"),
	  N_("record that pupils registered at their destination"),
	  N_("  -d, --date DATE       registration date (default: today)\n"), NULL, NULL },
	{ "handover", "inzage", cmd_handover_inzage,
	  N_("REF... --by pupil|parent|guardian --agrees yes|no [--why TEXT] [--date YYYY-MM-DD]"
	  " [--remarks TEXT | --remarks-file FILE]"),
	  N_("record who saw the dossier before it leaves, whether they agree, and their remarks"),
	  N_("  -b, --by WHO          pupil (16 or older), parent or guardian\n"
	  "  -a, --agrees yes|no   do they agree with the dossier? (required)\n"
	  "  -w, --why TEXT        why not, in their words (required with --agrees no)\n"
	  "  -d, --date DATE       date of the inzage (default: today)\n"
	  "  -r, --remarks TEXT    their remarks; they travel with the dossier verbatim\n"
	  "  -R, --remarks-file F  read the remarks from a file (- for standard input)\n"), NULL,
	  N_("The dossier leaves only after inzage: by a parent or guardian while the pupil\n"
	  "is under 16, by the pupil from 16 on. Disagreeing does not stop the dossier:\n"
	  "their view (--why) travels with it, verbatim, as the remarks do.\n") },
	{ "handover", "send", cmd_handover_send, N_("REF... | --all-ready"),
	  N_("send handovers whose pupils registered and had inzage"),
	  N_("  -a, --all-ready       send every handover that is ready\n"), NULL,
	  N_("A handover is ready once its pupil registered at the destination and the\n"
	  "inzage is recorded. Prints \"queued REF\" per handover queued and\n"
	  "\"refused REF: reason\" (on standard error) per handover refused.\n") },
	{ "handover", "list", cmd_handover_list, N_("[--state S] [--cohort C] [--limit N] [--json]"),
	  N_("list this institution's outgoing handovers"),
	  N_("  -S, --state S         only this state: imported, registered (not yet had\n"
	  "                        inzage), ready (to send), queued, parked, delivered,\n"
	  "                        cancelled or erased\n"
	  "  -C, --cohort C        only this cohort, e.g. 2024-2025\n"
	  "  -n, --limit N         at most N rows\n"), JSON_OPT, NULL },
	{ "handover", "show", cmd_handover_show, N_("REF [--json]"),
	  N_("one outgoing handover with its full dossier"),
	  JSON_OPT, NULL, NULL },
	{ "inbox", "list", cmd_inbox_list, N_("[--cohort C] [--limit N] [--json]"),
	  N_("list the handovers received from sending schools"),
	  N_("  -C, --cohort C        only this cohort, e.g. 2024-2025\n"
	  "  -n, --limit N         at most N rows\n"), JSON_OPT, NULL },
	{ "inbox", "show", cmd_inbox_show, N_("RECORD_ID [--json]"),
	  N_("one received handover with its dossier"),
	  JSON_OPT, NULL, NULL },
	{ "inbox", "find", cmd_inbox_find, N_("PGN | --name TEXT [--json]"),
	  N_("find received handovers by the student's PGN (BSN) or a part of the name"),
	  N_("  -N, --name TEXT       a part of the given or family name (letters as written;\n"
	  "                        ASCII letters in any case)\n"), JSON_OPT,
	  N_("By PGN through the pseudonym index of received dossiers; by name every\n"
	  "dossier not erased is opened in turn. Each search is audited\n"
	  "(inbox.searched) with the record ids found, never the PGN or name asked for.\n") },
};

/* Commands renamed, under their old names for one release more: administrators'
 * scripts keep working, with a warning on stderr. Not in --help or the
 * completion. */
static const struct {
	const char *old_group, *old_name;	/* what scripts still type */
	const char *group, *name;		/* the row of s_verbs it is now */
} s_renamed[] = {
	{ "status", "set", "registration", "status" },	/* 0.1.0: read as `status` (issue 15) */
};

/* "handover list" or "status" into buf. */
static const char *s_words(const struct verb *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", v->group, v->name ? " " : "", v->name ? v->name : "");
	return buf;
}

/* The command list, all of it (group NULL) or one group's. */
static void s_list(FILE *f, const char *group)
{
	char w[64];
	int width = 0;

	for (size_t i = 0; i < ARRAY_SIZE(s_verbs); i++)
		if (!group || strcmp(group, s_verbs[i].group) == 0) {
			int n = (int)strlen(s_words(&s_verbs[i], w, sizeof(w)));
			width = n > width ? n : width;
		}
	for (size_t i = 0; i < ARRAY_SIZE(s_verbs); i++)
		if (!group || strcmp(group, s_verbs[i].group) == 0)
			fprintf(f, "  %-*s  %s\n", width, s_words(&s_verbs[i], w, sizeof(w)),
				_(s_verbs[i].summary));
}

static int s_cmd_completion(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'h')
			return cli_usage_hint(cli);
		cli_help(cli, stdout);
		return CLI_EXIT_OK;
	}
	if (argc - optind != 1 || strcmp(argv[optind], "bash") != 0)
		return cli_usage_error(cli, "say which shell: bash");
	if (completion_write_bash(stdout, s_verbs, ARRAY_SIZE(s_verbs)) < 0) {
		fputs(_("overstap: cannot write the completion script\n"), stderr);
		return CLI_EXIT_REFUSED;
	}
	return CLI_EXIT_OK;
}

static void s_usage(FILE *f)
{
	fputs(_("usage: overstap [-s PATH] [-c FILE] [-t SEC] COMMAND [ARGS]\n\n"
	      "Staff and administrator client of overstapd: the warm handover of pupils'\n"
	      "dossiers from school to MBO, and what became of them.\n\ncommands:\n"), f);
	s_list(f, NULL);
	fputc('\n', f);
	fprintf(f, _("global options (before the command):\n"
		"  -s, --socket PATH     control socket of overstapd (default: $OVERSTAP_SOCKET,\n"
		"                        else [control] socket from the config file)\n"
		"  -c, --config FILE     overstapd.conf to read (default: $OVERSTAP_CONFIG,\n"
		"                        else %s)\n"
		"  -t, --timeout SEC     how long to wait for the daemon (default 30)\n"
		"  -h, --help            this help; `overstap COMMAND --help` for one command\n"
		"  -V, --version         print the version\n"
		"\n"
		"exit status:\n"
		"  0  ok\n"
		"  1  the daemon refused or failed (also when only some items were refused)\n"
		"  2  usage or configuration error\n"
		"  3  overstapd cannot be reached or did not answer in time\n"
		"  4  the input file is missing or invalid; nothing was imported\n"),
		CLI_DEFAULT_CONFIG);
}

static void s_group_usage(FILE *f, const char *group)
{
	fprintf(f, _("usage: overstap %s COMMAND [ARGS]\n\ncommands:\n"), group);
	s_list(f, group);
	fprintf(f, _("\n`overstap %s COMMAND --help` shows the options of one command.\n"), group);
}

static int s_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/* argv[0] is the first verb word. Finds the row, hands the verb its own argv
 * (argv[0] = "overstap GROUP NAME", so getopt's messages name the command). */
static int s_dispatch(struct cli *cli, int argc, char **argv)
{
	const char *group = argv[0], *name = argc > 1 ? argv[1] : NULL;
	int group_known = 0;

	for (size_t i = 0; name && i < ARRAY_SIZE(s_renamed); i++) {
		if (strcmp(group, s_renamed[i].old_group) != 0 ||
		    strcmp(name, s_renamed[i].old_name) != 0)
			continue;
		fprintf(stderr, _("overstap: '%s %s' is now '%s %s'; the old name goes in the "
				  "next release\n"), group, name, s_renamed[i].group, s_renamed[i].name);
		/* argv[0..1] need no change: the verb gets its own argv[0] below */
		group = s_renamed[i].group;
		name = s_renamed[i].name;
		break;
	}

	for (size_t i = 0; i < ARRAY_SIZE(s_verbs); i++) {
		const struct verb *v = &s_verbs[i];
		if (strcmp(v->group, group) != 0)
			continue;
		group_known = 1;
		if (v->name && (!name || strcmp(v->name, name) != 0))
			continue;
		if (v->name) {
			argc--;
			argv++;
		}
		cli->verb = v;
		s_words(v, cli->prog + 9, sizeof(cli->prog) - 9);
		argv[0] = cli->prog;
		optind = 0;	/* glibc: 0 reinitialises getopt for the verb's own argv */
		return v->run(cli, argc, argv);
	}
	if (group_known && name && s_is_help(name)) {
		s_group_usage(stdout, group);
		return CLI_EXIT_OK;
	}
	if (group_known) {
		if (name)
			fprintf(stderr, _("overstap %s: unknown command '%s'\n"), group, name);
		s_group_usage(stderr, group);
		return CLI_EXIT_USAGE;
	}
	fprintf(stderr, _("overstap: unknown command '%s'\n\n"), group);
	s_usage(stderr);
	return CLI_EXIT_USAGE;
}

/* Global options; returns -1 to go on with the verb, or an exit code. */
static int s_global_options(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	unsigned sec;
	int c;

	/* '+': stop at the verb, its options are its own. */
	while ((c = getopt_long(argc, argv, "+s:c:t:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's': cli->socket = optarg; break;
		case 'c': cli->config = optarg; break;
		case 't':
			if (cli_parse_uint(optarg, 1, 86400, &sec) < 0) {
				fprintf(stderr, _("overstap: --timeout wants seconds (1-86400), not '%s'\n"), optarg);
				return CLI_EXIT_USAGE;
			}
			cli->timeout_ms = (int)sec * 1000;
			cli->timeout_given = 1;
			break;
		case 'h': s_usage(stdout); return CLI_EXIT_OK;
		case 'V': printf("overstap %s\n", OVERSTAP_VERSION); return CLI_EXIT_OK;
		default:
			fputs(_("Try 'overstap --help'.\n"), stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		s_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct cli cli = { .timeout_ms = CLI_DEFAULT_TIMEOUT_S * 1000, .prog = "overstap " };
	char herr[256] = "";
	int r;

	/* Reports, imports and `keys` hold pupils' data and our keys: no core
	 * dumps. A secure heap that cannot be locked is not worth a warning on
	 * every command a staff member types; overstapd warns about it. */
	if (harden_process(herr, sizeof(herr)) < 0) {
		fprintf(stderr, _("overstap: cannot turn core dumps off: %s\n"), herr);
		return CLI_EXIT_REFUSED;
	}
	(void)harden_secure_heap(herr, sizeof(herr));
	/* Messages in the user's language (design.md §10); a locale that is
	 * not installed leaves them English, as with any other program. */
	setlocale(LC_ALL, "");
	(void)i18n_init();
	r = s_global_options(&cli, argc, argv);
	if (r < 0)
		r = s_dispatch(&cli, argc - optind, argv + optind);
	/* Output cut short (full disk, closed pipe) must not look like success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror(_("overstap: writing output"));
		if (r == CLI_EXIT_OK)
			r = CLI_EXIT_REFUSED;
	}
	return r;
}

/* config: overstapd.conf, parsed with libinih. Sections [institution],
 * [network], [store], [control], [log] and one [peer ID] per counterpart.
 * Every error is reported as "FILE:LINE: message"; loading never stops at the
 * first error so an administrator sees them all at once. */
#ifndef OVERSTAP_CONFIG_H
#define OVERSTAP_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "util.h"

#define INSTITUTION_ID_LEN 6	/* BRIN (2 digits + 2 letters/digits) + 2-digit location */
/* The id in the example configuration the package installs. [institution] id
 * refuses it, so that a daemon never runs, nor is started by the package,
 * before its administrator has said who it is. */
#define CONFIG_PLACEHOLDER_ID "99XX00"

struct peer_cfg {
	char id[INSTITUTION_ID_LEN + 1];
	char name[128];
	char endpoint[256];			/* where we connect to send; "" = receive only */
	char curve_public[CRYPTO_Z85_KEY_LEN + 1];
	uint8_t sign_public[CRYPTO_SIGN_KEY_LEN];
	/* Key rollover: the peer's new keys, admitted next to the old ones until
	 * rollover_until; from then on only these are. "" / 0 = no rollover. */
	char curve_next[CRYPTO_Z85_KEY_LEN + 1];
	uint8_t sign_next[CRYPTO_SIGN_KEY_LEN];
	int has_sign_next;
	int64_t rollover_until;			/* unix ms */
	int line;				/* line of the [peer] header, for messages */
};

struct config {
	char path[PATH_MAX];
	/* [institution] */
	char institution_id[INSTITUTION_ID_LEN + 1];	/* required */
	char institution_name[128];
	char keys_dir[PATH_MAX];			/* required */
	/* [network] */
	char listen[256];		/* ZMQ endpoint for the ROUTER, required, e.g. tcp://0.0.0.0:7470 */
	int heartbeat_ivl_ms;		/* default 5000 */
	int heartbeat_timeout_ms;	/* default 15000 */
	int64_t max_message_size;	/* default 1 MiB; ZMQ_MAXMSGSIZE */
	unsigned max_in_flight;		/* per peer, default 2048 */
	unsigned receive_window;	/* in flight to us from all peers together, default 2048 */
	unsigned max_refused_registrations;	/* per peer per hour, default 100 (design.md §4) */
	int retry_initial_ms;		/* default 1000 */
	int retry_max_ms;		/* default 60000 */
	int checkpoint_interval_s;	/* audit checkpoints to peers, default 300 */
	int max_clock_skew_s;		/* how far a peer's created_at may be ahead, default 86400 */
	unsigned quota_messages_per_hour;	/* per peer, 0 = none, default 20000 (design.md §4) */
	int64_t quota_stored_bytes;	/* per peer in the inbox, 0 = none, default 1 GiB */
	int handshake_timeout_ms;	/* ZMQ_HANDSHAKE_IVL on every network socket, default 5000 */
	unsigned max_connections;	/* incoming connections held at once, default 1024 */
	unsigned max_connections_per_source;	/* of them from one address (IPv6 /64), default 32 */
	/* [store] */
	char store_path[PATH_MAX];	/* required */
	/* [control] */
	char control_socket[PATH_MAX];	/* filesystem path of the ipc socket, required */
	char control_group[64];		/* group allowed to use the CLI; "" = daemon's group */
	/* Rights per command (design.md §4.9, rights.c): Unix groups, separated
	 * by spaces or commas, whose members hold each right; read defaults to
	 * the control group, the others to nobody. delegate: Unix users that may
	 * act for the user they name (overstap-web). */
	char control_read[256];
	char control_mentor[256];
	char control_intake[256];
	char control_quality[256];
	char control_privacy[256];
	char control_admin[256];
	char control_delegate[256];
	/* [policy]: the legal basis per purpose (design.md §3) */
	char policy_handover[16];	/* "statute" (default) or "consent" */
	char policy_status[16];		/* always "statute" */
	char policy_follow_up[16];	/* always "consent" */
	int retention_sent_days;	/* dossier at the school after delivery, default 365 */
	int retention_received_days;	/* dossier at the receiver after receipt, default 730 */
	int retention_outcomes_days;	/* statuses and outcomes after their date, default 1825 */
	/* [report] */
	unsigned report_min_cell;	/* suppression threshold, default 5, at least 3 */
	char report_csv_dialect[16];	/* "excel-nl" (default) or "rfc4180" */
	char report_language[8];	/* "nl" (default) or "en": what reports are written in */
	/* [import] */
	char import_spool[PATH_MAX];	/* spool directory, "" = none (design.md §8.6) */
	char import_spool_map[PATH_MAX];	/* a map file (--map) for the spool's files, "" = none */
	int import_spool_settle_s;	/* a file untouched this long is taken, default 30 */
	int import_spool_interval_s;	/* how often the spool is looked at, default 10 */
	/* [log] */
	char log_level[16];		/* default "info" */
	/* [peer ID] sections */
	struct peer_cfg *peers;		/* owned array */
	size_t n_peers;
};

/* True for a syntactically valid institution id: 2 digits, 2 letters or digits,
 * 2 digits (upper case), e.g. 12AB00. */
int config_institution_id_valid(const char *id);

/* Where the packaged configuration puts the control socket. */
#define CONFIG_DEFAULT_SOCKET "/run/overstap/control.sock"

/* [control] socket as the file at path names it, even when the file has
 * errors elsewhere: the CLI must still reach a daemon that runs on the last
 * good version of it. buf gets CONFIG_DEFAULT_SOCKET when the file cannot
 * be read or names no valid one. Returns 1 when the path came from the
 * file, else 0. */
int config_control_socket(const char *path, char *buf, size_t len);

/* Parse and validate the file. On success *out owns a new config and 0 is
 * returned. On failure *out is NULL, errors gets one "FILE:LINE: message" per
 * problem in line order (a missing required key is reported on its section's
 * header line, or as "FILE: [section] key is required" without a line when the
 * section is absent; an unreadable file as "FILE: cannot read: reason"), and
 * the result is -EINVAL, -ENOMEM, or -errno when the file cannot be read.
 * errors may be NULL; messages are appended to what it already holds.
 * Unknown sections and keys are errors: a typo must not silently use a default. */
int config_load(const char *path, struct config **out, struct strlist *errors);

void config_free(struct config **c);

/* During a key rollover (the peer has next keys): is the old key pair still
 * admitted at `now_ms`? 1 when there is no rollover at all. */
int config_peer_old_keys_ok(const struct peer_cfg *p, int64_t now_ms);

/* Borrowed pointer to the peer with this id, or NULL. */
const struct peer_cfg *config_peer_find(const struct config *c, const char *id);

#endif

/* config_keys: the sections and keys of overstapd.conf, with their types,
 * ranges and defaults, as tables the parser (config.c) walks. */
#include "config_int.h"

#include <stddef.h>

#define S_FIELD(st, f) offsetof(struct st, f), sizeof(((struct st *)0)->f)
#define S_STR(n, t, st, f, req) { n, t, S_FIELD(st, f), 0, 0, NULL, req }
#define S_NUM(n, t, st, f, lo, hi, def) { n, t, S_FIELD(st, f), lo, hi, def, 0 }

static const struct s_key s_institution_keys[] = {
	S_STR("id", T_ID, config, institution_id, 1),
	S_STR("name", T_STR, config, institution_name, 0),
	S_STR("keys_dir", T_STR, config, keys_dir, 1),
};

static const struct s_key s_network_keys[] = {
	S_STR("listen", T_ENDPOINT, config, listen, 1),
	S_NUM("heartbeat_ivl_ms", T_INT, config, heartbeat_ivl_ms, 100, 600000, "5000"),
	S_NUM("heartbeat_timeout_ms", T_INT, config, heartbeat_timeout_ms, 100, 3600000, "15000"),
	S_NUM("max_message_size", T_I64, config, max_message_size, 1024, 64 * 1024 * 1024, "1048576"),
	S_NUM("max_in_flight", T_UINT, config, max_in_flight, 1, 65536, "2048"),
	S_NUM("receive_window", T_UINT, config, receive_window, 64, 1048576, "2048"),
	S_NUM("retry_initial_ms", T_INT, config, retry_initial_ms, 10, 600000, "1000"),
	S_NUM("retry_max_ms", T_INT, config, retry_max_ms, 10, 3600000, "60000"),
	/* how often our audit chain head goes to each peer (design.md §5) */
	S_NUM("checkpoint_interval_s", T_INT, config, checkpoint_interval_s, 1, 7 * 86400, "300"),
	/* a peer over it is refused unlooked-at for the rest of the hour (design.md §4) */
	S_NUM("max_refused_registrations_per_hour", T_UINT, config, max_refused_registrations, 1,
	      1000000, "100"),
	/* how far ahead of our clock a peer's created_at may be (design.md §4.5) */
	S_NUM("max_clock_skew_s", T_INT, config, max_clock_skew_s, 60, 30 * 86400, "86400"),
	/* Admission (design.md §4.1): a connection that has not finished its
	 * handshake in this time is closed; at most this many incoming
	 * connections, in all and per source address (IPv6: per /64). */
	S_NUM("handshake_timeout_ms", T_INT, config, handshake_timeout_ms, 100, 120000, "5000"),
	S_NUM("max_connections", T_UINT, config, max_connections, 1, 65536, "1024"),
	S_NUM("max_connections_per_source", T_UINT, config, max_connections_per_source, 1, 65536,
	      "32"),
	/* per-peer quotas, 0 = none (design.md §4.5 "Quotas") */
	S_NUM("max_messages_per_peer_per_hour", T_UINT, config, quota_messages_per_hour, 0, 100000000,
	      "20000"),
	S_NUM("max_stored_bytes_per_peer", T_I64, config, quota_stored_bytes, 0, INT64_MAX / 2,
	      "1073741824"),
};

static const struct s_key s_store_keys[] = {
	S_STR("path", T_STR, config, store_path, 1),
};

static const struct s_key s_control_keys[] = {
	S_STR("socket", T_SOCKET, config, control_socket, 1),
	S_STR("group", T_STR, config, control_group, 0),
	/* who may do what (design.md §4.9): groups per right, and the users
	 * that act for others (overstap-web) */
	S_STR("read", T_GROUPS, config, control_read, 0),
	S_STR("mentor", T_GROUPS, config, control_mentor, 0),
	S_STR("intake", T_GROUPS, config, control_intake, 0),
	S_STR("quality", T_GROUPS, config, control_quality, 0),
	S_STR("privacy", T_GROUPS, config, control_privacy, 0),
	S_STR("admin", T_GROUPS, config, control_admin, 0),
	S_STR("delegate", T_USERS, config, control_delegate, 0),
};

/* status and follow_up cannot be changed (design.md §3); they are keys so that a
 * config can say so explicitly, and saying otherwise is an error. */
static const struct s_key s_policy_keys[] = {
	{ "handover", T_BASIS, S_FIELD(config, policy_handover), 0, 0, "statute", 0 },
	{ "status", T_BASIS, S_FIELD(config, policy_status), 0, 0, "statute", 0 },
	{ "follow_up", T_BASIS, S_FIELD(config, policy_follow_up), 0, 0, "consent", 0 },
	/* Retention (design.md §3): days after which the daily job erases. A year
	 * after delivery the receiver has long had the dossier; the receiver's
	 * copy serves the pupil's first two years; outcomes feed five cohorts
	 * of quality-care reports. */
	S_NUM("retention_sent_days", T_INT, config, retention_sent_days, 1, 36500, "365"),
	S_NUM("retention_received_days", T_INT, config, retention_received_days, 1, 36500, "730"),
	S_NUM("retention_outcomes_days", T_INT, config, retention_outcomes_days, 1, 36500, "1825"),
};

/* design.md §6: counts below min_cell are never shown; 3 is the floor below
 * which a count identifies too readily. */
static const struct s_key s_report_keys[] = {
	S_NUM("min_cell", T_UINT, config, report_min_cell, 3, 1000, "5"),
	/* design.md §6.5: the CSV a report is written as when the CLI is not told;
	 * the staff open it in a Dutch spreadsheet, so `;` and a decimal comma */
	{ "csv_dialect", T_DIALECT, S_FIELD(config, report_csv_dialect), 0, 0, "excel-nl", 0 },
	/* design.md §10: the language of the text, HTML and CSV renderings,
	 * Dutch unless told (SPEC §10); sent with the report like csv_dialect. */
	{ "language", T_LANG, S_FIELD(config, report_language), 0, 0, "nl", 0 },
};

/* The spool directory (design.md §8.6): files dropped there are imported as
 * by `overstap import`. A file is taken once it has not been modified for
 * spool_settle_s seconds, so one still being written is never taken half. */
static const struct s_key s_import_keys[] = {
	S_STR("spool", T_STR, config, import_spool, 0),
	S_STR("spool_map", T_STR, config, import_spool_map, 0),
	S_NUM("spool_settle_s", T_INT, config, import_spool_settle_s, 0, 86400, "30"),
	S_NUM("spool_interval_s", T_INT, config, import_spool_interval_s, 1, 3600, "10"),
};

static const struct s_key s_log_keys[] = {
	{ "level", T_LEVEL, S_FIELD(config, log_level), 0, 0, "info", 0 },
};

static const struct s_key s_peer_keys[] = {
	S_STR("name", T_STR, peer_cfg, name, 0),
	S_STR("endpoint", T_ENDPOINT, peer_cfg, endpoint, 0),
	S_STR("curve_public_key", T_Z85, peer_cfg, curve_public, 1),
	S_STR("sign_public_key", T_SIGNKEY, peer_cfg, sign_public, 1),
	S_STR("curve_public_key_next", T_Z85, peer_cfg, curve_next, 0),
	S_STR("sign_public_key_next", T_SIGNKEY, peer_cfg, sign_next, 0),
	S_STR("rollover_until", T_TIME, peer_cfg, rollover_until, 0),
};

/* A section's keys and their number, which must fit key_line and key_bad
 * (S_MAX_KEYS): a longer table does not compile (a negative array size). */
#define S_KEYS(a) a, ARRAY_SIZE(a) + 0 * sizeof(char[ARRAY_SIZE(a) <= S_MAX_KEYS ? 1 : -1])
const struct s_section config_sections[] = {
	{ "institution", 0, S_KEYS(s_institution_keys) },
	{ "network", 0, S_KEYS(s_network_keys) },
	{ "store", 0, S_KEYS(s_store_keys) },
	{ "control", 0, S_KEYS(s_control_keys) },
	{ "policy", 0, S_KEYS(s_policy_keys) },
	{ "report", 0, S_KEYS(s_report_keys) },
	{ "import", 0, S_KEYS(s_import_keys) },
	{ "log", 0, S_KEYS(s_log_keys) },
	{ "peer", 1, S_KEYS(s_peer_keys) },
};

/* Integer keys that must be ordered (struct s_order). */
const struct s_order config_orders[] = {
	{ "network", "heartbeat_timeout_ms", "heartbeat_ivl_ms", 1 },
	{ "network", "retry_max_ms", "retry_initial_ms", 0 },
	{ "network", "max_connections", "max_connections_per_source", 0 },
};

const char *const config_levels[] = { "err", "warning", "notice", "info", "debug" };

const size_t config_n_sections = ARRAY_SIZE(config_sections);
const size_t config_n_orders = ARRAY_SIZE(config_orders);
const size_t config_n_levels = ARRAY_SIZE(config_levels);

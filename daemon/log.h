/* log: leveled logging for overstapd, to wherever stderr goes.
 *
 * Under systemd (stderr is the journal: $JOURNAL_STREAM names it) each line
 * goes through sd_journal_send with PRIORITY, CODE_FUNC and, where the
 * caller gives them, MESSAGE_ID, PEER and RECORD_ID, so that an administrator
 * can ask `journalctl MESSAGE_ID=… PEER=25LZ00`; should that fail, a
 * "<N>message" line on stderr, which journald reads with its level. Anywhere
 * else (a terminal, a file) each line starts with its UTC time and level
 * word; the calling function's name is added only with -d (log_init). */
#ifndef OVERSTAP_LOG_H
#define OVERSTAP_LOG_H

#include <stdint.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARNING = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* Journal catalog ids (MESSAGE_ID) of the lines an administrator acts on;
 * overstapd(8) lists them. */
#define LOG_ID_RELOAD_FAILED "0883b6ebceca42d18ddc7068de95e243"
#define LOG_ID_MESSAGE_REJECTED "c9a8b57fbe224fb08d2a28afe239b278"	/* a peer's, refused here */
#define LOG_ID_MESSAGE_REFUSED "e002a743cdca40fb8886aa71cdbfe709"	/* ours, refused by a peer */
#define LOG_ID_MESSAGE_PARKED "008292051aa1471db5462f9e566495b1"
#define LOG_ID_AUDIT_INCIDENT "386053ed30cb4ab39ec24228eea9d9f7"
#define LOG_ID_WITHDRAWAL "58724d31e3344a95b6b7d08f63fb9eb8"		/* received, applied */

/* Where lines go: the journal when $JOURNAL_STREAM is stderr, else plain
 * lines; debug adds function names to plain lines. Call once in main; until
 * then lines are plain, without function names. */
void log_init(int debug);

/* Set the highest level that is printed (default LOG_LVL_INFO). Returns -EINVAL
 * for an unknown name ("err", "warning", "notice", "info", "debug"). */
int log_set_level_name(const char *name);
void log_set_level(int level);
int log_level(void);

/* Structured fields of one line; any may be NULL. */
struct log_fields {
	const char *id;		/* MESSAGE_ID: one of LOG_ID_* */
	const char *peer;	/* PEER: an institution id */
	const char *record_id;	/* RECORD_ID */
};

void log_msg(int level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_msg_fields(int level, const char *func, const struct log_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_err(...) log_msg(LOG_LVL_ERR, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __func__, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__)
/* The same with fields: log_errf(&(struct log_fields){ .peer = id }, "…", …). */
#define log_errf(f, ...) log_msg_fields(LOG_LVL_ERR, __func__, f, __VA_ARGS__)
#define log_warnf(f, ...) log_msg_fields(LOG_LVL_WARNING, __func__, f, __VA_ARGS__)
#define log_noticef(f, ...) log_msg_fields(LOG_LVL_NOTICE, __func__, f, __VA_ARGS__)

/* For tests: send journal lines to fn instead of sd_journal_send (NULL =
 * the real one). fn returns 0, or < 0 to have the line written to stderr. */
typedef int (*log_journal_fn)(int level, const char *func, const struct log_fields *f,
			      const char *message);
void log_set_journal(log_journal_fn fn);

/* Rate limit for logs a peer can trigger at will (bad messages): at most
 * `burst` lines per `interval_ms`; the number suppressed is reported on the
 * next line that passes. */
struct ratelimit {
	int64_t interval_ms;
	unsigned burst;
	int64_t window_start;
	unsigned printed;
	unsigned suppressed;
};
#define RATELIMIT_INIT(ms, n) { .interval_ms = (ms), .burst = (n) }

/* Returns 1 when the caller may log now; *suppressed gets how many lines were
 * dropped since the last one allowed. */
int ratelimit_ok(struct ratelimit *rl, unsigned *suppressed);

#endif

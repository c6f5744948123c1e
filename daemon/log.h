/* log: leveled logging to stderr with syslog priority prefixes ("<3>"), so that
 * journald keeps the levels; every line carries the calling function's name. */
#ifndef OVERSTAP_LOG_H
#define OVERSTAP_LOG_H

#include <stdint.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARNING = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* Set the highest level that is printed (default LOG_LVL_INFO). Returns -EINVAL
 * for an unknown name ("err", "warning", "notice", "info", "debug"). */
int log_set_level_name(const char *name);
void log_set_level(int level);
int log_level(void);

void log_msg(int level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOG_LVL_ERR, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __func__, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__)

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

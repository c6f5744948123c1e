/* log: leveled logging to stderr with syslog priority prefixes. */
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The one piece of process-wide state: logging is configured once in main. */
static int s_level = LOG_LVL_INFO;

static const struct {
	const char *name;
	int level;
} s_levels[] = {
	{ "err", LOG_LVL_ERR }, { "error", LOG_LVL_ERR }, { "warning", LOG_LVL_WARNING },
	{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
};

int log_set_level_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(s_levels); i++)
		if (strcmp(s_levels[i].name, name) == 0) {
			s_level = s_levels[i].level;
			return 0;
		}
	return -EINVAL;
}

void log_set_level(int level) { s_level = level; }
int log_level(void) { return s_level; }

void log_msg(int level, const char *func, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > s_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent writers do not interleave mid-line. */
	fprintf(stderr, "<%d>%s: %s\n", level, func, buf);
}

int ratelimit_ok(struct ratelimit *rl, unsigned *suppressed)
{
	int64_t now = time_mono_ms();

	if (now - rl->window_start >= rl->interval_ms) {
		rl->window_start = now;
		rl->printed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		if (suppressed)
			*suppressed = rl->suppressed;
		rl->suppressed = 0;
		return 1;
	}
	rl->suppressed++;
	return 0;
}

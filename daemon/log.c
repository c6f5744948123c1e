/* log: leveled logging: the journal with fields under systemd, plain
 * time-stamped lines elsewhere (log.h). */
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* the location would be log.c; CODE_FUNC names the caller */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

/* The process-wide state: logging is configured once in main. */
static int s_level = LOG_LVL_INFO;
static int s_journal;		/* stderr is the journal */
static int s_funcs;		/* plain lines name the function (-d) */
static log_journal_fn s_journal_fn;

static const struct {
	const char *name;
	int level;
} s_levels[] = {
	{ "err", LOG_LVL_ERR }, { "error", LOG_LVL_ERR }, { "warning", LOG_LVL_WARNING },
	{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
};

static const char *const s_words[8] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

/* systemd sets JOURNAL_STREAM to "DEV:INO" of the stream it connected to
 * stderr; a match means journald reads us (not a redirect done since). */
static int s_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(int debug)
{
	s_journal = s_stderr_is_journal();
	s_funcs = debug;
}

void log_set_journal(log_journal_fn fn) { s_journal_fn = fn; }

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

/* One journal entry with the fields that are set. */
static int s_journal_send(int level, const char *func, const struct log_fields *f,
			  const char *message)
{
	char *v[7] = { 0 };
	struct iovec iov[7];
	int n = 0, r = 0;

	if (asprintf(&v[n++], "MESSAGE=%s", message) < 0 ||
	    asprintf(&v[n++], "PRIORITY=%d", level) < 0 ||
	    asprintf(&v[n++], "CODE_FUNC=%s", func) < 0 ||
	    (f && f->id && asprintf(&v[n++], "MESSAGE_ID=%s", f->id) < 0) ||
	    (f && f->peer && asprintf(&v[n++], "PEER=%s", f->peer) < 0) ||
	    (f && f->record_id && asprintf(&v[n++], "RECORD_ID=%s", f->record_id) < 0)) {
		v[n - 1] = NULL;	/* asprintf left it undefined */
		r = -ENOMEM;
	}
	for (int i = 0; r == 0 && i < n; i++)
		iov[i] = (struct iovec){ .iov_base = v[i], .iov_len = strlen(v[i]) };
	if (r == 0)
		r = sd_journal_sendv(iov, n);
	for (int i = 0; i < n; i++)
		free(v[i]);
	return r;
}

static void s_emit(int level, const char *func, const struct log_fields *f, const char *msg)
{
	char when[32];
	struct timespec ts;
	struct tm tm;

	if (s_journal) {
		log_journal_fn fn = s_journal_fn ? s_journal_fn : s_journal_send;

		if (fn(level, func, f, msg) >= 0)
			return;
		/* the journal's socket is gone: its stream still takes "<N>" lines */
		fprintf(stderr, "<%d>%s\n", level, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line so concurrent writers do not interleave mid-line. */
	fprintf(stderr, "%s.%03ldZ %s: %s%s%s\n", when, ts.tv_nsec / 1000000L,
		s_words[level & 7], s_funcs ? func : "", s_funcs ? ": " : "", msg);
}

static void __attribute__((format(printf, 4, 0)))
s_vlog(int level, const char *func, const struct log_fields *f, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	s_emit(level, func, f, buf);
}

void log_msg(int level, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (level > s_level)
		return;
	va_start(ap, fmt);
	s_vlog(level, func, NULL, fmt, ap);
	va_end(ap);
}

void log_msg_fields(int level, const char *func, const struct log_fields *f, const char *fmt, ...)
{
	va_list ap;

	if (level > s_level)
		return;
	va_start(ap, fmt);
	s_vlog(level, func, f, fmt, ap);
	va_end(ap);
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

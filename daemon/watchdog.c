/* watchdog: systemd's watchdog, pinged by the loop and by long steps (watchdog.h). */
#include "watchdog.h"
#include "util.h"

#include <systemd/sd-daemon.h>

static int64_t s_every;		/* ms between pings: half of WATCHDOG_USEC; 0 = none */
static int64_t s_next;		/* the next ping is due (monotonic ms) */
static int64_t s_status_next;	/* the next STATUS= of a step */
static int s_status_taken;	/* a step's STATUS= is showing */

void watchdog_init(void)
{
	uint64_t usec = 0;

	s_every = sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000 ? (int64_t)(usec / 2000) : 0;
	s_next = 0;
	s_status_next = 0;
}

int64_t watchdog_tick(int64_t now)
{
	if (!s_every)
		return INT64_MAX;
	if (now >= s_next) {
		sd_notify(0, "WATCHDOG=1");
		s_next = now + s_every;
	}
	return s_next - now;
}

void watchdog_progress(const char *what, uint64_t done, uint64_t total)
{
	int64_t now = time_mono_ms();

	(void)watchdog_tick(now);
	if (now < s_status_next)
		return;
	s_status_next = now + 1000;
	s_status_taken = 1;
	if (total)
		sd_notifyf(0, "STATUS=%s: %llu of %llu", what, (unsigned long long)done,
			   (unsigned long long)total);
	else
		sd_notifyf(0, "STATUS=%s: %llu", what, (unsigned long long)done);
}

int watchdog_status_taken(void)
{
	int was = s_status_taken;

	if (was) {
		s_status_taken = 0;
		s_status_next = 0;	/* the next step says at once how far it is */
	}
	return was;
}

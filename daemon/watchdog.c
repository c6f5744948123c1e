/* watchdog: systemd's watchdog, pinged by the loop and by long steps (watchdog.h). */
#include "watchdog.h"
#include "util.h"

#include <systemd/sd-daemon.h>

static int64_t s_every;		/* ms between pings: half of WATCHDOG_USEC; 0 = none */
static int64_t s_next;		/* the next ping is due (monotonic ms) */
static int64_t s_status_next;	/* the next STATUS= of a step */
static int s_status_taken;	/* a step's STATUS= is showing */
static int64_t s_turn;		/* the loop's last tick: when this turn began */

void watchdog_init(void)
{
	uint64_t usec = 0;

	s_every = sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000 ? (int64_t)(usec / 2000) : 0;
	s_next = 0;
	s_status_next = 0;
	s_turn = 0;
}

static void s_ping(int64_t now)
{
	if (s_every && now >= s_next) {
		sd_notify(0, "WATCHDOG=1");
		s_next = now + s_every;
	}
}

int64_t watchdog_tick(int64_t now)
{
	s_turn = now;
	s_ping(now);
	return s_every ? s_next - now : INT64_MAX;
}

void watchdog_progress(const char *what, uint64_t done, uint64_t total)
{
	int64_t now = time_mono_ms();

	s_ping(now);
	/* only a step that has held the turn for a second says so: an import
	 * of a few thousand rows leaves STATUS= alone */
	if (now < s_status_next || now - s_turn < 1000)
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

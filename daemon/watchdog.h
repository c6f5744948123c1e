/* watchdog: systemd's watchdog (WatchdogSec=, design.md §7) and the
 * progress of a long step in `systemctl status`.
 *
 * The loop pings each turn (watchdog_tick). A few requests run longer than a
 * turn should, inside one: the apply of a big leavers import (about a minute
 * at a million rows), a backup of a big store, the verification of a long
 * audit log. Each calls watchdog_progress as it gets on, which pings when a
 * ping is due and says in STATUS= how far it is: systemd (WatchdogSec=30s)
 * killed the daemon in the middle of such an import, and an administrator
 * saw nothing but a daemon that did not answer. A step that stops making
 * progress stops calling, so a hang is still caught.
 *
 * Process-wide, as systemd's watchdog is; without $WATCHDOG_USEC and
 * $NOTIFY_SOCKET (a terminal, the tests, the CLI) every call does nothing
 * but read the clock. */
#ifndef OVERSTAP_WATCHDOG_H
#define OVERSTAP_WATCHDOG_H

#include <stdint.h>

/* Read $WATCHDOG_USEC (sd_watchdog_enabled): ping every half of it. */
void watchdog_init(void);
/* Ping when due; returns the ms until the next is due (INT64_MAX: none). */
int64_t watchdog_tick(int64_t now_mono_ms);
/* From inside a long step: ping when due, and, once the step has held the
 * loop's turn for a second, at most once a second STATUS="what: done of
 * total" (total 0: "what: done"). */
void watchdog_progress(const char *what, uint64_t done, uint64_t total);
/* 1 once after a step set STATUS=: the loop puts its own line back. */
int watchdog_status_taken(void);

#endif

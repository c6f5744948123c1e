/* control: the local control socket the overstap CLI talks to (design.md §4): one
 * protobuf Request, one Reply, version-checked, every change recorded with the
 * caller's user name. The handlers take a struct ctl_env, never the daemon. */
#ifndef OVERSTAP_CONTROL_H
#define OVERSTAP_CONTROL_H

#include <stdint.h>

#include "ctlsock.h"
#include "hctx.h"
#include "net.h"
#include "util.h"

/* The last reloads, for status (the daemon keeps them): an administrator
 * whose edit was refused sees why, and that the old configuration runs. */
struct ctl_reload {
	int64_t ok_at;			/* wall ms of the last successful reload, 0 = none yet */
	int64_t failed_at;		/* wall ms of a failed one after it, 0 = none */
	struct strlist errors;		/* with failed_at: why, "FILE:LINE: message" */
};
#include "spool.h"

/* What the control handlers see. */
/* Refused commands per user and minute (design.md §4.9): the first
 * CTL_REFUSED_AUDITED are audited and logged one by one; beyond that they are
 * counted, and one control.refused_counted entry per user and minute says
 * how many, so a group member looping on a command they may not run can
 * neither grow the audit log without bound nor hold the loop in fsyncs. */
#define CTL_REFUSED_AUDITED 10
#define CTL_REFUSED_USERS 16
#define CTL_REFUSED_WINDOW_MS 60000
struct ctl_refused {
	struct {
		char user[RIGHTS_USER_MAX + 8];	/* as audited; "" = free slot */
		char via[RIGHTS_USER_MAX + 8];
		int64_t since;			/* wall ms: the window's start */
		unsigned audited, counted;	/* one by one, and beyond that */
	} v[CTL_REFUSED_USERS];
};

/* Audit the count of every window that has ended by now (wall ms) and free
 * its slot; INT64_MAX at shutdown ends them all. 0, or -errno (the windows
 * not written stay and are tried again). */
int control_refused_flush(struct hctx *h, struct ctl_refused *t, int64_t now);

struct ctl_env {
	struct hctx *h;			/* store, configuration, keys, outbox flags */
	const struct net *net;		/* read only, for status: peers and counters */
	int64_t started_at;		/* wall ms the daemon started */
	const struct ctl_reload *reload;	/* NULL = not known (tests) */
	const struct spool *spool;	/* read only, for status; NULL = none */
	struct ctl_refused *refused;	/* the refusal budget; NULL = audit every one */
	int defer;			/* a long request may be answered over several
					 * rounds of the loop (control_step) */
};

/* Bind [control] socket, reachable by the owner and [control] group.
 * 0 or -errno (logged). ctlsock_close() closes it. */
int control_open(struct ctlsock *cs, const struct config *cfg);
/* The ctlsock_fn: one framed request from cred in, its reply out. arg is
 * the struct ctl_env. With env->defer, a long request (`handover send` of
 * more than one chunk) returns a job instead of a reply: control_step runs
 * it on, a chunk a round, and gives the reply at the end. */
void *control_answer(void *arg, const struct peer_cred *cred, const uint8_t *in, size_t len,
		     uint8_t **out, size_t *out_len);
/* The ctlsock_step_fn: the job's next step; 1 = more to come, 0 = *out
 * holds the reply (or NULL: out of memory) and the job is freed. */
int control_step(void *arg, void *job, uint8_t **out, size_t *out_len);
/* The ctlsock_drop_fn: the client went away (or the daemon stops) before
 * the job finished; what its steps committed stays. */
void control_drop(void *job);

#endif

/* rights: who is on the control socket and what they may do (design.md
 * §4.9). The caller's identity comes from the kernel (SO_PEERCRED and
 * SO_PEERGROUPS, taken by ctlsock.c when it accepts), never from the
 * request; only a configured delegate (overstap-web) may name the user it
 * acts for. Rights are held through Unix groups, as [control] maps them. */
#ifndef OVERSTAP_RIGHTS_H
#define OVERSTAP_RIGHTS_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"

enum right {
	RIGHT_READ,		/* status, peers: nothing about a pupil */
	RIGHT_MENTOR,		/* the school's leavers: inzage, send, consents */
	RIGHT_INTAKE,		/* the MBO's inbox, statuses, registrations */
	RIGHT_QUALITY,		/* reports */
	RIGHT_PRIVACY,		/* erase, subject access, the audit log */
	RIGHT_ADMIN,		/* imports, store, outbox, incidents */
	RIGHT__N
};
#define RIGHT_BIT(r) (1u << (r))
#define RIGHTS_ALL (RIGHT_BIT(RIGHT__N) - 1)

/* "read", "mentor", ... as in [control]. */
const char *right_name(enum right r);

#define CRED_MAX_GROUPS 64
#define RIGHTS_USER_MAX 32	/* Linux's longest user name (useradd) */

/* What the kernel said about the process on the other end of a connection. */
struct peer_cred {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t groups[CRED_MAX_GROUPS];	/* supplementary, from SO_PEERGROUPS */
	size_t n_groups;
	int groups_known;		/* 0: the kernel did not say; looked up by name */
};

struct identity {
	char user[RIGHTS_USER_MAX + 8];	/* recorded in the audit log: a name, or uid:N */
	char via[RIGHTS_USER_MAX + 8];	/* the delegate's own user when acting for user */
	unsigned rights;		/* RIGHT_BIT()s */
};

/* Who cred is, and what they may do. claimed is the request's user: ignored
 * unless cred's user is a [control] delegate, which then acts for claimed
 * ("" = for itself). Root and the daemon's own user hold every right (they
 * can read the store and keys anyway), except when named by a delegate.
 * 0, or -EACCES with the reason in why. */
int rights_identify(const struct config *cfg, const struct peer_cred *cred, const char *claimed,
		    struct identity *out, char *why, size_t n);

/* 1 when uid is a Unix user that [control] delegate names. */
int rights_is_delegate(const struct config *cfg, uid_t uid);

/* The groups holding right r as configured ("" = none): read falls back to
 * the control group. */
const char *rights_groups(const struct config *cfg, enum right r);

#endif

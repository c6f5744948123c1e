/* admission: how many incoming connections the listening ROUTER holds, in
 * total and per source address, and the descriptors that leaves for the rest
 * of the daemon (design.md §4.1, "Admission"). A half-open connection (a
 * greeting started, then silence) never reaches ZAP, so the cap cannot live
 * there: net feeds this module the listener's monitor events instead, and it
 * shuts down (never closes: libzmq owns the descriptor) what is over a cap.
 * It does not log; the caller logs its aggregate report. */
#ifndef OVERSTAP_ADMISSION_H
#define OVERSTAP_ADMISSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

/* Descriptors kept back for everything but incoming connections: the store
 * (database, WAL, shm, a backup's three, temp files), the signalfd, libzmq's
 * own (its I/O thread and reaper, a mailbox per socket), CLI connections on
 * the control socket and what an import or report opens. */
#define ADM_RESERVE_FDS 64
/* Per peer we send to: its DEALER's connection and the mailboxes of the
 * DEALER and of its monitor's two PAIRs. */
#define ADM_FDS_PER_SENDER 4
/* The listener's monitor PAIR (ours) buffers this many events ... */
#define ADM_MONITOR_RCVHWM 100
/* ... on top of the 1000 (libzmq's default SNDHWM, which zmq_socket_monitor
 * gives no way to change) of the PAIR libzmq sends them from. libzmq's I/O
 * thread blocks while that pipe is full, so at most this many connections
 * are accepted and not yet seen by us (each holds a descriptor), plus the
 * one whose event is being sent. Measured with libzmq 4.3.4: 1101 accepted
 * while the events went unread. */
#define ADM_QUEUE_FDS (1000 + ADM_MONITOR_RCVHWM + 1)
/* ZMQ_BACKLOG of the listener: connections the kernel completes before
 * libzmq accepts them (they hold no descriptor of ours). */
#define ADM_BACKLOG 64
#define ADM_SWEEP_MS 1000	/* look for connections closed unseen at most this often */
#define ADM_REPORT_MS 60000	/* refusals are logged at most once per this */

/* A source: an IPv4 address, an IPv6 /64 (one subscriber's network), or
 * "local" for a unix socket. */
struct adm_source {
	uint8_t family;		/* AF_INET, AF_INET6 or AF_UNIX */
	uint8_t addr[8];	/* IPv4: 4 bytes; IPv6: the first 8; unix: none */
};

struct adm_conn {
	int fd;			/* libzmq's descriptor for this connection */
	int refused;		/* shut down by us, waiting for its DISCONNECTED */
	struct adm_source src;
};

enum adm_verdict {
	ADM_ADMITTED,
	ADM_REFUSED_TOTAL,	/* over max_connections */
	ADM_REFUSED_SOURCE,	/* over max_connections_per_source */
	ADM_GONE,		/* the descriptor no longer holds one of the listener's connections */
};

/* What to log: refusals since the last report. */
struct adm_report {
	uint64_t total, over_total, over_source;
	char last[64];		/* the source last refused, as text */
	size_t open;		/* connections admitted now */
};

struct admission {
	unsigned max_total, max_per_source;	/* from [network] */
	struct adm_conn *conns;	/* owned; admitted and refused-not-yet-closed */
	size_t n, cap;
	size_t admitted;	/* conns not refused */
	/* the listener, to tell its connections from others on a reused fd */
	int family;		/* AF_INET/AF_INET6 (tcp, any address) or AF_UNIX; 0 = none */
	uint16_t port;		/* tcp: host order */
	char path[108];		/* ipc: the socket path */
	uint64_t refused, refused_total, refused_source;	/* since start */
	struct adm_report pending;	/* since the last report */
	int64_t next_report;	/* mono ms: when a report may be logged again */
	int64_t next_sweep;	/* mono ms */
};

/* Limits for the connections accepted from now on (a reload lowering them
 * closes nothing). */
void admission_limits(struct admission *a, unsigned max_total, unsigned max_per_source);
/* The listener's endpoint as libzmq reports it (ZMQ_LAST_ENDPOINT):
 * tcp://host:port or ipc://path. -EINVAL for anything else. */
int admission_listener(struct admission *a, const char *endpoint);
void admission_free(struct admission *a);

/* ZMQ_EVENT_ACCEPTED for fd at mono ms now: count it, or shut it down
 * (shutdown(2), never close) when it is over a cap. -ENOMEM is a refusal
 * too (nothing to count it in). Events must be fed in the order the monitor
 * delivered them: a descriptor is reused only after its DISCONNECTED. */
enum adm_verdict admission_accepted(struct admission *a, int fd, int64_t now);
/* ZMQ_EVENT_DISCONNECTED for fd: 1 when it was admitted, 2 when we had
 * refused it, 0 when unknown. */
int admission_disconnected(struct admission *a, int fd);
/* Forget connections libzmq closed without an event (unbind, a duplicate
 * routing id): their fd no longer holds a connection of the listener from
 * the same source. Runs at most every ADM_SWEEP_MS unless force. */
void admission_sweep(struct admission *a, int64_t now, int force);

/* 1 and *r filled when refusals happened since the last report and one may be
 * logged now (the first refusal at once, then at most every ADM_REPORT_MS);
 * the pending counts start again. With flush, whatever is pending. */
int admission_report(struct admission *a, int64_t now, int flush, struct adm_report *r);

/* Descriptors the daemon needs with max_total incoming connections and
 * n_senders DEALERs. */
uint64_t admission_fds_needed(unsigned max_total, size_t n_senders);
/* Raise the soft RLIMIT_NOFILE to the hard limit; *limit gets the soft limit
 * in force afterwards. 0 or -errno. */
int admission_fd_limit(rlim_t *limit);

#endif

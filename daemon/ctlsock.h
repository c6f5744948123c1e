/* ctlsock: the control socket's transport (design.md §4.9): a plain AF_UNIX
 * stream socket, polled in the daemon's loop, so that the kernel tells who
 * is on the other end (SO_PEERCRED, SO_PEERGROUPS), which libzmq's ipc://
 * hides. Each request and reply is one frame: a 4-byte big-endian length,
 * then that many bytes of protobuf. Requests on one connection are answered
 * in order; a connection may carry several. */
#ifndef OVERSTAP_CTLSOCK_H
#define OVERSTAP_CTLSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "rights.h"

#define CTLSOCK_MAX_CONN 16		/* connections held at once; more wait in the backlog */
#define CTLSOCK_IDLE_MS 60000		/* a connection silent this long mid-request is closed */
#define CTLSOCK_MAX_FRAME (512u << 20)	/* a whole leavers file fits */

/* Answer one request (in, len) from cred: set *out (malloc'ed, the caller
 * frees) and *out_len, and return NULL. The frame is dropped when *out
 * stays NULL. Or, for a request that takes several rounds of the loop (a
 * long `handover send`), return a job and no reply: the connection then
 * waits (nothing more is read from it) while step runs the job on, once a
 * round, until it returns 0 with the reply. A job whose client goes away
 * runs on to its end all the same (its reply is dropped): a CLI that timed
 * out or was interrupted must not leave half a send done. drop frees a job
 * that cannot run on (ctlsock_close, or too many such jobs). */
typedef void *(*ctlsock_fn)(void *arg, const struct peer_cred *cred, const uint8_t *in,
			    size_t len, uint8_t **out, size_t *out_len);
/* 1: more rounds to come, the next at once; 2: more to come, waiting for
 * something of its own (a thread): the loop need not spin, a round every
 * CTLSOCK_WAIT_MS will do; 0: *out (as from ctlsock_fn) is the reply and
 * the job is gone. */
typedef int (*ctlsock_step_fn)(void *arg, void *job, uint8_t **out, size_t *out_len);
typedef void (*ctlsock_drop_fn)(void *job);

struct ctlsock_ops {
	ctlsock_fn answer;
	ctlsock_step_fn step;		/* NULL when answer never returns a job */
	ctlsock_drop_fn drop;
};

struct ctlsock_conn;

struct ctlsock {
	int fd;				/* the listener, -1 = closed */
	char path[108];
	struct ctlsock_conn *conn[CTLSOCK_MAX_CONN];
	size_t n_conn;
	uint64_t refused_frames;	/* too large, or a connection timed out mid-frame */
	/* A uid for which this says 1 is not held to CTLSOCK_MAX_PER_UID (only
	 * to the table's size): a configured delegate serving many people at
	 * once (overstap-web's threads). NULL = everyone is held to it. */
	int (*unlimited)(void *arg, uid_t uid);
	void *unlimited_arg;
	struct ctlsock_orphan {		/* jobs whose client went away, run to their end */
		void *job;
		ctlsock_drop_fn drop;
		int waiting;		/* as ctlsock_step_fn said last */
	} orphan[CTLSOCK_MAX_CONN];
	size_t n_orphan;
};

/* Bind path (0660, group `group` unless ""), listen. 0 or -errno (logged). */
int ctlsock_open(struct ctlsock *cs, const char *path, const char *group);
/* Close every connection and the listener, remove the socket file. */
void ctlsock_close(struct ctlsock *cs);
/* How many poll items ctlsock_poll_fill writes (the listener and each connection). */
size_t ctlsock_poll_count(const struct ctlsock *cs);
size_t ctlsock_poll_fill(const struct ctlsock *cs, zmq_pollitem_t *items);
/* After poll: accept, read, answer through ops, run each job a step, write;
 * close idle or broken connections (now_ms: a monotonic clock; call at
 * least every second, and at once again while ctlsock_busy). */
void ctlsock_handle(struct ctlsock *cs, const zmq_pollitem_t *items, size_t n,
		    const struct ctlsock_ops *ops, void *arg, int64_t now_ms);
/* 1 when a job waits for its next step: the loop must not sleep; 2 when
 * the only jobs are waiting for threads: it sleeps CTLSOCK_WAIT_MS at most;
 * 0: none. */
int ctlsock_busy(const struct ctlsock *cs);
#define CTLSOCK_WAIT_MS 20

#endif

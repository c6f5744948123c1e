/* ctlsock: the control socket's transport, framed protobuf over AF_UNIX with
 * the caller's credentials from the kernel (design.md §4.9). Everything is
 * non-blocking and driven by the daemon's one poll loop: a slow or silent
 * client holds a slot, never the loop. */
#include "ctlsock.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* One user may hold this many of the CTLSOCK_MAX_CONN slots, so that one
 * member of the group cannot keep everybody else out (root and the daemon's
 * own user are not limited: they could stop the daemon anyway). */
#define CTLSOCK_MAX_PER_UID 4
/* Frames answered per connection per round, so one busy client cannot
 * starve the network side of the loop. */
#define CTLSOCK_FRAMES_PER_ROUND 4

struct ctlsock_conn {
	int fd;
	struct peer_cred cred;
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *in;			/* the frame's body, as far as it has come */
	size_t in_len, in_got, in_cap;
	uint8_t *out;			/* the reply, with its header */
	size_t out_len, out_off;
	int64_t last_ms;		/* monotonic ms of the last progress */
	int dead;
	void *job;			/* a request answered over several rounds */
	ctlsock_drop_fn drop;		/* frees job */
	int waiting;			/* its last step waits for a thread: no spin */
};

int ctlsock_open(struct ctlsock *cs, const char *path, const char *group)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int r;

	memset(cs, 0, sizeof(*cs));
	cs->fd = -1;
	_Static_assert(sizeof(cs->path) == sizeof(sa.sun_path), "a socket path fits both");
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	str_copy(cs->path, sizeof(cs->path), path);
	cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cs->fd < 0)
		return -errno;
	unlink(path);	/* a socket left by a killed daemon */
	old = umask(0117);	/* socket file: owner and group may connect */
	r = bind(cs->fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(cs->fd, 64) < 0) {
		r = -errno;
		log_err("cannot bind the control socket %s: %s", path, strerror(-r));
		close(cs->fd);
		cs->fd = -1;
		return r;
	}
	if (group && group[0]) {
		const struct group *g = getgrnam(group);

		if (!g || chown(path, (uid_t)-1, g->gr_gid) < 0) {
			log_err("control socket %s: cannot give it to group %s", path, group);
			ctlsock_close(cs);
			return -EPERM;
		}
	}
	return 0;
}

static void s_conn_free(struct ctlsock_conn *c)
{
	if (c->job && c->drop)
		c->drop(c->job);
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* The client of c went away while its job runs: the job runs on without it
 * (ctlsock.h), unless there are too many such already. */
static void s_conn_orphan(struct ctlsock *cs, struct ctlsock_conn *c)
{
	if (!c->job)
		return;
	if (cs->n_orphan < CTLSOCK_MAX_CONN) {
		cs->orphan[cs->n_orphan++] = (struct ctlsock_orphan){ .job = c->job, .drop = c->drop,
								       .waiting = c->waiting };
		c->job = NULL;
		log_notice("control socket: uid %lu (pid %ld) went away; its request runs on to "
			   "its end", (unsigned long)c->cred.uid, (long)c->cred.pid);
	} else {
		log_warn("control socket: uid %lu (pid %ld) went away; too many requests run on "
			 "without a client: this one stops here", (unsigned long)c->cred.uid,
			 (long)c->cred.pid);
	}
}

void ctlsock_close(struct ctlsock *cs)
{
	for (size_t i = 0; i < cs->n_conn; i++)
		s_conn_free(cs->conn[i]);
	cs->n_conn = 0;
	for (size_t i = 0; i < cs->n_orphan; i++)
		if (cs->orphan[i].drop)
			cs->orphan[i].drop(cs->orphan[i].job);
	cs->n_orphan = 0;
	if (cs->fd >= 0) {
		close(cs->fd);
		unlink(cs->path);
	}
	cs->fd = -1;
}

size_t ctlsock_poll_count(const struct ctlsock *cs)
{
	return cs->fd < 0 ? 0 : 1 + cs->n_conn;
}

size_t ctlsock_poll_fill(const struct ctlsock *cs, zmq_pollitem_t *items)
{
	if (cs->fd < 0)
		return 0;
	/* A full table leaves newcomers in the backlog: polling the listener
	 * then would wake the loop for nothing, over and over. */
	items[0] = (zmq_pollitem_t){ .fd = cs->fd,
				     .events = cs->n_conn < CTLSOCK_MAX_CONN ? ZMQ_POLLIN : 0 };
	for (size_t i = 0; i < cs->n_conn; i++)
		items[1 + i] = (zmq_pollitem_t){
			.fd = cs->conn[i]->fd,
			/* a connection whose job runs waits: nothing is read */
			.events = cs->conn[i]->job ? 0 : cs->conn[i]->out ? ZMQ_POLLOUT : ZMQ_POLLIN,
		};
	return 1 + cs->n_conn;
}

/* The kernel's word on who connected: uid, gid and pid at connect time, and
 * the supplementary groups (Linux 4.13+; without them rights.c asks NSS). */
static int s_cred(int fd, struct peer_cred *cred)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	memset(cred, 0, sizeof(*cred));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	if (len != sizeof(uc))
		return -EPROTO;
	cred->uid = uc.uid;
	cred->gid = uc.gid;
	cred->pid = uc.pid;
	len = sizeof(cred->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, cred->groups, &len) == 0) {
		cred->n_groups = len / sizeof(gid_t);
		cred->groups_known = 1;
	}
	return 0;
}

static void s_accept(struct ctlsock *cs, int64_t now_ms)
{
	while (cs->n_conn < CTLSOCK_MAX_CONN) {
		struct ctlsock_conn *c;
		size_t same = 0;
		int fd = accept4(cs->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("control socket: accept: %s", strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c || s_cred(fd, &c->cred) < 0) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->last_ms = now_ms;
		for (size_t i = 0; i < cs->n_conn; i++)
			same += cs->conn[i]->cred.uid == c->cred.uid;
		if (same >= CTLSOCK_MAX_PER_UID && c->cred.uid != 0 && c->cred.uid != geteuid() &&
		    !(cs->unlimited && cs->unlimited(cs->unlimited_arg, c->cred.uid))) {
			log_warn("control socket: uid %lu (pid %ld) already holds %d connections; "
				 "closed the next", (unsigned long)c->cred.uid, (long)c->cred.pid,
				 CTLSOCK_MAX_PER_UID);
			s_conn_free(c);
			continue;
		}
		cs->conn[cs->n_conn++] = c;
	}
}

/* Write what the reply still has; 0, or -errno when the connection is gone. */
static int s_write(struct ctlsock_conn *c, int64_t now_ms)
{
	while (c->out_off < c->out_len) {
		ssize_t k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		}
		c->out_off += (size_t)k;
		c->last_ms = now_ms;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return 0;
}

/* Frame the reply rep (taken) and start writing it. */
static int s_reply(struct ctlsock_conn *c, uint8_t *rep, size_t rlen, int64_t now_ms)
{
	if (!rep)
		return -ENOMEM;
	if (rlen > CTLSOCK_MAX_FRAME) {
		free(rep);
		return -EMSGSIZE;
	}
	c->out = malloc(rlen + 4);
	if (!c->out) {
		free(rep);
		return -ENOMEM;
	}
	c->out[0] = (uint8_t)(rlen >> 24);
	c->out[1] = (uint8_t)(rlen >> 16);
	c->out[2] = (uint8_t)(rlen >> 8);
	c->out[3] = (uint8_t)rlen;
	memcpy(c->out + 4, rep, rlen);
	free(rep);
	c->out_len = rlen + 4;
	c->out_off = 0;
	return s_write(c, now_ms);
}

/* The frame is complete: answer it and start writing the reply, or keep
 * the job that will make it. */
static int s_answer(struct ctlsock_conn *c, const struct ctlsock_ops *ops, void *arg,
		    int64_t now_ms)
{
	uint8_t *rep = NULL;
	size_t rlen = 0;
	void *job = ops->answer(arg, &c->cred, c->in ? c->in : (const uint8_t *)"", c->in_len,
				&rep, &rlen);

	free(c->in);
	c->in = NULL;
	c->in_len = c->in_got = c->in_cap = c->hdr_got = 0;
	if (job) {
		c->job = job;
		c->drop = ops->drop;
		c->waiting = 0;
		c->last_ms = now_ms;
		return 0;
	}
	return s_reply(c, rep, rlen, now_ms);
}

/* One step of the connection's job; its reply once it is done. */
static int s_step(struct ctlsock_conn *c, const struct ctlsock_ops *ops, void *arg,
		  int64_t now_ms)
{
	uint8_t *rep = NULL;
	size_t rlen = 0;

	int more;

	c->last_ms = now_ms;
	if ((more = ops->step(arg, c->job, &rep, &rlen))) {
		c->waiting = more == 2;
		return 0;
	}
	c->job = NULL;
	return s_reply(c, rep, rlen, now_ms);
}

/* Read what has come; answer each whole frame. 0, or -errno to close. */
static int s_read(struct ctlsock *cs, struct ctlsock_conn *c, const struct ctlsock_ops *ops,
		  void *arg, int64_t now_ms)
{
	for (int frames = 0; frames < CTLSOCK_FRAMES_PER_ROUND && !c->out && !c->job;) {
		ssize_t k;

		if (c->hdr_got < 4) {
			k = recv(c->fd, c->hdr + c->hdr_got, 4 - c->hdr_got, 0);
		} else {
			if (c->in_got == c->in_cap) {
				/* grow with what arrives, not with what the header
				 * claims: a header alone reserves nothing */
				size_t cap = c->in_cap ? c->in_cap * 2 : 65536;
				uint8_t *nb;

				if (cap > c->in_len)
					cap = c->in_len;
				nb = realloc(c->in, cap ? cap : 1);
				if (!nb)
					return -ENOMEM;
				c->in = nb;
				c->in_cap = cap;
			}
			k = c->in_len ? recv(c->fd, c->in + c->in_got, c->in_cap - c->in_got, 0) : 0;
		}
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		}
		if (k == 0 && !(c->hdr_got == 4 && c->in_len == 0))
			return -ECONNRESET;	/* the client hung up */
		c->last_ms = now_ms;
		if (c->hdr_got < 4) {
			c->hdr_got += (size_t)k;
			if (c->hdr_got < 4)
				continue;
			c->in_len = (size_t)c->hdr[0] << 24 | (size_t)c->hdr[1] << 16 |
				    (size_t)c->hdr[2] << 8 | c->hdr[3];
			if (c->in_len > CTLSOCK_MAX_FRAME) {
				cs->refused_frames++;
				log_warn("control socket: uid %lu (pid %ld) sent a frame of %zu bytes "
					 "(at most %u); connection closed", (unsigned long)c->cred.uid,
					 (long)c->cred.pid, c->in_len, CTLSOCK_MAX_FRAME);
				return -EMSGSIZE;
			}
		} else {
			c->in_got += (size_t)k;
		}
		if (c->hdr_got == 4 && c->in_got == c->in_len) {
			int r = s_answer(c, ops, arg, now_ms);

			if (r < 0)
				return r;
			frames++;
		}
	}
	return 0;
}

int ctlsock_busy(const struct ctlsock *cs)
{
	int waiting = 0;

	for (size_t i = 0; i < cs->n_orphan; i++) {
		if (!cs->orphan[i].waiting)
			return 1;
		waiting = 1;
	}
	for (size_t i = 0; i < cs->n_conn; i++) {
		if (cs->conn[i]->job && !cs->conn[i]->waiting)
			return 1;
		waiting |= cs->conn[i]->job != NULL;
	}
	return waiting ? 2 : 0;
}

void ctlsock_handle(struct ctlsock *cs, const zmq_pollitem_t *items, size_t n,
		    const struct ctlsock_ops *ops, void *arg, int64_t now_ms)
{
	size_t k = 0;

	if (cs->fd < 0 || n == 0)
		return;
	/* items[1 + i] is conn[i] as ctlsock_poll_fill left them */
	for (size_t i = 0; i < cs->n_conn && 1 + i < n; i++) {
		struct ctlsock_conn *c = cs->conn[i];
		int r = 0;

		if (items[1 + i].revents & (ZMQ_POLLERR))
			r = -ECONNRESET;
		else if (c->job)	/* polled for nothing: a step each round */
			r = s_step(c, ops, arg, now_ms);
		else if (c->out && (items[1 + i].revents & ZMQ_POLLOUT))
			r = s_write(c, now_ms);
		else if (!c->out && (items[1 + i].revents & ZMQ_POLLIN))
			r = s_read(cs, c, ops, arg, now_ms);
		if (r == 0 && now_ms - c->last_ms >= CTLSOCK_IDLE_MS) {
			if (c->hdr_got || c->out)
				cs->refused_frames++;
			r = -ETIMEDOUT;
		}
		c->dead = r < 0;
	}
	/* the jobs whose clients left before, a step each; their replies go nowhere */
	for (size_t i = 0; i < cs->n_orphan; i++) {
		uint8_t *rep = NULL;
		size_t rlen = 0;

		int more = ops->step(arg, cs->orphan[i].job, &rep, &rlen);

		if (more) {
			cs->orphan[i].waiting = more == 2;
			cs->orphan[k++] = cs->orphan[i];
		}
		free(rep);
	}
	cs->n_orphan = k;
	k = 0;
	for (size_t i = 0; i < cs->n_conn; i++) {
		if (cs->conn[i]->dead) {
			s_conn_orphan(cs, cs->conn[i]);
			s_conn_free(cs->conn[i]);
		} else {
			cs->conn[k++] = cs->conn[i];
		}
	}
	cs->n_conn = k;
	if (items[0].revents & ZMQ_POLLIN)
		s_accept(cs, now_ms);
}

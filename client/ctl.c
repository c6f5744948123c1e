/* ctl: the control-socket round trip (ZMQ_REQ over ipc://). */
#include "ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

/* zmq_connect on ipc:// succeeds even when nobody listens and then retries
 * quietly until the timeout, so a stopped daemon would cost the user the
 * whole timeout and a vague message. A plain AF_UNIX connect first turns a
 * missing file, a stale socket and a permission problem into an immediate,
 * exact errno. The daemon's libzmq sees a peer that closes before the
 * greeting and drops it. */
static int s_probe(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r = 0;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* EAGAIN is a full backlog: a busy daemon, not a dead one. */
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EAGAIN)
		r = -errno;
	close(fd);
	return r;
}

/* libzmq reports a timeout as EAGAIN. */
static int s_zmq_err(void)
{
	int e = zmq_errno();

	return e == EAGAIN ? -ETIMEDOUT : -e;
}

static int s_socket_setup(void *sock, int timeout_ms)
{
	int linger = 0;
	int64_t maxsize = CTL_MAX_MESSAGE;

	if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
	    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms)) < 0 ||
	    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof(timeout_ms)) < 0 ||
	    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxsize, sizeof(maxsize)) < 0)
		return s_zmq_err();
	return 0;
}

/* The connection's end, seen through a socket monitor: libzmq's REQ would
 * reconnect to a restarted daemon and wait the whole timeout for an answer
 * the new daemon never got the question for. */
static void *s_monitor(void *ctx, void *sock)
{
	void *pair;

	if (zmq_socket_monitor(sock, "inproc://overstap-ctl-monitor",
			       ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) < 0)
		return NULL;
	pair = zmq_socket(ctx, ZMQ_PAIR);
	if (pair && zmq_connect(pair, "inproc://overstap-ctl-monitor") < 0) {
		zmq_close(pair);
		pair = NULL;
	}
	return pair;
}

/* 1 when the monitor reports the connection gone, 0 when not (yet). */
static int s_disconnected(void *pair)
{
	int gone = 0;

	for (;;) {
		zmq_msg_t ev;
		uint16_t id = 0;

		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, pair, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			return gone;
		}
		if (zmq_msg_size(&ev) >= 2)
			memcpy(&id, zmq_msg_data(&ev), 2);
		gone |= id == ZMQ_EVENT_DISCONNECTED;
		while (zmq_msg_more(&ev)) {	/* the endpoint frame */
			zmq_msg_close(&ev);
			zmq_msg_init(&ev);
			if (zmq_msg_recv(&ev, pair, 0) < 0)
				break;
		}
		zmq_msg_close(&ev);
	}
}

/* Wait for the reply until timeout_ms, or until the daemon hangs up. */
static int s_wait(void *sock, void *pair, int timeout_ms)
{
	int64_t waited = 0;

	for (;;) {
		zmq_pollitem_t it[2] = { { .socket = sock, .events = ZMQ_POLLIN },
					 { .socket = pair, .events = ZMQ_POLLIN } };
		int step = timeout_ms - (int)waited < 100 ? timeout_ms - (int)waited : 100;
		int n = zmq_poll(it, pair ? 2 : 1, step);

		if (n < 0)
			return s_zmq_err();
		if (it[0].revents & ZMQ_POLLIN)
			return 0;
		if (pair && (it[1].revents & ZMQ_POLLIN) && s_disconnected(pair))
			return -ECONNRESET;
		waited += step;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
	}
}

int ctl_roundtrip(const char *path, int timeout_ms, const Overstapctl__Request *req,
		  Overstapctl__Reply **out)
{
	char endpoint[sizeof("ipc://") + PATH_MAX];
	void *ctx = NULL, *sock = NULL, *pair = NULL;
	uint8_t *buf = NULL;
	zmq_msg_t msg;
	int msg_open = 0;
	size_t len;
	int r;

	*out = NULL;
	r = s_probe(path);
	if (r < 0)
		return r;
	if (snprintf(endpoint, sizeof(endpoint), "ipc://%s", path) >= (int)sizeof(endpoint))
		return -ENAMETOOLONG;
	len = overstapctl__request__get_packed_size(req);
	if (len > CTL_MAX_MESSAGE)
		return -EMSGSIZE;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	overstapctl__request__pack(req, buf);

	r = -ENOMEM;
	ctx = zmq_ctx_new();
	if (!ctx)
		goto out;
	sock = zmq_socket(ctx, ZMQ_REQ);
	if (!sock) {
		r = s_zmq_err();
		goto out;
	}
	r = s_socket_setup(sock, timeout_ms);
	if (r < 0)
		goto out;
	pair = s_monitor(ctx, sock);	/* without it: the timeout alone */
	if (zmq_connect(sock, endpoint) < 0 || zmq_send(sock, buf, len, 0) < 0 ||
	    zmq_msg_init(&msg) < 0) {
		r = s_zmq_err();
		goto out;
	}
	msg_open = 1;
	if ((r = s_wait(sock, pair, timeout_ms)) < 0)
		goto out;
	if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
		r = s_zmq_err();
		goto out;
	}
	*out = overstapctl__reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
	r = *out ? 0 : -EBADMSG;
out:
	if (msg_open)
		zmq_msg_close(&msg);
	/* stop the monitor before its reader goes (libzmq issue #3575) */
	if (sock && pair)
		zmq_socket_monitor(sock, NULL, 0);
	if (pair)
		zmq_close(pair);
	if (sock)
		zmq_close(sock);
	if (ctx)
		zmq_ctx_term(ctx);
	free(buf);
	return r;
}

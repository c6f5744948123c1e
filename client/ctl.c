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

int ctl_roundtrip(const char *path, int timeout_ms, const Overstapctl__Request *req,
		  Overstapctl__Reply **out)
{
	char endpoint[sizeof("ipc://") + PATH_MAX];
	void *ctx = NULL, *sock = NULL;
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
	if (zmq_connect(sock, endpoint) < 0 || zmq_send(sock, buf, len, 0) < 0 ||
	    zmq_msg_init(&msg) < 0) {
		r = s_zmq_err();
		goto out;
	}
	msg_open = 1;
	if (zmq_msg_recv(&msg, sock, 0) < 0) {
		r = s_zmq_err();
		goto out;
	}
	*out = overstapctl__reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
	r = *out ? 0 : -EBADMSG;
out:
	if (msg_open)
		zmq_msg_close(&msg);
	if (sock)
		zmq_close(sock);
	if (ctx)
		zmq_ctx_term(ctx);
	free(buf);
	return r;
}

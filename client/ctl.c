/* ctl: the control-socket round trip: one framed request and its reply over
 * a plain AF_UNIX stream socket (design.md §4.9). The daemon learns who we
 * are from the kernel, so nothing here claims an identity. */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t s_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events, or the deadline. */
static int s_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - s_now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0)
			return 0;
	}
}

static int s_send_all(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t k = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = s_wait(fd, POLLOUT, deadline);

			if (r < 0)
				return r;
			continue;
		}
		if (k < 0)
			return errno == EPIPE ? -ECONNRESET : -errno;
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

static int s_recv_all(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t k = recv(fd, buf, len, MSG_DONTWAIT);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = s_wait(fd, POLLIN, deadline);

			if (r < 0)
				return r;
			continue;
		}
		if (k < 0)
			return -errno;
		if (k == 0)
			return -ECONNRESET;	/* the daemon stopped or closed on us */
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

static int s_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

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
	/* A unix connect completes at once or fails at once: ENOENT, EACCES,
	 * ECONNREFUSED (a stale socket of a stopped daemon), or EAGAIN when the
	 * backlog is full (a busy daemon: reported as such). */
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno == EAGAIN ? EBUSY : errno;

		close(fd);
		return -e;
	}
	return fd;
}

int ctl_roundtrip(const char *path, int timeout_ms, const Overstapctl__Request *req,
		  Overstapctl__Reply **out)
{
	int64_t deadline = s_now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	uint8_t *buf = NULL, hdr[4];
	size_t len, rlen;
	int fd, r;

	*out = NULL;
	len = overstapctl__request__get_packed_size(req);
	if (len > CTL_MAX_REQUEST)
		return -EMSGSIZE;
	fd = s_connect(path);
	if (fd < 0)
		return fd;
	buf = malloc(len + 4);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	overstapctl__request__pack(req, buf + 4);
	r = s_send_all(fd, buf, len + 4, deadline);
	free(buf);
	buf = NULL;
	if (r == 0)
		r = s_recv_all(fd, hdr, 4, deadline);
	if (r == 0) {
		rlen = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
		if (rlen > CTL_MAX_MESSAGE)
			r = -EMSGSIZE;
		else if (!(buf = malloc(rlen ? rlen : 1)))
			r = -ENOMEM;
		else
			r = s_recv_all(fd, buf, rlen, deadline);
	}
	if (r == 0) {
		*out = overstapctl__reply__unpack(NULL, rlen, buf);
		r = *out ? 0 : -EBADMSG;
	}
	free(buf);
	close(fd);
	return r;
}

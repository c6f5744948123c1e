/* admission: caps on incoming connections, in total and per source, fed by
 * the listener's monitor events (design.md §4.1). */
#include "admission.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

void admission_limits(struct admission *a, unsigned max_total, unsigned max_per_source)
{
	a->max_total = max_total;
	a->max_per_source = max_per_source;
}

int admission_listener(struct admission *a, const char *ep)
{
	if (strncmp(ep, "tcp://", 6) == 0) {
		const char *colon = strrchr(ep, ':');
		char *end = NULL;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;

		if (!colon || colon < ep + 6 || *end || port < 1 || port > 65535)
			return -EINVAL;
		a->family = AF_INET;	/* stands for both: see s_ours */
		a->port = (uint16_t)port;
		return 0;
	}
	if (strncmp(ep, "ipc://", 6) == 0 && strlen(ep + 6) < sizeof(a->path)) {
		a->family = AF_UNIX;
		str_copy(a->path, sizeof(a->path), ep + 6);
		return 0;
	}
	return -EINVAL;
}

void admission_free(struct admission *a)
{
	free(a->conns);
	a->conns = NULL;
	a->n = a->cap = a->admitted = 0;
}

/* The source of fd when it is a connection of our listener: its local end is
 * the listening port (an outgoing DEALER's is an ephemeral one; the control
 * socket is another path). 0, or -ENOTCONN for anything else. */
static int s_ours(const struct admission *a, int fd, struct adm_source *src)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);

	memset(src, 0, sizeof(*src));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -ENOTCONN;
	if (a->family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)&ss;

		if (ss.ss_family != AF_UNIX || strncmp(un->sun_path, a->path, sizeof(un->sun_path)) != 0)
			return -ENOTCONN;
		src->family = AF_UNIX;
		return 0;
	}
	if ((ss.ss_family == AF_INET && ntohs(((struct sockaddr_in *)&ss)->sin_port) != a->port) ||
	    (ss.ss_family == AF_INET6 && ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) != a->port) ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return -ENOTCONN;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -ENOTCONN;
	if (ss.ss_family == AF_INET) {
		src->family = AF_INET;
		memcpy(src->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else {
		const uint8_t *b = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;

		/* an IPv4 client of a dual-stack listener is that IPv4 address */
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)b)) {
			src->family = AF_INET;
			memcpy(src->addr, b + 12, 4);
		} else {	/* one subscriber gets a /64: count it as one source */
			src->family = AF_INET6;
			memcpy(src->addr, b, 8);
		}
	}
	return 0;
}

static int s_same(const struct adm_source *x, const struct adm_source *y)
{
	return x->family == y->family && memcmp(x->addr, y->addr, sizeof(x->addr)) == 0;
}

static void s_source_text(const struct adm_source *s, char *buf, size_t n)
{
	uint8_t b[16] = { 0 };

	if (s->family == AF_INET) {
		inet_ntop(AF_INET, s->addr, buf, (socklen_t)n);
	} else if (s->family == AF_INET6) {
		char t[INET6_ADDRSTRLEN];

		memcpy(b, s->addr, 8);
		inet_ntop(AF_INET6, b, t, sizeof(t));
		snprintf(buf, n, "%s/64", t);
	} else {
		str_copy(buf, n, "local");
	}
}

static ptrdiff_t s_find(const struct admission *a, int fd)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->conns[i].fd == fd)
			return (ptrdiff_t)i;
	return -1;
}

static void s_remove(struct admission *a, size_t i)
{
	if (!a->conns[i].refused)
		a->admitted--;
	a->conns[i] = a->conns[--a->n];	/* order does not matter */
}

static size_t s_from(const struct admission *a, const struct adm_source *src)
{
	size_t k = 0;

	for (size_t i = 0; i < a->n; i++)
		k += !a->conns[i].refused && s_same(&a->conns[i].src, src);
	return k;
}

static int s_add(struct admission *a, int fd, int refused, const struct adm_source *src)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 64;
		struct adm_conn *c = realloc(a->conns, nc * sizeof(*c));

		if (!c)
			return -ENOMEM;
		a->conns = c;
		a->cap = nc;
	}
	a->conns[a->n++] = (struct adm_conn){ .fd = fd, .refused = refused, .src = *src };
	a->admitted += !refused;
	return 0;
}

static enum adm_verdict s_refuse(struct admission *a, int fd, enum adm_verdict v,
				 const struct adm_source *src)
{
	/* libzmq sees end of file and closes the descriptor itself; the
	 * DISCONNECTED that follows finds this entry (or none, without memory). */
	shutdown(fd, SHUT_RDWR);
	(void)s_add(a, fd, 1, src);
	a->refused++;
	a->pending.total++;
	if (v == ADM_REFUSED_SOURCE) {
		a->refused_source++;
		a->pending.over_source++;
	} else {
		a->refused_total++;
		a->pending.over_total++;
	}
	s_source_text(src, a->pending.last, sizeof(a->pending.last));
	return v;
}

enum adm_verdict admission_accepted(struct admission *a, int fd, int64_t now)
{
	struct adm_source src;
	ptrdiff_t old = s_find(a, fd);

	/* The same fd still listed: that connection was closed without an event
	 * (libzmq closes a descriptor only after its DISCONNECTED otherwise). */
	if (old >= 0)
		s_remove(a, (size_t)old);
	/* Closed (and maybe reused for something else) before we saw it. */
	if (s_ours(a, fd, &src) < 0)
		return ADM_GONE;
	if (a->admitted >= a->max_total || s_from(a, &src) >= a->max_per_source) {
		admission_sweep(a, now, 0);	/* a count may be stale: look first */
		if (a->admitted >= a->max_total)
			return s_refuse(a, fd, ADM_REFUSED_TOTAL, &src);
		if (s_from(a, &src) >= a->max_per_source)
			return s_refuse(a, fd, ADM_REFUSED_SOURCE, &src);
	}
	if (s_add(a, fd, 0, &src) < 0)
		return s_refuse(a, fd, ADM_REFUSED_TOTAL, &src);
	return ADM_ADMITTED;
}

int admission_disconnected(struct admission *a, int fd)
{
	ptrdiff_t i = s_find(a, fd);
	int r;

	if (i < 0)
		return 0;
	r = a->conns[i].refused ? 2 : 1;
	s_remove(a, (size_t)i);
	return r;
}

void admission_sweep(struct admission *a, int64_t now, int force)
{
	if (!force && now < a->next_sweep)
		return;
	a->next_sweep = now + ADM_SWEEP_MS;
	for (size_t i = 0; i < a->n;) {
		struct adm_source src;

		if (s_ours(a, a->conns[i].fd, &src) < 0 || !s_same(&src, &a->conns[i].src))
			s_remove(a, i);	/* the last entry moved here: look at i again */
		else
			i++;
	}
}

int admission_report(struct admission *a, int64_t now, int flush, struct adm_report *r)
{
	if (!a->pending.total || (!flush && now < a->next_report))
		return 0;
	*r = a->pending;
	r->open = a->admitted;
	memset(&a->pending, 0, sizeof(a->pending));
	a->next_report = now + ADM_REPORT_MS;
	return 1;
}

uint64_t admission_fds_needed(unsigned max_total, size_t n_senders)
{
	return (uint64_t)max_total + ADM_QUEUE_FDS + ADM_RESERVE_FDS +
	       (uint64_t)ADM_FDS_PER_SENDER * n_senders;
}

int admission_fd_limit(rlim_t *limit)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -errno;
	}
	*limit = rl.rlim_cur;
	return 0;
}

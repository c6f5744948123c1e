/* Unit tests for admission: real TCP connections on loopback from several
 * source addresses (127.0.0.2, .3, ...: Linux routes all of 127/8 to lo),
 * accepted here as libzmq would, then fed to the module as its monitor
 * events would be. A refused connection must be shut down (the client reads
 * end of file) and counted; descriptors reused or closed unseen must not
 * leave the counts wrong. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "admission.h"

struct fx {
	int lfd;			/* the listener */
	char ep[64];			/* its endpoint, as ZMQ_LAST_ENDPOINT gives it */
	int cli[16], srv[16];		/* client and accepted ends */
	size_t n;
	struct admission a;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	assert_non_null(f);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(f->ep, sizeof(f->ep), "tcp://127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(admission_listener(&f->a, f->ep), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < f->n; i++) {
		if (f->cli[i] >= 0)
			close(f->cli[i]);
		if (f->srv[i] >= 0)
			close(f->srv[i]);
	}
	close(f->lfd);
	admission_free(&f->a);
	free(f);
	return 0;
}

/* A connection from 127.0.0.<host>; returns the index of the pair. */
static size_t s_conn(struct fx *f, int host)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst;
	socklen_t len = sizeof(dst);
	size_t i = f->n++;

	assert_true(i < 16);
	src.sin_addr.s_addr = htonl(0x7f000000u | (unsigned)host);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&dst, &len), 0);
	f->cli[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->cli[i] >= 0);
	assert_int_equal(bind(f->cli[i], (struct sockaddr *)&src, sizeof(src)), 0);
	assert_int_equal(connect(f->cli[i], (struct sockaddr *)&dst, sizeof(dst)), 0);
	f->srv[i] = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(f->srv[i] >= 0);
	return i;
}

/* The client's end saw the server shut the connection down. */
static int s_shut(const struct fx *f, size_t i)
{
	char c;
	struct timeval tv = { .tv_sec = 2 };

	setsockopt(f->cli[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return recv(f->cli[i], &c, 1, 0) == 0;
}

/* ... and an admitted one's did not. */
static int s_open(const struct fx *f, size_t i)
{
	char c;

	return recv(f->cli[i], &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

static void test_caps(void **state)
{
	struct fx *f = *state;
	size_t c[6];
	struct adm_report r;

	admission_limits(&f->a, 3, 2);
	c[0] = s_conn(f, 2);
	c[1] = s_conn(f, 2);
	c[2] = s_conn(f, 2);
	c[3] = s_conn(f, 3);
	c[4] = s_conn(f, 4);
	assert_int_equal(admission_accepted(&f->a, f->srv[c[0]], 0), ADM_ADMITTED);
	assert_int_equal(admission_accepted(&f->a, f->srv[c[1]], 0), ADM_ADMITTED);
	/* a third from the same address: over the per-source cap */
	assert_int_equal(admission_accepted(&f->a, f->srv[c[2]], 0), ADM_REFUSED_SOURCE);
	assert_true(s_shut(f, c[2]));
	assert_int_equal(admission_accepted(&f->a, f->srv[c[3]], 0), ADM_ADMITTED);
	/* another address, but all three slots are taken */
	assert_int_equal(admission_accepted(&f->a, f->srv[c[4]], 0), ADM_REFUSED_TOTAL);
	assert_true(s_shut(f, c[4]));
	assert_int_equal(f->a.admitted, 3);
	assert_int_equal(f->a.refused, 2);
	assert_int_equal(f->a.refused_source, 1);
	assert_int_equal(f->a.refused_total, 1);

	/* the first refusal is reported at once, with both kinds counted */
	assert_int_equal(admission_report(&f->a, 0, 0, &r), 1);
	assert_int_equal(r.total, 2);
	assert_int_equal(r.over_source, 1);
	assert_int_equal(r.over_total, 1);
	assert_string_equal(r.last, "127.0.0.4");
	assert_int_equal(r.open, 3);
	assert_int_equal(admission_report(&f->a, 1, 0, &r), 0);	/* nothing new */

	/* DISCONNECTED: 2 for a refused one, 1 for an admitted one, 0 unknown */
	assert_int_equal(admission_disconnected(&f->a, f->srv[c[2]]), 2);
	assert_int_equal(admission_disconnected(&f->a, f->srv[c[2]]), 0);
	assert_int_equal(admission_disconnected(&f->a, f->srv[c[0]]), 1);
	assert_int_equal(f->a.admitted, 2);
	/* a slot is free again: the next one from .4 is admitted */
	c[5] = s_conn(f, 4);
	assert_int_equal(admission_accepted(&f->a, f->srv[c[5]], 0), ADM_ADMITTED);
	assert_int_equal(f->a.admitted, 3);
	assert_true(s_open(f, c[1]) && s_open(f, c[3]) && s_open(f, c[5]));
}

/* Refusals later than the first are summed up and reported once a minute. */
static void test_report_aggregates(void **state)
{
	struct fx *f = *state;
	struct adm_report r;

	admission_limits(&f->a, 1, 1);
	assert_int_equal(admission_accepted(&f->a, f->srv[s_conn(f, 2)], 0), ADM_ADMITTED);
	assert_int_equal(admission_accepted(&f->a, f->srv[s_conn(f, 3)], 1000), ADM_REFUSED_TOTAL);
	assert_int_equal(admission_report(&f->a, 1000, 0, &r), 1);
	assert_int_equal(r.total, 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(admission_accepted(&f->a, f->srv[s_conn(f, 4 + i)], 2000 + i),
				 ADM_REFUSED_TOTAL);
	assert_int_equal(admission_report(&f->a, 2005, 0, &r), 0);
	assert_int_equal(admission_report(&f->a, 1000 + ADM_REPORT_MS - 1, 0, &r), 0);
	assert_int_equal(admission_report(&f->a, 1000 + ADM_REPORT_MS, 0, &r), 1);
	assert_int_equal(r.total, 5);
	/* at shutdown (flush) whatever is pending, however recent */
	assert_int_equal(admission_accepted(&f->a, f->srv[s_conn(f, 9)], 61001), ADM_REFUSED_TOTAL);
	assert_int_equal(admission_report(&f->a, 61002, 0, &r), 0);
	assert_int_equal(admission_report(&f->a, 61002, 1, &r), 1);
	assert_int_equal(r.total, 1);
	assert_int_equal(f->a.refused, 7);
}

/* Descriptors libzmq closed without a DISCONNECTED (unbind, a duplicate
 * routing id) or that were reused before we saw their event. */
static void test_reuse_and_sweep(void **state)
{
	struct fx *f = *state;
	size_t a, b;
	int devnull, fd;

	admission_limits(&f->a, 10, 2);
	a = s_conn(f, 2);
	b = s_conn(f, 2);
	assert_int_equal(admission_accepted(&f->a, f->srv[a], 0), ADM_ADMITTED);
	assert_int_equal(admission_accepted(&f->a, f->srv[b], 0), ADM_ADMITTED);

	/* closed unseen, the fd number taken by a new connection from .2 (dup2
	 * closes the old one and puts the new one in its place): its ACCEPTED
	 * replaces the stale entry instead of counting .2 three times */
	fd = f->srv[a];
	f->srv[a] = -1;	/* now held by the new pair below */
	a = s_conn(f, 2);
	assert_int_equal(dup2(f->srv[a], fd), fd);
	close(f->srv[a]);
	f->srv[a] = fd;
	assert_int_equal(admission_accepted(&f->a, fd, 0), ADM_ADMITTED);
	assert_int_equal(f->a.admitted, 2);
	assert_true(s_open(f, a));

	/* closed unseen and its number reused by a file: the sweep forgets it */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(devnull >= 0);
	assert_int_equal(dup2(devnull, f->srv[b]), f->srv[b]);
	close(devnull);
	devnull = f->srv[b];
	f->srv[b] = -1;
	admission_sweep(&f->a, 0, 0);
	assert_int_equal(f->a.admitted, 1);
	admission_sweep(&f->a, 10, 0);	/* not due again before ADM_SWEEP_MS */
	/* an ACCEPTED naming it now: not a connection of ours (any more) */
	assert_int_equal(admission_accepted(&f->a, devnull, 0), ADM_GONE);
	close(devnull);
	/* nor is our own outgoing connection (its local port is not the listener's) */
	assert_int_equal(admission_accepted(&f->a, f->cli[a], 0), ADM_GONE);
	assert_int_equal(f->a.admitted, 1);
	assert_int_equal(f->a.refused, 0);
}

/* A full table is looked at again (a stale entry freed) before refusing. */
static void test_sweep_before_refusing(void **state)
{
	struct fx *f = *state;
	size_t a, b;
	int old;

	admission_limits(&f->a, 1, 1);
	a = s_conn(f, 2);
	assert_int_equal(admission_accepted(&f->a, f->srv[a], 0), ADM_ADMITTED);
	old = f->srv[a];
	close(f->srv[a]);	/* closed without an event */
	f->srv[a] = -1;
	b = s_conn(f, 3);	/* its client end takes the number: not one of ours */
	assert_int_not_equal(f->srv[b], old);	/* so not replaced by number */
	assert_int_equal(admission_accepted(&f->a, f->srv[b], 5000), ADM_ADMITTED);
	assert_int_equal(f->a.admitted, 1);
	assert_int_equal(f->a.refused, 0);
}

/* A dual-stack listener: an IPv4 client arrives as ::ffff:a.b.c.d and is
 * that IPv4 address; an IPv6 client counts by its /64. */
static void test_ipv6_sources(void **state)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct admission a = { 0 };
	struct adm_report r;
	socklen_t len = sizeof(sa);
	int l, off = 0, c[3], s[3];
	char ep[64];

	(void)state;
	l = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (l >= 0)
			close(l);
		skip();	/* no IPv6 here */
	}
	assert_int_equal(listen(l, 8), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	snprintf(ep, sizeof(ep), "tcp://[::]:%u", ntohs(sa.sin6_port));
	assert_int_equal(admission_listener(&a, ep), 0);
	admission_limits(&a, 10, 1);
	v4.sin_port = v6.sin6_port = sa.sin6_port;
	v4.sin_addr.s_addr = htonl(0x7f000001);
	for (int i = 0; i < 3; i++) {
		c[i] = socket(i < 2 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(c[i], i < 2 ? (struct sockaddr *)&v4 : (struct sockaddr *)&v6,
					 i < 2 ? sizeof(v4) : sizeof(v6)), 0);
		s[i] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		assert_true(s[i] >= 0);
	}
	assert_int_equal(admission_accepted(&a, s[0], 0), ADM_ADMITTED);
	assert_int_equal(admission_accepted(&a, s[1], 0), ADM_REFUSED_SOURCE);
	assert_int_equal(admission_report(&a, 0, 0, &r), 1);
	assert_string_equal(r.last, "127.0.0.1");	/* not ::ffff:127.0.0.1 */
	assert_int_equal(admission_accepted(&a, s[2], 0), ADM_ADMITTED);	/* ::1 is another source */
	assert_int_equal(a.conns[a.n - 1].src.family, AF_INET6);
	for (int i = 0; i < 3; i++) {
		close(c[i]);
		close(s[i]);
	}
	close(l);
	admission_free(&a);
}

static void test_listener(void **state)
{
	struct admission a = { 0 };

	(void)state;
	assert_int_equal(admission_listener(&a, "tcp://0.0.0.0:7470"), 0);
	assert_int_equal(a.port, 7470);
	assert_int_equal(admission_listener(&a, "tcp://[::1]:7471"), 0);
	assert_int_equal(a.port, 7471);
	assert_int_equal(admission_listener(&a, "ipc:///run/overstap/peer.sock"), 0);
	assert_string_equal(a.path, "/run/overstap/peer.sock");
	assert_int_equal(admission_listener(&a, "tcp://host"), -EINVAL);
	assert_int_equal(admission_listener(&a, "tcp://host:0"), -EINVAL);
	assert_int_equal(admission_listener(&a, "tcp://host:7470x"), -EINVAL);
	assert_int_equal(admission_listener(&a, "inproc://x"), -EINVAL);
}

static void test_fd_budget(void **state)
{
	struct rlimit rl;
	rlim_t lim = 0;

	(void)state;
	assert_int_equal(admission_fds_needed(100, 0), 100 + ADM_QUEUE_FDS + ADM_RESERVE_FDS);
	assert_int_equal(admission_fds_needed(100, 3),
			 100 + ADM_QUEUE_FDS + ADM_RESERVE_FDS + 3 * ADM_FDS_PER_SENDER);
	/* the soft limit is raised to the hard one */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max > 256 ? 256 : rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(admission_fd_limit(&lim), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_true(lim == rl.rlim_cur);
	assert_true(rl.rlim_cur == rl.rlim_max || rl.rlim_max == RLIM_INFINITY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_aggregates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_and_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_before_refusing, setup, teardown),
		cmocka_unit_test(test_ipv6_sources),
		cmocka_unit_test(test_listener),
		cmocka_unit_test(test_fd_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

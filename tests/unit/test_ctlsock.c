/* Unit tests for ctlsock: framed requests over a real AF_UNIX socket, the
 * caller's credentials as the kernel gives them, and the limits a hostile
 * local client meets (design.md §4.9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctlsock.h"

struct fx {
	char dir[64], path[96];
	struct ctlsock cs;
	struct peer_cred last;		/* the cred the last frame came with */
	size_t calls;
	int64_t now;
	size_t steps, drops;		/* of jobs */
};

/* A request "job:N" is answered after N more rounds; "wait:N" too, its
 * steps saying they wait for a thread of their own (ctlsock_step_fn 2). */
struct job {
	struct fx *f;
	int left;
	int wait;
};

/* Echo the request, prefixed with the caller's uid as text. */
static void *s_echo(void *arg, const struct peer_cred *cred, const uint8_t *in, size_t len,
		    uint8_t **out, size_t *out_len)
{
	struct fx *f = arg;
	char head[32];
	int hn = snprintf(head, sizeof(head), "%lu:", (unsigned long)cred->uid);

	f->last = *cred;
	f->calls++;
	if ((len == 5 && memcmp(in, "job:", 4) == 0) || (len == 6 && memcmp(in, "wait:", 5) == 0)) {
		struct job *j = calloc(1, sizeof(*j));

		j->f = f;
		j->left = in[len - 1] - '0';
		j->wait = len == 6;
		return j;
	}
	*out = malloc((size_t)hn + len + 1);
	memcpy(*out, head, (size_t)hn);
	if (len)
		memcpy(*out + hn, in, len);
	*out_len = (size_t)hn + len;
	return NULL;
}

static int s_job_step(void *arg, void *job, uint8_t **out, size_t *out_len)
{
	struct job *j = job;

	assert_ptr_equal(arg, j->f);
	j->f->steps++;
	if (--j->left > 0)
		return j->wait ? 2 : 1;
	*out = (uint8_t *)strdup("done");
	*out_len = 4;
	free(j);
	return 0;
}

static void s_job_drop(void *job)
{
	struct job *j = job;

	j->f->drops++;
	free(j);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ovt-ctlsock.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
	assert_int_equal(ctlsock_open(&f->cs, f->path, ""), 0);
	f->now = 1000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ctlsock_close(&f->cs);
	assert_int_equal(access(f->path, F_OK), -1);	/* the socket file is gone */
	rmdir(f->dir);
	free(f);
	return 0;
}

/* One round of the daemon's loop: poll (up to ms), then handle. */
static void s_round(struct fx *f, int ms)
{
	zmq_pollitem_t items[1 + CTLSOCK_MAX_CONN];
	size_t n = ctlsock_poll_fill(&f->cs, items);

	assert_int_equal(n, ctlsock_poll_count(&f->cs));
	assert_true(zmq_poll(items, (int)n, ms) >= 0);
	ctlsock_handle(&f->cs, items, n,
		       &(struct ctlsock_ops){ .answer = s_echo, .step = s_job_step, .drop = s_job_drop },
		       f, f->now);
}

static int s_connect(const struct fx *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, f->path);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void s_frame(int fd, const char *body, size_t len)
{
	uint8_t h[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			 (uint8_t)len };

	assert_int_equal(send(fd, h, 4, MSG_NOSIGNAL), 4);
	if (len)
		assert_int_equal(send(fd, body, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read one reply frame, running the loop meanwhile; its body into buf. */
static ssize_t s_reply(struct fx *f, int fd, char *buf, size_t cap)
{
	uint8_t h[4];
	size_t got = 0, len = 0, want = 4;

	for (int i = 0; i < 200; i++) {
		ssize_t k;

		s_round(f, 10);
		k = recv(fd, got < 4 ? (char *)h + got : buf + got - 4, want - got, MSG_DONTWAIT);
		if (k == 0)
			return -1;	/* closed */
		if (k < 0)
			continue;
		got += (size_t)k;
		if (got == 4) {
			len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
			assert_true(len <= cap);
			want = 4 + len;
		}
		if (got == want && got >= 4)
			return (ssize_t)len;
	}
	fail_msg("no reply");
	return -1;
}

/* Is fd closed by the other end (after the loop ran)? */
static int s_closed(struct fx *f, int fd)
{
	char c;

	for (int i = 0; i < 50; i++) {
		ssize_t k;

		s_round(f, 10);
		k = recv(fd, &c, 1, MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			return 1;
	}
	return 0;
}

static void test_roundtrip_with_kernel_cred(void **state)
{
	struct fx *f = *state;
	char buf[64], want[64];
	struct stat st;
	int fd = s_connect(f);
	ssize_t n;

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);	/* owner and group only */
	s_frame(fd, "hello", 5);
	n = s_reply(f, fd, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%lu:hello", (unsigned long)getuid());
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, (size_t)n);
	assert_int_equal(f->last.uid, getuid());
	assert_int_equal(f->last.gid, getgid());
	assert_int_equal(f->last.pid, getpid());
	assert_true(f->last.groups_known);
	/* a second request on the same connection, and an empty one */
	s_frame(fd, "again", 5);
	assert_int_equal(s_reply(f, fd, buf, sizeof(buf)), (ssize_t)strlen(want));
	s_frame(fd, "", 0);
	assert_int_equal(s_reply(f, fd, buf, sizeof(buf)), (ssize_t)strlen(want) - 5);
	assert_int_equal(f->calls, 3);
	close(fd);
}

/* A frame that arrives a byte at a time is answered once, whole. */
static void test_trickled_frame(void **state)
{
	struct fx *f = *state;
	const char frame[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	char buf[64], want[64];
	int fd = s_connect(f);
	ssize_t n;

	for (size_t i = 0; i < sizeof(frame); i++) {
		assert_int_equal(send(fd, frame + i, 1, MSG_NOSIGNAL), 1);
		s_round(f, 1);
	}
	n = s_reply(f, fd, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%lu:abc", (unsigned long)getuid());
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, (size_t)n);
	assert_int_equal(f->calls, 1);
	close(fd);
}

/* A header claiming more than the limit closes the connection; nothing is
 * reserved for it, nothing answered, and it is counted. */
static void test_oversized_frame(void **state)
{
	struct fx *f = *state;
	const uint8_t h[4] = { 0xff, 0xff, 0xff, 0xff };
	int fd = s_connect(f);

	assert_int_equal(send(fd, h, 4, MSG_NOSIGNAL), 4);
	assert_true(s_closed(f, fd));
	assert_int_equal(f->calls, 0);
	assert_int_equal(f->cs.refused_frames, 1);
	assert_int_equal(f->cs.n_conn, 0);
	close(fd);
}

/* A client that starts a frame and goes quiet loses its slot after the idle
 * time; one that is still within it keeps it. */
static void test_idle_client_closed(void **state)
{
	struct fx *f = *state;
	int fd = s_connect(f);

	assert_int_equal(send(fd, "\0\0", 2, MSG_NOSIGNAL), 2);
	s_round(f, 10);
	s_round(f, 10);
	assert_int_equal(f->cs.n_conn, 1);
	f->now += CTLSOCK_IDLE_MS - 1;
	s_round(f, 0);
	assert_int_equal(f->cs.n_conn, 1);
	f->now += 1;
	assert_true(s_closed(f, fd));
	assert_int_equal(f->cs.n_conn, 0);
	assert_int_equal(f->cs.refused_frames, 1);
	close(fd);
}

/* More clients than slots: the rest wait in the backlog (not refused) and
 * are served as slots free up. */
static void test_full_table_waits(void **state)
{
	struct fx *f = *state;
	int fds[CTLSOCK_MAX_CONN + 2];
	char buf[64];

	for (size_t i = 0; i < CTLSOCK_MAX_CONN + 2; i++)
		fds[i] = s_connect(f);
	for (int i = 0; i < 5; i++)
		s_round(f, 10);
	assert_int_equal(f->cs.n_conn, CTLSOCK_MAX_CONN);
	close(fds[0]);
	close(fds[1]);
	s_frame(fds[CTLSOCK_MAX_CONN + 1], "late", 4);
	assert_true(s_reply(f, fds[CTLSOCK_MAX_CONN + 1], buf, sizeof(buf)) > 0);
	for (size_t i = 2; i < CTLSOCK_MAX_CONN + 2; i++)
		close(fds[i]);
}

/* Eight connections from nobody (uid 65534) in a forked child: how many the
 * daemon side left open. Needs root to connect as another uid, which the CI
 * machine and the test setup have. */
static int s_nobody_connects(struct fx *f)
{
	int pipefd[2], st;
	pid_t pid;
	char c;

	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fds[8], ok = 0;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(99);
		for (int i = 0; i < 8; i++)
			fds[i] = s_connect(f);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(99);
		/* the daemon closes the ones over the limit: count those left open */
		usleep(300000);
		for (int i = 0; i < 8; i++) {
			char b;
			ssize_t k = recv(fds[i], &b, 1, MSG_DONTWAIT);

			ok += k < 0 && errno == EAGAIN;
		}
		_exit(ok);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	for (int i = 0; i < 20; i++)
		s_round(f, 10);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* One user (not root, not the daemon's) holds at most a few slots, so one
 * member of the control group cannot lock the others out. */
static void test_per_user_limit(void **state)
{
	struct fx *f = *state;

	if (geteuid() != 0) {
		print_message("needs root to connect as another user\n");
		skip();
	}
	assert_int_equal(s_nobody_connects(f), 4);	/* CTLSOCK_MAX_PER_UID kept */
	assert_int_equal(f->cs.n_conn, 4);
	for (int i = 0; i < 5 && f->cs.n_conn; i++)
		s_round(f, 10);
	assert_int_equal(f->cs.n_conn, 0);	/* the child's exit closed them */
}

static int s_nobody_is_delegate(void *arg, uid_t uid)
{
	(void)arg;
	return uid == 65534;
}

/* A configured delegate (overstap-web) serves several people at once, and a
 * connection it has just closed may still count here: it is held only to
 * the table's size, or its fifth user would find the daemon gone. */
static void test_delegate_not_held_to_per_user_limit(void **state)
{
	struct fx *f = *state;

	if (geteuid() != 0) {
		print_message("needs root to connect as another user\n");
		skip();
	}
	f->cs.unlimited = s_nobody_is_delegate;
	assert_int_equal(s_nobody_connects(f), 8);
	for (int i = 0; i < 5 && f->cs.n_conn; i++)
		s_round(f, 10);
	assert_int_equal(f->cs.n_conn, 0);
}

/* A request answered over several rounds: its connection waits (no frame
 * read meanwhile), the loop must not sleep, and other connections are
 * answered between its steps. */
static void test_job_over_rounds(void **state)
{
	struct fx *f = *state;
	char buf[64], want[64];
	int a = s_connect(f), b = s_connect(f);

	s_frame(a, "job:3", 5);
	for (int i = 0; i < 50 && !ctlsock_busy(&f->cs); i++)
		s_round(f, 10);
	assert_true(ctlsock_busy(&f->cs));
	s_frame(b, "hello", 5);
	snprintf(want, sizeof(want), "%lu:hello", (unsigned long)getuid());
	assert_int_equal(s_reply(f, b, buf, sizeof(buf)), (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	assert_int_equal(s_reply(f, a, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "done", 4);
	assert_int_equal(f->steps, 3);
	assert_false(ctlsock_busy(&f->cs));
	/* and the connection goes on as before */
	s_frame(a, "again", 5);
	assert_int_equal(s_reply(f, a, buf, sizeof(buf)), (ssize_t)strlen(want));
	assert_int_equal(f->drops, 0);
	close(a);
	close(b);
}

/* A job that waits for a thread of its own (`store check`): the loop may
 * sleep a little (ctlsock_busy 2) rather than spin, unless another job has
 * a step to run at once (1); so too once its client has gone. */
static void test_waiting_job_lets_the_loop_sleep(void **state)
{
	struct fx *f = *state;
	char buf[64];
	int a = s_connect(f), b = s_connect(f);

	s_frame(a, "wait:9", 6);
	for (int i = 0; i < 50 && ctlsock_busy(&f->cs) != 2; i++)
		s_round(f, 10);
	assert_int_equal(ctlsock_busy(&f->cs), 2);
	s_frame(b, "job:3", 5);
	for (int i = 0; i < 50 && ctlsock_busy(&f->cs) != 1; i++)
		s_round(f, 10);
	assert_int_equal(ctlsock_busy(&f->cs), 1);
	assert_int_equal(s_reply(f, b, buf, sizeof(buf)), 4);
	assert_int_equal(ctlsock_busy(&f->cs), 2);
	close(a);
	s_round(f, 10);
	assert_int_equal(f->cs.n_orphan, 1);
	assert_int_equal(ctlsock_busy(&f->cs), 2);
	for (int i = 0; i < 50 && ctlsock_busy(&f->cs); i++)
		s_round(f, 10);
	assert_int_equal(ctlsock_busy(&f->cs), 0);
	assert_int_equal(f->steps, 9 + 3);
	assert_int_equal(f->drops, 0);
	close(b);
}

/* The client leaves while its job runs (a CLI that timed out, or ^C): the
 * job runs on to its end all the same, its reply dropped. */
static void test_job_runs_on_when_client_leaves(void **state)
{
	struct fx *f = *state;
	int a = s_connect(f);

	s_frame(a, "job:9", 5);
	for (int i = 0; i < 50 && !ctlsock_busy(&f->cs); i++)
		s_round(f, 10);
	assert_true(ctlsock_busy(&f->cs));
	close(a);
	for (int i = 0; i < 50 && ctlsock_busy(&f->cs); i++)
		s_round(f, 10);
	assert_false(ctlsock_busy(&f->cs));
	assert_int_equal(f->steps, 9);
	assert_int_equal(f->drops, 0);
	assert_int_equal(f->cs.n_conn, 0);
}

/* The daemon stops while jobs run, one with its client, one without:
 * ctlsock_close drops both. */
static void test_job_dropped_at_close(void **state)
{
	struct fx *f = *state;
	int a = s_connect(f);

	int b = s_connect(f);

	s_frame(a, "job:9", 5);
	s_frame(b, "job:9", 5);
	for (int i = 0; i < 50 && f->calls < 2; i++)
		s_round(f, 10);
	assert_true(ctlsock_busy(&f->cs));
	close(b);	/* b's job runs on without it */
	s_round(f, 10);
	s_round(f, 10);
	assert_int_equal(f->cs.n_orphan, 1);
	ctlsock_close(&f->cs);
	assert_int_equal(f->drops, 2);
	assert_int_equal(ctlsock_open(&f->cs, f->path, ""), 0);	/* for teardown */
	close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_with_kernel_cred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trickled_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_client_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_table_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_user_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delegate_not_held_to_per_user_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_over_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiting_job_lets_the_loop_sleep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_runs_on_when_client_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_dropped_at_close, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for watchdog.c: systemd's watchdog hears from the long steps
 * that run inside one turn of the loop (a backup of a big store, the
 * verification of a long audit log), not only from the loop, and STATUS=
 * says how far they are. We play systemd: NOTIFY_SOCKET is a datagram
 * socket of ours. (The leavers import: test_notify.py, real daemon.) */
#include "store_fixture.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "audit.h"
#include "watchdog.h"

struct ns {
	int fd;
	char path[108];
};

/* Bind the manager's end and point $NOTIFY_SOCKET and $WATCHDOG_USEC
 * (usec) at it, as systemd does for a unit with WatchdogSec=. */
static void s_manager(struct ns *n, const char *dir, const char *usec)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(n->path, sizeof(n->path), "%s/notify", dir);
	str_copy(a.sun_path, sizeof(a.sun_path), n->path);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(n->fd >= 0);
	assert_int_equal(bind(n->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", n->path, 1), 0);
	assert_int_equal(setenv("WATCHDOG_USEC", usec, 1), 0);
	unsetenv("WATCHDOG_PID");
	watchdog_init();
}

static void s_manager_close(struct ns *n)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	watchdog_init();	/* no watchdog for whatever runs next */
	close(n->fd);
	unlink(n->path);
}

/* Read every datagram waiting: the number of WATCHDOG=1 pings, and the
 * last STATUS= line that starts with prefix (into status). */
static int s_pings(struct ns *n, const char *prefix, char *status, size_t len)
{
	char buf[512];
	ssize_t k;
	int pings = 0;

	status[0] = '\0';
	while ((k = recv(n->fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[k] = '\0';
		pings += strstr(buf, "WATCHDOG=1") != NULL;
		if (strncmp(buf, "STATUS=", 7) == 0 && strncmp(buf + 7, prefix, strlen(prefix)) == 0)
			str_copy(status, len, buf + 7);
	}
	return pings;
}

/* The loop's own ping: at once, then not before half the interval. */
static void test_tick(void **state)
{
	struct fx *f = *state;
	struct ns n;
	char status[256];

	s_manager(&n, f->dir, "2000000");	/* 2 s: a ping a second */
	assert_true(watchdog_tick(1000) <= 1000);
	assert_int_equal(s_pings(&n, "", status, sizeof(status)), 1);
	assert_int_equal(watchdog_tick(1500), 500);
	assert_int_equal(s_pings(&n, "", status, sizeof(status)), 0);
	assert_int_equal(watchdog_tick(2000), 1000);
	assert_int_equal(s_pings(&n, "", status, sizeof(status)), 1);
	/* a step that has not held the turn for a second leaves STATUS= alone
	 * (an import of a few thousand rows) */
	(void)watchdog_tick(time_mono_ms());
	(void)s_pings(&n, "", status, sizeof(status));
	watchdog_progress("importing leavers", 1024, 5000);
	(void)s_pings(&n, "importing leavers", status, sizeof(status));
	assert_string_equal(status, "");
	s_manager_close(&n);
	/* without one: nothing, never due */
	assert_int_equal(watchdog_tick(5000), INT64_MAX);
}

/* A backup of a store bigger than one slice (4 MiB) pings between slices
 * and says how many pages it has copied. Before, the copy was one sqlite
 * step: a store of some GiB went past WatchdogSec= without a word. */
static void test_backup_pings_as_it_copies(void **state)
{
	struct fx *f = *state;
	struct ns n;
	char path[160], status[256], err[256] = "";
	uint64_t bytes = 0;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE pad (b BLOB);"
				      "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k"
				      " WHERE i < 48) INSERT INTO pad SELECT randomblob(262144) FROM k;",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s_manager(&n, f->dir, "2000");		/* a ping due every millisecond */
	(void)s_pings(&n, "", status, sizeof(status));
	usleep(2000);
	snprintf(path, sizeof(path), "%s/backup.db", f->dir);
	assert_int_equal(store_backup(f->s, path, 0, &bytes, err, sizeof(err)), 0);
	assert_true(bytes > 12u << 20);
	assert_true(s_pings(&n, "backing up the store: ", status, sizeof(status)) >= 1);
	assert_true(status[0]);
	s_manager_close(&n);
}

/* The verification of an audit log of more than 4096 entries pings on its
 * way through and says how many it has read. */
static void test_audit_verify_pings(void **state)
{
	struct fx *f = *state;
	struct ns n;
	char status[256], why[256];
	int64_t bad = -1;

	assert_int_equal(store_begin(f->s), 0);
	for (int i = 0; i < 9000; i++)
		assert_int_equal(store_audit(f->s, "u", "test.entry", "leaver:1", "", "{}"), 0);
	assert_int_equal(store_commit(f->s), 0);
	s_manager(&n, f->dir, "2000");
	(void)s_pings(&n, "", status, sizeof(status));
	usleep(2000);
	assert_int_equal(audit_verify(store_audit_peek(f->s), &bad, why, sizeof(why)), 0);
	assert_true(s_pings(&n, "verifying the audit log: ", status, sizeof(status)) >= 1);
	assert_true(status[0]);
	s_manager_close(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tick, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_backup_pings_as_it_copies, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_audit_verify_pings, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

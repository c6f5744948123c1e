/* Unit tests for store_wal.c: the WAL checkpointed on a thread of its own
 * (design.md §5.1). The loop's connection no longer checkpoints in its
 * commits; the thread must still fold the WAL into the database, stop
 * cleanly, and lose nothing committed when the process is killed. */
#include "store_fixture.h"

#include "store_int.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define BLOB 40000	/* about ten pages a commit */

static void s_pad(struct store *s)
{
	assert_int_equal(sqlite3_exec(s->db, "CREATE TABLE IF NOT EXISTS pad(b)", NULL, NULL, NULL),
			 SQLITE_OK);
}

/* One commit of the loop's kind: BEGIN IMMEDIATE ... COMMIT on the store. */
static int s_commit_blob(struct store *s)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "INSERT INTO pad VALUES (randomblob(%d))", BLOB);
	if (store_begin(s) < 0)
		return -1;
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s);
}

static off_t s_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static long s_rows(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long n = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pad", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* 300 commits of ten pages each (3,000 WAL pages): the thread folds them
 * into the database file, although the loop's connection never checkpoints;
 * the WAL starts over instead of holding all of it. */
static void test_thread_checkpoints(void **state)
{
	struct fx *f = *state;
	char wal[160], err[256];
	unsigned long runs = 0;
	off_t db0;

	store_close(&f->s);
	assert_int_equal(store_open_ex(f->path, f->master, STORE_OPEN_WAL_THREAD, &f->s, err,
				       sizeof(err)), 0);
	assert_int_equal(store_wal_runs(f->s, &runs), 0);
	assert_int_equal(runs, 0);
	s_pad(f->s);
	db0 = s_size(f->path);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(s_commit_blob(f->s), 0);
		if (i % 50 == 49) {	/* let the thread catch up now and then */
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	for (int i = 0; i < 250 && (store_wal_runs(f->s, &runs), runs < 2); i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	assert_true(runs >= 2);
	assert_int_equal(store_wal_runs(f->s, &runs), 0);
	/* the database file holds most of the 12 MB written... */
	assert_true(s_size(f->path) - db0 > 8 * 1000 * 1000);
	/* ...and the WAL did not grow to hold all of it */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_true(s_size(wal) < 9 * 1000 * 1000);
	store_close(&f->s);
	assert_int_equal(s_rows(f->path), 300);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
}

/* Without the flag there is no thread, and sqlite checkpoints by itself. */
static void test_no_thread_without_flag(void **state)
{
	struct fx *f = *state;
	unsigned long runs = 0;

	assert_int_equal(store_wal_runs(f->s, &runs), -ENOENT);
	s_pad(f->s);
	for (int i = 0; i < 250; i++)
		assert_int_equal(s_commit_blob(f->s), 0);
	assert_true(s_size(f->path) > 6 * 1000 * 1000);
}

/* Stopping the thread while it checkpoints, and starting it twice. */
static void test_stop_and_start(void **state)
{
	struct fx *f = *state;
	unsigned long runs = 0;

	assert_int_equal(store_wal_start(f->s, f->path), 0);
	assert_int_equal(store_wal_start(f->s, f->path), -EALREADY);
	s_pad(f->s);
	for (int i = 0; i < 120; i++)
		assert_int_equal(s_commit_blob(f->s), 0);
	store_wal_stop(f->s);	/* joins, whatever the thread was doing */
	assert_int_equal(store_wal_runs(f->s, &runs), -ENOENT);
	store_wal_stop(f->s);	/* harmless twice */
	/* the connection checkpoints by itself again */
	for (int i = 0; i < 250; i++)
		assert_int_equal(s_commit_blob(f->s), 0);
	assert_true(s_size(f->path) > 6 * 1000 * 1000);
}

/* kill -9 while the thread checkpoints: every commit the child reported
 * done is in the store afterwards, and the store passes its check. */
static void test_kill_while_checkpointing(void **state)
{
	struct fx *f = *state;
	int fds[2], st;
	long reported = 0, got;
	char err[256];
	pid_t pid;

	s_pad(f->s);
	store_close(&f->s);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *s = NULL;

		close(fds[0]);
		if (store_open_ex(f->path, f->master, STORE_OPEN_WAL_THREAD, &s, err,
				  sizeof(err)) < 0)
			_exit(2);
		for (long i = 1;; i++) {
			if (s_commit_blob(s) < 0)
				_exit(3);
			if (write(fds[1], &i, sizeof(i)) != sizeof(i))
				_exit(4);
		}
	}
	close(fds[1]);
	/* past a few checkpoints' worth of pages before the kill */
	while (reported < 400 && read(fds[0], &got, sizeof(got)) == sizeof(got))
		reported = got;
	assert_int_equal(kill(pid, SIGKILL), 0);
	while (read(fds[0], &got, sizeof(got)) == sizeof(got))
		reported = got;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	got = s_rows(f->path);
	/* the one it was committing when killed may or may not be there */
	assert_true(got == reported || got == reported + 1);
	assert_int_equal(store_check_now(f->s, f->path, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_thread_checkpoints),
		FX_TEST(test_no_thread_without_flag),
		FX_TEST(test_stop_and_start),
		FX_TEST(test_kill_while_checkpointing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for control_store.c (`overstap store check|backup`) and for how
 * every control request answers once the store is damaged, driven through
 * ctl_dispatch() against a real store in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "control_int.h"
#include "ctl_fixture.h"
#include "keys.h"
#include "store.h"

struct fx {
	char dir[64];
	struct keys keys;
	struct config cfg;
	struct store *s;
	struct hctx h;
	struct net net;
	struct ctl_env env;
	struct peer_cred cred;		/* this process, as the kernel would tell it */
	Overstapctl__Reply rep;
	struct req_ctx c;
	/* s_backup_started's request: it lives as long as the copy it started */
	Overstapctl__Request breq;
	Overstapctl__StoreBackup bq;
	char bpath[160];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ctl_fixture_open(f->dir, "/tmp/test_ctlstore.XXXXXX", &f->keys, &f->s);
	strcpy(f->cfg.institution_id, "99ZZ00");
	ctl_fixture_wire(&f->h, &f->env, &f->cred, f->s, &f->cfg, &f->keys, &f->net, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ctl_req_done(&f->c);
	ctl_fixture_close(f->dir, &f->keys, &f->s);
	free(f);
	return 0;
}

static Overstapctl__Reply *s_call(struct fx *f, Overstapctl__Request *req,
				  Overstapctl__Request__BodyCase body)
{
	req->version = OVERSTAPCTL__VERSION__CURRENT;
	req->user = "admin1";
	req->body_case = body;
	ctl_req_done(&f->c);
	overstapctl__reply__init(&f->rep);
	f->c = (struct req_ctx){ .h = &f->h, .env = &f->env, .cred = &f->cred, .req = req, .rep = &f->rep };
	ctl_dispatch(&f->c);
	return &f->rep;
}

/* The number of audit entries with this action. */
static int s_audited(struct fx *f, const char *action)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__AuditQuery q = OVERSTAPCTL__AUDIT_QUERY__INIT;
	Overstapctl__Reply *rep;
	char want[64];
	int n = 0;

	q.from_seq = 1;
	req.audit_export = &q;
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_AUDIT_EXPORT);
	assert_int_equal(rep->code, 0);
	snprintf(want, sizeof(want), "\"%s\"", action);
	for (size_t i = 0; i < rep->audit_entries->n_lines; i++)
		n += strstr(rep->audit_entries->lines[i], want) != NULL;
	return n;
}

static void test_check_ok(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Empty e = OVERSTAPCTL__EMPTY__INIT;
	Overstapctl__Reply *rep;

	req.store_check = &e;
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_STORE_CHECK);
	assert_string_equal(rep->error, "");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_STORE_CHECK);
	assert_true(rep->store_check->ok);
	assert_int_equal(rep->store_check->n_problems, 0);
	assert_int_equal(s_audited(f, "store.checked"), 1);
}

/* Some MiB in the store, so that a check or a copy is still running when
 * the test looks. */
static void s_pad(struct fx *f)
{
	char path[160];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/store.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE pad (b BLOB);"
				      "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k"
				      " WHERE i < 64) INSERT INTO pad SELECT randomblob(262144) FROM k;",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void s_dispatch_deferred(struct fx *f, Overstapctl__Request *req,
				Overstapctl__Request__BodyCase body)
{
	req->version = OVERSTAPCTL__VERSION__CURRENT;
	req->user = "admin1";
	req->body_case = body;
	ctl_req_done(&f->c);
	overstapctl__reply__init(&f->rep);
	f->c = (struct req_ctx){ .h = &f->h, .env = &f->env, .cred = &f->cred, .req = req,
				 .rep = &f->rep, .can_defer = 1 };
	ctl_dispatch(&f->c);
}

/* A backup of a padded store to f->bpath (DIR/backup.db), deferred as in
 * the daemon: the copy is still running when this returns. */
static void s_backup_started(struct fx *f)
{
	s_pad(f);
	snprintf(f->bpath, sizeof(f->bpath), "%s/backup.db", f->dir);
	overstapctl__request__init(&f->breq);
	overstapctl__store_backup__init(&f->bq);
	f->bq.file = f->bpath;
	f->breq.store_backup = &f->bq;
	s_dispatch_deferred(f, &f->breq, OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP);
	assert_non_null(f->c.step);
}

/* The padding rows in the copy at path: 64 when it is whole. */
static int s_pad_rows(const char *path)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM pad", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* A deferred request under way: the loop goes on (here, a write of its
 * own while the thread reads), and each of its later rounds waits for the
 * thread (ctl_step 2) rather than spinning, until the answer comes. */
static void s_meanwhile_until_done(struct fx *f)
{
	int steps = 0, waited = 0, more;

	assert_non_null(f->c.step);		/* not answered yet: the loop goes on */
	assert_int_equal(f->rep.body_case, OVERSTAPCTL__REPLY__BODY__NOT_SET);
	assert_int_equal(store_audit(f->s, "admin1", "test.meanwhile", "", "", "{}"), 0);
	while ((more = ctl_step(&f->c)) != 0) {
		steps++;
		waited += more == 2;
		usleep(1000);
	}
	assert_true(steps >= 1);
	assert_int_equal(waited, steps);	/* every round waited: none spun */
}

/* In the daemon (can_defer) the check runs on its own thread: the handler
 * returns at once with the reply still to come, the loop goes on (here: a
 * write of its own while the check reads), and its later rounds wait
 * without spinning (ctl_step 2) until the result comes, audited. In the
 * loop, a check of a store of some GiB held every request and outlasted
 * systemd's watchdog. */
static void test_check_beside_the_loop(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Empty e = OVERSTAPCTL__EMPTY__INIT;

	s_pad(f);
	req.store_check = &e;
	s_dispatch_deferred(f, &req, OVERSTAPCTL__REQUEST__BODY_STORE_CHECK);
	s_meanwhile_until_done(f);
	assert_int_equal(f->rep.code, 0);
	assert_string_equal(f->rep.error, "");
	assert_int_equal(f->rep.body_case, OVERSTAPCTL__REPLY__BODY_STORE_CHECK);
	assert_true(f->rep.store_check->ok);
	assert_int_equal(s_audited(f, "store.checked"), 1);
	assert_int_equal(s_audited(f, "test.meanwhile"), 1);
}

/* In the daemon the copy runs on its own thread, as the check does: the
 * loop goes on (a write of its own meanwhile), its rounds wait without
 * spinning, and the answer comes once the copy is done, audited; the copy
 * is a whole store. In the loop, a copy of some GiB held every request,
 * every send and every ack for minutes. */
static void test_backup_beside_the_loop(void **state)
{
	struct fx *f = *state;
	const char *path = f->bpath;
	char err[256];
	struct store *copy = NULL;

	s_backup_started(f);
	s_meanwhile_until_done(f);
	assert_string_equal(f->rep.error, "");
	assert_int_equal(f->rep.body_case, OVERSTAPCTL__REPLY__BODY_STORE_BACKUP);
	assert_true(f->rep.store_backup->bytes > 16u << 20);
	assert_int_equal(s_audited(f, "store.backup"), 1);
	assert_int_equal(s_audited(f, "test.meanwhile"), 1);
	/* a whole store: the master key opens it (quick_check included) and
	 * every padding row is there */
	assert_int_equal(store_open(path, f->keys.master, &copy, err, sizeof(err)), 0);
	store_close(&copy);
	assert_int_equal(s_pad_rows(path), 64);
}

/* A daemon that stops while a copy runs (the request's job freed) stops the
 * copy and leaves no half file behind, and audits nothing. */
static void test_backup_stopped_leaves_nothing(void **state)
{
	struct fx *f = *state;
	const char *path = f->bpath;
	struct stat sb;

	s_backup_started(f);
	assert_int_equal(stat(path, &sb), 0);	/* the copy has begun */
	ctl_req_done(&f->c);			/* the daemon stops */
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(s_audited(f, "store.backup"), 0);
}

/* An erasure's WAL truncation while a copy reads an older snapshot: it
 * would wait for that reader (the busy timeout, 5 s, on the loop) and then
 * fail, leaving the erased key's old page in the -wal file. It is put off
 * at once instead, and done once the copy has ended. */
static void test_wal_truncation_waits_for_the_backup(void **state)
{
	struct fx *f = *state;
	char wal[160];
	struct timespec t0, t1;
	struct stat sb;

	snprintf(wal, sizeof(wal), "%s/store.db-wal", f->dir);
	s_backup_started(f);
	assert_int_equal(store_audit(f->s, "admin1", "test.shredded", "", "", "{}"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_checkpoint_wal(f->s), 1);	/* put off */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 1);
	assert_int_equal(store_wal_truncate_due(f->s), 0);	/* the copy still reads */
	while (ctl_step(&f->c) != 0)
		usleep(1000);
	assert_int_equal(f->rep.body_case, OVERSTAPCTL__REPLY__BODY_STORE_BACKUP);
	assert_int_equal(store_wal_truncate_due(f->s), 1);	/* now, once */
	assert_int_equal(store_wal_truncate_due(f->s), 0);
	assert_int_equal(store_checkpoint_wal(f->s), 0);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_size, 0);
}

/* A second request beside f's, deferred as in the daemon: its reply code. */
static int s_second_backup(struct fx *f, const char *path, int force, char *error, size_t len)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__StoreBackup q = OVERSTAPCTL__STORE_BACKUP__INIT;
	Overstapctl__Reply rep;
	struct req_ctx c;
	int code;

	q.file = (char *)path;
	q.force = force;
	req.store_backup = &q;
	req.version = OVERSTAPCTL__VERSION__CURRENT;
	req.user = "admin1";
	req.body_case = OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP;
	overstapctl__reply__init(&rep);
	c = (struct req_ctx){ .h = &f->h, .env = &f->env, .cred = &f->cred, .req = &req,
			      .rep = &rep, .can_defer = 1 };
	ctl_dispatch(&c);
	while (c.step && ctl_step(&c) != 0)
		usleep(1000);
	code = rep.code;
	snprintf(error, len, "%s", rep.error ? rep.error : "");
	ctl_req_done(&c);
	return code;
}

/* One backup at a time. Before, a second `store backup --force` to the
 * file a first was still writing unlinked it under the copy: both answered
 * that they had made it, and the first's answer named a file that held the
 * second's copy. Now a second is refused while the first runs, whatever its
 * file, naming the first's; nothing of the first is touched, its copy is
 * whole, and once it has finished the next one runs. */
static void test_one_backup_at_a_time(void **state)
{
	struct fx *f = *state;
	const char *path = f->bpath;
	char other[160], error[512];
	struct stat before, sb;

	s_backup_started(f);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(s_second_backup(f, path, 1, error, sizeof(error)), -EBUSY);
	assert_non_null(strstr(error, "still running"));
	assert_non_null(strstr(error, path));
	assert_int_equal(stat(path, &sb), 0);	/* the same file, not unlinked */
	assert_true(sb.st_ino == before.st_ino);
	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	assert_int_equal(s_second_backup(f, other, 0, error, sizeof(error)), -EBUSY);
	assert_int_equal(stat(other, &sb), -1);	/* not begun */
	assert_non_null(f->c.step);		/* the first goes on */
	while (ctl_step(&f->c) != 0)
		usleep(1000);
	assert_string_equal(f->rep.error, "");
	assert_int_equal(f->rep.body_case, OVERSTAPCTL__REPLY__BODY_STORE_BACKUP);
	assert_int_equal(s_pad_rows(path), 64);
	assert_int_equal(s_audited(f, "store.backup"), 1);
	/* finished: the next one may run */
	assert_int_equal(s_second_backup(f, other, 0, error, sizeof(error)), 0);
	assert_string_equal(error, "");
	assert_int_equal(s_pad_rows(other), 64);
	assert_int_equal(s_audited(f, "store.backup"), 2);
}

static void test_backup(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__StoreBackup q = OVERSTAPCTL__STORE_BACKUP__INIT;
	Overstapctl__Reply *rep;
	char path[128], link[128], target[128];
	struct store *copy = NULL;
	struct stat sb;
	char err[256];
	FILE *t;

	snprintf(path, sizeof(path), "%s/backup.db", f->dir);
	q.file = path;
	req.store_backup = &q;
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP);
	assert_string_equal(rep->error, "");
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_STORE_BACKUP);
	assert_true(rep->store_backup->bytes > 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal((uint64_t)sb.st_size, rep->store_backup->bytes);
	assert_int_equal(s_audited(f, "store.backup"), 1);
	/* The copy is a store the same master key opens. */
	assert_int_equal(store_open(path, f->keys.master, &copy, err, sizeof(err)), 0);
	store_close(&copy);

	/* An existing file is refused, and kept. */
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP);
	assert_int_equal(rep->code, -EEXIST);
	assert_non_null(strstr(rep->error, "--force"));
	/* So is a symlink; --force replaces the link, never its target. */
	snprintf(target, sizeof(target), "%s/precious", f->dir);
	snprintf(link, sizeof(link), "%s/link.db", f->dir);
	assert_non_null(t = fopen(target, "w"));
	fputs("keep", t);
	fclose(t);
	assert_int_equal(symlink(target, link), 0);
	q.file = link;
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP);
	assert_int_equal(rep->code, -EEXIST);
	assert_non_null(strstr(rep->error, "symbolic link"));
	q.force = 1;
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP);
	assert_int_equal(rep->code, 0);
	assert_int_equal(lstat(link, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(stat(target, &sb), 0);
	assert_int_equal(sb.st_size, 4);
	/* A relative path means nothing to the daemon. */
	q.file = "backup.db";
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_STORE_BACKUP);
	assert_int_equal(rep->code, -EINVAL);
	assert_non_null(strstr(rep->error, "absolute"));
}

/* A damaged store: writes refused with a reason that says what to do; status
 * says so; reads still answer. */
static void test_damaged_store_refuses_writes(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__MarkRegistered m = OVERSTAPCTL__MARK_REGISTERED__INIT;
	Overstapctl__Empty e = OVERSTAPCTL__EMPTY__INIT;
	Overstapctl__ListFilter lf = OVERSTAPCTL__LIST_FILTER__INIT;
	char *refs[] = { "R1" };
	Overstapctl__Reply *rep;

	req.status = &e;
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_STATUS);
	assert_false(rep->status->store_damaged);
	assert_int_equal(store_note(f->s, -EUCLEAN), -EUCLEAN);

	m.n_pupil_refs = 1;
	m.pupil_refs = refs;
	m.date = "2025-06-01";
	req.mark_registered = &m;
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED);
	assert_int_equal(rep->code, -EUCLEAN);
	assert_non_null(strstr(rep->error, "the store is damaged"));
	assert_non_null(strstr(rep->error, "restored from a backup"));

	req.status = &e;
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_STATUS);
	assert_int_equal(rep->code, 0);
	assert_true(rep->status->store_damaged);
	assert_true(rep->status->store_error[0] != '\0');

	req.handover_list = &lf;
	rep = s_call(f, &req, OVERSTAPCTL__REQUEST__BODY_HANDOVER_LIST);
	assert_int_equal(rep->code, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_beside_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_beside_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_stopped_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_truncation_waits_for_the_backup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_one_backup_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_store_refuses_writes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

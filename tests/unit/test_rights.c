/* Unit tests for rights: who the control socket's caller is, and what they
 * may do (design.md §4.9). Uses groups and users every Debian system has
 * (root, users, audio, video, nogroup, nobody), looked up through NSS as the
 * daemon does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rights.h"

#define STRANGER 4242		/* a uid no passwd entry has */
#define NOBODY 65534

static void s_cfg(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->control_group, "users");
	strcpy(cfg->control_mentor, "audio video");
	strcpy(cfg->control_privacy, "video");
	strcpy(cfg->control_admin, "root");
}

static struct peer_cred s_cred(uid_t uid, gid_t gid, const gid_t *g, size_t n)
{
	struct peer_cred c = { .uid = uid, .gid = gid, .pid = 1, .groups_known = 1 };

	if (n)
		memcpy(c.groups, g, n * sizeof(*g));
	c.n_groups = n;
	return c;
}

static unsigned s_rights(const struct config *cfg, const struct peer_cred *c, const char *claim,
			 struct identity *who)
{
	char why[256];

	assert_int_equal(rights_identify(cfg, c, claim, who, why, sizeof(why)), 0);
	return who->rights;
}

#define B(x) RIGHT_BIT(RIGHT_##x)

/* Rights come from the groups the kernel gave, each mapped by [control]. */
static void test_groups_give_rights(void **state)
{
	struct config cfg;
	struct identity who;
	const gid_t none[] = { 0 }, users[] = { 100 }, mentor[] = { 100, 29 }, both[] = { 44, 100 };
	struct peer_cred c;

	(void)state;
	s_cfg(&cfg);
	c = s_cred(STRANGER, STRANGER, none, 0);
	assert_int_equal(s_rights(&cfg, &c, "", &who), 0);
	assert_string_equal(who.user, "uid:4242");	/* no passwd entry: the number */
	assert_string_equal(who.via, "");

	c = s_cred(STRANGER, STRANGER, users, 1);
	assert_int_equal(s_rights(&cfg, &c, "", &who), B(READ));	/* read = the control group */
	c = s_cred(STRANGER, STRANGER, mentor, 2);
	assert_int_equal(s_rights(&cfg, &c, "", &who), B(READ) | B(MENTOR));
	c = s_cred(STRANGER, 44, both, 2);	/* video as the primary group counts too */
	assert_int_equal(s_rights(&cfg, &c, "", &who), B(READ) | B(MENTOR) | B(PRIVACY));
	c = s_cred(STRANGER, 44, none, 0);
	assert_int_equal(s_rights(&cfg, &c, "", &who), B(MENTOR) | B(PRIVACY));

	/* an explicit read list replaces the control group */
	strcpy(cfg.control_read, "audio");
	c = s_cred(STRANGER, STRANGER, users, 1);
	assert_int_equal(s_rights(&cfg, &c, "", &who), 0);
	assert_string_equal(rights_groups(&cfg, RIGHT_READ), "audio");
	assert_string_equal(rights_groups(&cfg, RIGHT_QUALITY), "");
}

/* A caller's claim to be someone else changes nothing. */
static void test_claims_ignored(void **state)
{
	struct config cfg;
	struct identity who;
	const gid_t users[] = { 100 };
	struct peer_cred c;

	(void)state;
	s_cfg(&cfg);
	c = s_cred(STRANGER, STRANGER, users, 1);
	assert_int_equal(s_rights(&cfg, &c, "root", &who), B(READ));
	assert_string_equal(who.user, "uid:4242");
	assert_string_equal(who.via, "");
	c = s_cred(NOBODY, NOBODY, users, 1);
	assert_int_equal(s_rights(&cfg, &c, "root", &who), B(READ));
	assert_string_equal(who.user, "nobody");
}

/* Root, and the daemon's own user, hold every right: they can read the
 * store and the keys anyway. */
static void test_root_and_self(void **state)
{
	struct config cfg;
	struct identity who;
	struct peer_cred c;

	(void)state;
	s_cfg(&cfg);
	c = s_cred(0, 0, NULL, 0);
	assert_int_equal(s_rights(&cfg, &c, "", &who), RIGHTS_ALL);
	assert_string_equal(who.user, "root");
	c = s_cred(geteuid(), getegid(), NULL, 0);
	assert_int_equal(s_rights(&cfg, &c, "", &who), RIGHTS_ALL);
}

/* Without the kernel's group list, the groups come from NSS by name. */
static void test_groups_from_nss(void **state)
{
	struct config cfg;
	struct identity who;
	struct peer_cred c = { .uid = NOBODY, .gid = NOBODY, .pid = 1 };

	(void)state;
	s_cfg(&cfg);
	assert_int_equal(s_rights(&cfg, &c, "", &who), 0);
	strcpy(cfg.control_quality, "nogroup");
	assert_int_equal(s_rights(&cfg, &c, "", &who), B(QUALITY));
}

/* A delegate acts for the user it names, with that user's groups only:
 * a delegated "root" is not root. */
static void test_delegate(void **state)
{
	struct config cfg;
	struct identity who;
	const gid_t users[] = { 100 };
	struct peer_cred c = s_cred(NOBODY, NOBODY, users, 1);
	char why[256];

	(void)state;
	s_cfg(&cfg);
	strcpy(cfg.control_delegate, "daemon nobody");
	assert_int_equal(s_rights(&cfg, &c, "root", &who), B(ADMIN));	/* root's group: admin */
	assert_string_equal(who.user, "root");
	assert_string_equal(who.via, "nobody");

	/* nothing named: the delegate acts as itself */
	assert_int_equal(s_rights(&cfg, &c, "", &who), B(READ));
	assert_string_equal(who.user, "nobody");
	assert_string_equal(who.via, "");

	/* a name that is no user, or no name at all, is refused */
	assert_int_equal(rights_identify(&cfg, &c, "no-such-user-ovt", &who, why, sizeof(why)),
			 -EACCES);
	assert_non_null(strstr(why, "'no-such-user-ovt', who is not a user on this system"));
	assert_int_equal(rights_identify(&cfg, &c, "two words", &who, why, sizeof(why)), -EACCES);
	assert_string_equal(why, "delegate nobody named no valid user");
	assert_int_equal(rights_identify(&cfg, &c, "abcdefghijklmnopqrstuvwxyz0123456", &who, why,
					 sizeof(why)),
			 -EACCES);	/* 33 characters: longer than any Linux user name */

	/* a user not listed as a delegate cannot act for anyone */
	strcpy(cfg.control_delegate, "daemon");
	assert_int_equal(s_rights(&cfg, &c, "root", &who), B(READ));
	assert_string_equal(who.user, "nobody");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(right_name(RIGHT_READ), "read");
	assert_string_equal(right_name(RIGHT_MENTOR), "mentor");
	assert_string_equal(right_name(RIGHT_INTAKE), "intake");
	assert_string_equal(right_name(RIGHT_QUALITY), "quality");
	assert_string_equal(right_name(RIGHT_PRIVACY), "privacy");
	assert_string_equal(right_name(RIGHT_ADMIN), "admin");
	assert_string_equal(right_name(RIGHT__N), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_give_rights),
		cmocka_unit_test(test_claims_ignored),
		cmocka_unit_test(test_root_and_self),
		cmocka_unit_test(test_groups_from_nss),
		cmocka_unit_test(test_delegate),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

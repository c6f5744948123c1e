/* rights: the caller's identity and rights on the control socket (design.md
 * §4.9). Group and user names are looked up through NSS on every request, so
 * a change of group membership (or an LDAP group) applies at once, without a
 * reload; only the mapping itself lives in the configuration. */
#include "rights.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "util.h"

static const char *const s_names[RIGHT__N] = {
	[RIGHT_READ] = "read",	     [RIGHT_MENTOR] = "mentor",	  [RIGHT_INTAKE] = "intake",
	[RIGHT_QUALITY] = "quality", [RIGHT_PRIVACY] = "privacy", [RIGHT_ADMIN] = "admin",
};

const char *right_name(enum right r)
{
	return (unsigned)r < RIGHT__N ? s_names[r] : "?";
}

const char *rights_groups(const struct config *cfg, enum right r)
{
	switch (r) {
	case RIGHT_READ:
		return cfg->control_read[0] ? cfg->control_read : cfg->control_group;
	case RIGHT_MENTOR:
		return cfg->control_mentor;
	case RIGHT_INTAKE:
		return cfg->control_intake;
	case RIGHT_QUALITY:
		return cfg->control_quality;
	case RIGHT_PRIVACY:
		return cfg->control_privacy;
	case RIGHT_ADMIN:
		return cfg->control_admin;
	default:
		return "";
	}
}

/* A name the audit log can hold: printable, no space, 1..RIGHTS_USER_MAX. */
static int s_name_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > RIGHTS_USER_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x21 || u[i] == 0x7f)
			return 0;
	return 1;
}

/* Is name one of the space-separated names in list? */
static int s_listed(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; *p;) {
		size_t w = strcspn(p, " ");

		if (w == len && strncmp(p, name, len) == 0)
			return 1;
		p += w;
		p += *p == ' ';
	}
	return 0;
}

static int s_has_gid(const gid_t *g, size_t n, gid_t gid)
{
	for (size_t i = 0; i < n; i++)
		if (g[i] == gid)
			return 1;
	return 0;
}

/* The rights a member of groups g[0..n) holds. */
static unsigned s_rights_of(const struct config *cfg, const gid_t *g, size_t n)
{
	unsigned rights = 0;

	for (int r = 0; r < RIGHT__N; r++) {
		const char *list = rights_groups(cfg, (enum right)r);
		char name[64];

		if (r == RIGHT_READ && !list[0]) {
			/* no control group either: the socket is the daemon's group's */
			if (s_has_gid(g, n, getegid()))
				rights |= RIGHT_BIT(r);
			continue;
		}
		for (const char *p = list; *p;) {
			size_t w = strcspn(p, " ");

			if (w < sizeof(name)) {
				const struct group *gr;

				memcpy(name, p, w);
				name[w] = '\0';
				gr = getgrnam(name);
				if (gr && s_has_gid(g, n, gr->gr_gid)) {
					rights |= RIGHT_BIT(r);
					break;
				}
			}
			p += w;
			p += *p == ' ';
		}
	}
	return rights;
}

/* The groups of user name (primary gid first) from NSS: for a delegated
 * user, and for a caller whose groups the kernel did not give. */
static size_t s_groups_by_name(const char *name, gid_t gid, gid_t *g, size_t cap)
{
	int n = (int)cap;

	if (getgrouplist(name, gid, g, &n) < 0)
		n = (int)cap;	/* truncated: the first cap are filled */
	return n < 0 ? 0 : (size_t)n;
}

int rights_is_delegate(const struct config *cfg, uid_t uid)
{
	const struct passwd *pw = cfg->control_delegate[0] ? getpwuid(uid) : NULL;

	return pw && s_listed(cfg->control_delegate, pw->pw_name);
}

int rights_identify(const struct config *cfg, const struct peer_cred *cred, const char *claimed,
		    struct identity *out, char *why, size_t n)
{
	const struct passwd *pw = getpwuid(cred->uid);
	gid_t g[CRED_MAX_GROUPS + 1];
	size_t ng = 0;

	memset(out, 0, sizeof(*out));
	if (pw && s_name_ok(pw->pw_name))
		str_copy(out->user, sizeof(out->user), pw->pw_name);
	else
		snprintf(out->user, sizeof(out->user), "uid:%lu", (unsigned long)cred->uid);

	if (claimed && claimed[0] && pw && s_listed(cfg->control_delegate, pw->pw_name)) {
		const struct passwd *as;

		/* A delegate acts for the user it authenticated; that user's rights
		 * are those of their groups only, never root's or ours by uid. */
		if (!s_name_ok(claimed)) {
			snprintf(why, n, _("delegate %s named no valid user"), out->user);
			return -EACCES;
		}
		as = getpwnam(claimed);
		if (!as) {
			snprintf(why, n, _("delegate %s acts for '%s', who is not a user on this system"),
				 out->user, claimed);
			return -EACCES;
		}
		str_copy(out->via, sizeof(out->via), out->user);
		str_copy(out->user, sizeof(out->user), claimed);
		ng = s_groups_by_name(as->pw_name, as->pw_gid, g, ARRAY_SIZE(g));
		out->rights = s_rights_of(cfg, g, ng);
		return 0;
	}
	if (cred->uid == 0 || cred->uid == geteuid()) {
		out->rights = RIGHTS_ALL;
		return 0;
	}
	g[ng++] = cred->gid;
	if (cred->groups_known) {
		for (size_t i = 0; i < cred->n_groups && ng < ARRAY_SIZE(g); i++)
			g[ng++] = cred->groups[i];
	} else if (pw) {
		ng = s_groups_by_name(pw->pw_name, cred->gid, g, ARRAY_SIZE(g));
	}
	out->rights = s_rights_of(cfg, g, ng);
	return 0;
}

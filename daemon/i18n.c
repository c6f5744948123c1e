/* i18n: the text domain, its catalogs, and switching the language of
 * messages for one request or one report (design.md §10). */
#include "i18n.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef OVERSTAP_LOCALEDIR
#define OVERSTAP_LOCALEDIR "/usr/share/locale"
#endif

/* glibc's counter of loaded catalogs: gettext caches a translation per
 * message until it changes. The gettext manual ("Being a gettext grok")
 * says to bump it after changing LANGUAGE while running. */
extern int _nl_msg_cat_cntr;

/* The binary's prefix/share/locale: right for `cmake --install --prefix P`
 * and for the Debian package (built with one prefix, installed under /usr)
 * alike, where a path compiled in would be right for only one of them. */
static int s_exe_localedir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;
	char *slash;

	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	for (int up = 0; up < 2; up++) {	/* P/bin/overstap -> P */
		if (!(slash = strrchr(exe, '/')))
			return -ENOENT;
		*slash = '\0';
	}
	if (snprintf(buf, len, "%s/share/locale", exe) >= (int)len)
		return -ENAMETOOLONG;
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOENT;
}

int i18n_init(void)
{
	char dir[PATH_MAX];
	const char *env = getenv(I18N_LOCALEDIR_ENV);

	if (env && *env)
		snprintf(dir, sizeof(dir), "%s", env);
	else if (s_exe_localedir(dir, sizeof(dir)) < 0)
		snprintf(dir, sizeof(dir), "%s", OVERSTAP_LOCALEDIR);
	if (!bindtextdomain(I18N_DOMAIN, dir) || !bind_textdomain_codeset(I18N_DOMAIN, "UTF-8") ||
	    !textdomain(I18N_DOMAIN))
		return errno ? -errno : -ENOMEM;
	return 0;
}

const char *i18n_pgettext(const char *ctx, const char *msgid)
{
	char key[256];	/* ctx EOT msgid: how msgfmt stores a msgctxt */
	const char *t;

	if (snprintf(key, sizeof(key), "%s\004%s", ctx, msgid) >= (int)sizeof(key))
		return msgid;
	t = gettext(key);
	return t == key ? msgid : t;	/* not found: gettext hands back its argument */
}

const char *i18n_lang(void)
{
	/* TRANSLATORS: the two-letter code (ISO 639-1) of the language of this
	 * catalog; the CLI sends it to the daemon to get its answers in it. */
	const char *l = _("en");

	return i18n_lang_valid(l) ? l : "en";
}

int i18n_lang_valid(const char *lang)
{
	size_t n = 0;

	if (!lang)
		return 0;
	for (; lang[n]; n++)
		if (lang[n] < 'a' || lang[n] > 'z')
			return 0;
	return n == 2 || n == 3;
}

static void s_copy(char *dst, size_t len, const char *src, int *ok)
{
	*ok = src && strlen(src) < len;
	if (*ok)
		memcpy(dst, src, strlen(src) + 1);
}

void i18n_begin(struct i18n_saved *saved, const char *lang)
{
	const char *cur;

	memset(saved, 0, sizeof(*saved));
	if (!i18n_lang_valid(lang))
		return;
	saved->active = 1;
	s_copy(saved->language, sizeof(saved->language), getenv("LANGUAGE"), &saved->had_language);
	cur = setlocale(LC_MESSAGES, NULL);
	/* gettext ignores LANGUAGE in the C locale (POSIX fixes its messages);
	 * C.UTF-8 is as neutral for everything else and lets it through. */
	if (cur && (strcmp(cur, "C") == 0 || strcmp(cur, "POSIX") == 0)) {
		s_copy(saved->messages, sizeof(saved->messages), cur, &saved->had_messages);
		if (saved->had_messages && !setlocale(LC_MESSAGES, "C.UTF-8"))
			saved->had_messages = 0;
	}
	setenv("LANGUAGE", lang, 1);
	++_nl_msg_cat_cntr;
}

void i18n_end(struct i18n_saved *saved)
{
	if (!saved->active)
		return;
	if (saved->had_language)
		setenv("LANGUAGE", saved->language, 1);
	else
		unsetenv("LANGUAGE");
	if (saved->had_messages)
		setlocale(LC_MESSAGES, saved->messages);
	++_nl_msg_cat_cntr;
	saved->active = 0;
}

void i18n_request_begin(struct i18n_saved *saved, const char *lang)
{
	/* An older CLI sends no language and prints English itself: answer it
	 * in English, not in whatever the daemon's environment says. */
	i18n_begin(saved, lang && *lang ? lang : "en");
}

void i18n_request_end(struct i18n_saved *saved)
{
	i18n_end(saved);
}

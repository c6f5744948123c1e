/* i18n: gettext for everything a user reads, in the CLI and in the daemon's
 * replies (design.md §10). Log lines stay English and never go through it. */
#ifndef OVERSTAP_I18N_H
#define OVERSTAP_I18N_H

#include <libintl.h>

#define I18N_DOMAIN "overstap"
/* Where the catalogs are, over the one found next to the binary: the build
 * tree's, for the tests (CMake builds build/locale/nl/LC_MESSAGES/overstap.mo). */
#define I18N_LOCALEDIR_ENV "OVERSTAP_LOCALEDIR"

/* _() translates now; N_() only marks a string for xgettext, for tables that
 * are translated where they are used. */
#define _(s) gettext(s)
#define N_(s) (s)
/* NC_(ctx, s) marks s in context ctx (xgettext's msgctxt) as one
 * { ctx, s } entry of a table: a code that means other words in another
 * list ("no" as advice followed is "zelfmelder"). i18n_pgettext translates. */
#define NC_(ctx, s) { ctx, s }

/* Binds the text domain to the catalogs of the installed prefix (the
 * binary's ../share/locale), or $OVERSTAP_LOCALEDIR, and makes every
 * translation UTF-8 whatever LC_CTYPE says: replies are protobuf strings and
 * reports are UTF-8 files. Does not call setlocale: the CLI follows the
 * user's locale, the daemon keeps "C". Returns 0 or -errno. */
int i18n_init(void);

/* The translation of msgid in context ctx, or msgid itself (gettext's
 * pgettext, which glibc's libintl.h does not have). */
const char *i18n_pgettext(const char *ctx, const char *msgid) __attribute__((format_arg(2)));

/* "nl" or "en": the language gettext answers in now, read from the catalog
 * itself so that it agrees with LANGUAGE, LC_ALL, LC_MESSAGES and LANG in
 * gettext's own order of precedence. */
const char *i18n_lang(void);

/* 1 when lang is a language we may put in LANGUAGE: two or three lower-case
 * letters ("nl", "en"), nothing a caller could smuggle a path or a list in. */
int i18n_lang_valid(const char *lang);

/* What i18n_begin changed, for i18n_end to put back. Owned by the caller,
 * so a switch can be nested and nothing lives in a global. */
struct i18n_saved {
	int active;		/* i18n_begin changed something */
	int had_language;	/* LANGUAGE was set */
	char language[64];	/* its value (a longer one is not restored) */
	int had_messages;	/* LC_MESSAGES was switched from C */
	char messages[64];	/* the LC_MESSAGES locale to restore */
};

/* Until i18n_end(saved): gettext answers in lang ("nl", "en"); an empty,
 * NULL or invalid lang changes nothing. Sets LANGUAGE and, when LC_MESSAGES
 * is "C" (where gettext ignores LANGUAGE), switches it to C.UTF-8, which
 * glibc (>= 2.35) has built in: no locale needs generating. */
void i18n_begin(struct i18n_saved *saved, const char *lang);
void i18n_end(struct i18n_saved *saved);

/* The daemon's per-request pair around a control handler (ctl_dispatch): its
 * replies in the language the CLI asked for (Request.lang). */
void i18n_request_begin(struct i18n_saved *saved, const char *lang);
void i18n_request_end(struct i18n_saved *saved);

#endif

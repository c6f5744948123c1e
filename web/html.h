/* html: the pages' frame (head, styles, navigation by right, sign-out) and
 * the small pieces every screen uses. Everything from the daemon or the
 * user is data: html_text escapes it. No script anywhere: the pages work
 * without JavaScript and the Content-Security-Policy allows none. */
#ifndef OVERSTAP_HTML_H
#define OVERSTAP_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "web.h"

/* The CSS every page carries (the reports' styles plus the forms'); built
 * once at start. 0 or -ENOMEM. */
int html_init(void);
void html_fini(void);
/* The page styles' hash for the Content-Security-Policy header. */
const char *html_style_hash(void);

/* Escape s for element content and attribute values alike; NULL is "". */
void html_text(FILE *f, const char *s);
/* Unix ms as "YYYY-MM-DD HH:MM", or "-" for 0. */
void html_time(FILE *f, int64_t ms);

/* Everything up to <main>: head, skip link, navigation for r->s's rights. */
void html_page_open(struct req *r, const char *title);
void html_page_close(struct req *r);

/* A POST form to action with the session's CSRF token; multipart for uploads. */
void html_form_open(struct req *r, const char *action, int multipart);
/* A whole page with a title and one message (status set on r). */
void html_message(struct req *r, int status, const char *title, const char *msg);
/* An error paragraph inside the page (role=alert). */
void html_error(struct req *r, const char *msg);
/* A definition-list row: label, escaped value ("-" when empty). */
void html_dt(FILE *f, const char *label, const char *value);

/* The Dutch (gettext) word for a code: states, events, programs,
 * destinations, reviewers. The code itself when there is none. */
const char *html_code(const char *code);



/* s percent-encoded for a query string. */
void html_url(FILE *f, const char *s);

/* The dossier of a HandoverDetail/InboxDetail as a labelled list, or a
 * sentence saying none is held (erased); an error line when it does not
 * unpack. */
void html_dossier(FILE *f, const ProtobufCBinaryData *bytes);
/* The statuses and outcomes of one record as a table with headers. */
void html_timeline(FILE *f, Overstapctl__EventRow *const *rows, size_t n);
#endif

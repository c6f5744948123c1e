/* web: what overstap-web's modules share: gettext, the rights, the request
 * being served with its reply, and the round trip to overstapd. */
#ifndef OVERSTAP_WEB_H
#define OVERSTAP_WEB_H

#include <libintl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <microhttpd.h>

#include "control.pb-c.h"

/* Our own text domain: the CLI's catalogue (domain overstap) is another's. */
#define WEB_DOMAIN "overstap-web"
#define _(s) dgettext(WEB_DOMAIN, s)
#define N_(s) s

/* The rights of design.md §9, as the daemon names them in whoami. */
enum web_right {
	WR_READ = 1u << 0,
	WR_MENTOR = 1u << 1,
	WR_INTAKE = 1u << 2,
	WR_QUALITY = 1u << 3,
	WR_PRIVACY = 1u << 4,
	WR_ADMIN = 1u << 5,
};
/* "mentor" -> WR_MENTOR; 0 for a name we do not know (ignored, not fatal). */
unsigned web_right_from_str(const char *s);
/* WR_MENTOR -> "mentor". */
const char *web_right_str(unsigned bit);

struct webconf;
struct session;
struct form;

/* One request being served: what a handler reads and the reply it builds. */
struct req {
	struct MHD_Connection *conn;
	const struct webconf *cfg;
	struct session *s;		/* the signed-in user; never NULL in a handler */
	const struct form *form;	/* the POST's fields; NULL for a GET */
	int status;			/* HTTP status of the reply */
	FILE *out;			/* the reply body, into body/len (memstream) */
	char *body;
	size_t len;
	const char *ctype;		/* Content-Type; NULL = text/html; charset=utf-8 */
	char disposition[160];		/* Content-Disposition for downloads, "" = none */
	int page_open;			/* html_page_open ran: errors go inside the page */
	char location[256];		/* Location of a redirect (303), "" = none */
	char set_cookie[200];		/* one more Set-Cookie (the login form's token), "" = none */
};

/* A GET argument (borrowed from the connection), NULL when absent. */
const char *req_arg(const struct req *r, const char *key);
/* A POST field as a NUL-terminated string (borrowed), NULL when absent. */
const char *req_field(const struct req *r, const char *key);
/* An uploaded file: its bytes (borrowed, *len), NULL when absent or empty. */
const char *req_file(const struct req *r, const char *key, size_t *len, const char **filename);

/* Send q to overstapd for the signed-in user (Request.user, design.md §4.9:
 * the daemon takes it from a delegate) and wait for the reply. On success
 * returns 0 with *out owned by the caller. When the daemon cannot be reached
 * or refuses, writes a message into the page (r->status set: 502, 403 or
 * 422) and returns a negative code; *out is still set when the reply carries
 * the body asked for (per-item reasons), else NULL. */
int req_ctl(struct req *r, Overstapctl__Request *q, Overstapctl__Reply__BodyCase want,
	    Overstapctl__Reply **out);

#endif

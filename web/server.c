/* server: libmicrohttpd glue, sign-in, sessions, CSRF, rights, routing. */
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth_pam.h"
#include "ctl.h"
#include "html.h"
#include "pages.h"
#include "session.h"
#include "webconf.h"

#define S_COOKIE "ovs"
#define S_LOGIN_COOKIE "ovl"	/* the login form's token, before there is a session */
#define S_MAX_PASSWORD 1024
#define S_MAX_FIELDS 64
#define S_MAX_FIELD (64 * 1024)	/* a text field; files up to [web] max_upload */

struct server {
	const struct webconf *cfg;
	struct sessions *sessions;
	struct MHD_Daemon *mhd;
	char csp[256];		/* the Content-Security-Policy of every page */
};

struct field {
	char *key;
	char *val;		/* NUL-terminated; a file's bytes may hold NULs, len counts them */
	size_t len;
	char *filename;		/* an upload's name, NULL for a text field */
};

struct form {
	struct field v[S_MAX_FIELDS];
	size_t n;
};

/* One request while its body arrives. */
struct conn {
	struct MHD_PostProcessor *pp;
	struct form form;
	uint64_t total;		/* body bytes seen */
	int too_big;		/* over [web] max_upload, or a field over its cap */
	int bad;		/* not a form body, or it did not parse */
	const struct webconf *cfg;
};

/* ---- rights ---- */

static const char *const s_rights[] = { "read", "mentor", "intake", "quality", "privacy", "admin" };

unsigned web_right_from_str(const char *s)
{
	for (unsigned i = 0; i < sizeof(s_rights) / sizeof(s_rights[0]); i++)
		if (!strcmp(s_rights[i], s))
			return 1u << i;
	return 0;
}

const char *web_right_str(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(s_rights) / sizeof(s_rights[0]); i++)
		if (bit == 1u << i)
			return s_rights[i];
	return "?";
}

/* ---- the form body ---- */

static struct field *s_field_for(struct conn *cn, const char *key, const char *filename, uint64_t off)
{
	struct form *f = &cn->form;

	/* the post processor hands a long value over in pieces, at growing offsets */
	if (off > 0 && f->n && !strcmp(f->v[f->n - 1].key, key))
		return &f->v[f->n - 1];
	if (f->n == S_MAX_FIELDS)
		return NULL;
	struct field *fl = &f->v[f->n];

	fl->key = strdup(key);
	fl->filename = filename ? strdup(filename) : NULL;
	fl->val = calloc(1, 1);
	if (!fl->key || !fl->val || (filename && !fl->filename)) {
		free(fl->key);
		free(fl->filename);
		free(fl->val);
		memset(fl, 0, sizeof(*fl));
		return NULL;
	}
	f->n++;
	return fl;
}

static enum MHD_Result s_iter(void *cls, enum MHD_ValueKind kind, const char *key,
			      const char *filename, const char *content_type,
			      const char *transfer_encoding, const char *data, uint64_t off,
			      size_t size)
{
	struct conn *cn = cls;
	struct field *fl;
	size_t cap;
	char *nv;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (!key)
		return MHD_YES;
	fl = s_field_for(cn, key, filename, off);
	if (!fl) {
		cn->bad = 1;
		return MHD_NO;
	}
	cap = fl->filename ? cn->cfg->max_upload : S_MAX_FIELD;
	if (size > cap - fl->len) {
		cn->too_big = 1;
		return MHD_NO;
	}
	if (!size)
		return MHD_YES;
	nv = realloc(fl->val, fl->len + size + 1);
	if (!nv) {
		cn->bad = 1;
		return MHD_NO;
	}
	memcpy(nv + fl->len, data, size);
	fl->len += size;
	nv[fl->len] = '\0';
	fl->val = nv;
	return MHD_YES;
}

static void s_conn_free(struct conn *cn)
{
	if (!cn)
		return;
	if (cn->pp)
		MHD_destroy_post_processor(cn->pp);
	for (size_t i = 0; i < cn->form.n; i++) {
		free(cn->form.v[i].key);
		free(cn->form.v[i].val);
		free(cn->form.v[i].filename);
	}
	free(cn);
}

static const struct field *s_form_find(const struct form *f, const char *key)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].key, key))
			return &f->v[i];
	return NULL;
}

const char *req_field(const struct req *r, const char *key)
{
	const struct field *fl = s_form_find(r->form, key);

	if (!fl || fl->filename)
		return NULL;
	/* a NUL inside a text field is not text: treat the field as absent */
	return strlen(fl->val) == fl->len ? fl->val : NULL;
}

const char *req_file(const struct req *r, const char *key, size_t *len, const char **filename)
{
	const struct field *fl = s_form_find(r->form, key);

	if (!fl || !fl->len)
		return NULL;
	*len = fl->len;
	if (filename)
		*filename = fl->filename ? fl->filename : "upload.csv";
	return fl->val;
}

const char *req_arg(const struct req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* ---- the daemon ---- */

static int s_roundtrip(const struct webconf *cfg, const char *user, Overstapctl__Request *q,
		       Overstapctl__Reply **out)
{
	q->version = OVERSTAPCTL__VERSION__CURRENT;
	q->user = (char *)user;
	q->lang = (char *)cfg->lang;
	return ctl_roundtrip(cfg->socket, (int)cfg->timeout_ms, q, out);
}

/* The message for a failed round trip (not a refusal: the daemon's absence). */
static void s_unreachable(struct req *r, int code)
{
	char msg[512];

	snprintf(msg, sizeof(msg), _("overstapd cannot be reached at %s: %s. Ask the application "
				     "administrator to check that it runs."),
		 r->cfg->socket, strerror(-code));
	r->status = MHD_HTTP_BAD_GATEWAY;
	if (r->page_open)
		html_error(r, msg);
	else
		html_message(r, r->status, _("The service is unavailable"), msg);
}

int req_ctl(struct req *r, Overstapctl__Request *q, Overstapctl__Reply__BodyCase want,
	    Overstapctl__Reply **out)
{
	Overstapctl__Reply *rep = NULL;
	int code = s_roundtrip(r->cfg, r->s->user, q, &rep);

	*out = NULL;
	q->user = NULL;
	q->lang = NULL;
	if (code < 0) {
		s_unreachable(r, code);
		return code;
	}
	if (rep->code == 0 && rep->body_case == want) {
		*out = rep;
		return 0;
	}
	code = rep->code ? rep->code : -EBADMSG;
	r->status = code == -EACCES || code == -EPERM ? MHD_HTTP_FORBIDDEN
						     : MHD_HTTP_UNPROCESSABLE_CONTENT;
	{
		char msg[1024];

		snprintf(msg, sizeof(msg), _("overstapd refused: %s"),
			 rep->error && *rep->error ? rep->error : strerror(-code));
		if (r->page_open)
			html_error(r, msg);
		else
			html_message(r, r->status, _("Refused"), msg);
	}
	if (rep->body_case == want)
		*out = rep;
	else
		overstapctl__reply__free_unpacked(rep, NULL);
	return code;
}

/* ---- signing in ---- */

/* As the daemon checks Request.user (design.md §4.9): 1-64 printable
 * non-space bytes. A header that is not that is refused, not trimmed. */
static int s_user_ok(const char *u)
{
	size_t n = u ? strlen(u) : 0;

	if (n < 1 || n > SESSION_USER_MAX)
		return 0;
	for (; *u; u++)
		if (!isgraph((unsigned char)*u))
			return 0;
	return 1;
}

/* Ask the daemon who user is to it and what they may do (whoami), then open
 * a session. The daemon, not this program, decides the rights: from the
 * user's Unix groups, because it trusts this program as a delegate. On
 * failure the page says why and *out is NULL. */
static int s_sign_in(struct server *srv, struct req *r, const char *user, struct session *out)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Empty e = OVERSTAPCTL__EMPTY__INIT;
	Overstapctl__Reply *rep = NULL;
	unsigned rights = 0;
	char msg[1024];
	int code, ok = 0;

	q.body_case = OVERSTAPCTL__REQUEST__BODY_WHOAMI;
	q.whoami = &e;
	code = s_roundtrip(r->cfg, user, &q, &rep);
	if (code < 0) {
		s_unreachable(r, code);
		return 0;
	}
	if (rep->code != 0 || rep->body_case != OVERSTAPCTL__REPLY__BODY_WHOAMI) {
		snprintf(msg, sizeof(msg), _("overstapd cannot tell what you may do: %s"),
			 rep->error && *rep->error ? rep->error : _("it sent no answer to whoami"));
		html_message(r, MHD_HTTP_SERVICE_UNAVAILABLE, _("Cannot sign you in"), msg);
		goto out;
	}
	/* Not a delegate: the daemon took us for our own Unix user, and every
	 * web user would act under that name. Refuse rather than blur the audit. */
	if (!rep->whoami->user || strcmp(rep->whoami->user, user) != 0) {
		snprintf(msg, sizeof(msg),
			 _("overstapd does not let this program act for you (it took the request "
			   "for user %s): the program's user must be named in [control] delegate."),
			 rep->whoami->user ? rep->whoami->user : "?");
		html_message(r, MHD_HTTP_SERVICE_UNAVAILABLE, _("Cannot sign you in"), msg);
		goto out;
	}
	for (size_t i = 0; i < rep->whoami->n_rights; i++)
		rights |= web_right_from_str(rep->whoami->rights[i]);
	if (!rights) {
		html_message(r, MHD_HTTP_FORBIDDEN, _("No access"),
			     _("You are signed in, but none of your groups gives a right in overstap. "
			       "Ask the application administrator for the group of your role."));
		goto out;
	}
	code = sessions_create(srv->sessions, user, rights, out);
	if (code < 0) {
		html_message(r, MHD_HTTP_SERVICE_UNAVAILABLE, _("Cannot sign you in"),
			     code == -ENOSPC ? _("Too many people are signed in; try again later.")
					     : _("No random numbers for a session."));
		goto out;
	}
	fprintf(stderr, "<6>overstap-web: %s signed in (rights 0x%x)\n", user, rights);
	ok = 1;
out:
	overstapctl__reply__free_unpacked(rep, NULL);
	return ok;
}

/* The session of this request: its cookie, or a sign-in by the proxy's
 * header, copied into buf. NULL with the page written when there is none.
 * *fresh is set when a new session was opened (its cookie goes out with the
 * reply). */
static struct session *s_session(struct server *srv, struct req *r, int *fresh,
				 struct session *buf)
{
	const struct webconf *cfg = srv->cfg;
	const char *id = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, S_COOKIE);
	struct session *s = sessions_find(srv->sessions, id, buf) ? buf : NULL;
	const char *hdr = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, cfg->proxy_header);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci ? ci->client_addr : NULL;

	*fresh = 0;
	if (cfg->auth == WEBCONF_AUTH_PROXY && hdr) {
		if (!webconf_is_proxy(cfg, peer)) {
			/* Anyone can write this header: only the proxy's is believed. */
			char a[INET6_ADDRSTRLEN] = "?";

			if (peer && peer->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)peer)->sin_addr, a, sizeof(a));
			else if (peer && peer->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr, a, sizeof(a));
			fprintf(stderr, "<4>overstap-web: ignoring %s from %s: not the proxy\n",
				cfg->proxy_header, a);
		} else if (!s_user_ok(hdr)) {
			html_message(r, MHD_HTTP_BAD_REQUEST, _("Cannot sign you in"),
				     _("The sign-on proxy sent a user name overstap cannot use."));
			return NULL;
		} else if (!s || strcmp(s->user, hdr) != 0) {
			/* another user behind the same browser: never carry a session over */
			if (s)
				sessions_end(srv->sessions, s->id);
			*fresh = s_sign_in(srv, r, hdr, buf);
			return *fresh ? buf : NULL;
		}
	}
	if (s)
		return s;
	if (cfg->auth == WEBCONF_AUTH_PROXY) {
		html_message(r, MHD_HTTP_UNAUTHORIZED, _("Not signed in"),
			     id ? _("Your session has ended. Open the page again through the "
				    "institution's portal to sign in.")
				: _("Open this page through the institution's portal to sign in."));
		return NULL;
	}
	/* the login form; a request with a dead cookie is told why */
	snprintf(r->location, sizeof(r->location), "/login");
	html_message(r, MHD_HTTP_SEE_OTHER, _("Not signed in"),
		     id ? _("Your session has ended: sign in again.") : _("Sign in first."));
	return NULL;
}

/* ---- the login form ([web] auth = pam) ---- */

static void s_login_form(struct req *r, const char *error)
{
	char tok[SESSION_TOKEN_LEN + 1];
	FILE *f = r->out;

	/* Login CSRF: the token rides in a cookie and in the form (double
	 * submit), so another site cannot sign a browser in as someone else. */
	if (session_token(tok) < 0) {
		html_message(r, MHD_HTTP_SERVICE_UNAVAILABLE, _("Cannot sign you in"),
			     _("No random numbers for a session."));
		return;
	}
	snprintf(r->set_cookie, sizeof(r->set_cookie),
		 S_LOGIN_COOKIE "=%s; Path=/login; HttpOnly; SameSite=Strict%s", tok,
		 r->cfg->secure_cookies ? "; Secure" : "");
	html_page_open(r, _("Sign in"));
	if (error)
		html_error(r, error);
	fprintf(f, "<form method=\"post\" action=\"/login\">\n"
		   "<input type=\"hidden\" name=\"login\" value=\"%s\">\n"
		   "<label for=\"user\">%s</label>\n<input id=\"user\" name=\"user\" "
		   "autocomplete=\"username\" required>\n<label for=\"password\">%s</label>\n"
		   "<input id=\"password\" name=\"password\" type=\"password\" "
		   "autocomplete=\"current-password\" required>\n<br><button type=\"submit\">%s</button>\n"
		   "</form>\n", tok, _("User name"), _("Password"), _("Sign in"));
	html_page_close(r);
}

static void s_login(struct server *srv, struct req *r, struct conn *cn, const char *method,
		    int *fresh, struct session *buf)
{
	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, S_LOGIN_COOKIE);
	const char *tok = req_field(r, "login"), *user = req_field(r, "user");
	char *password = (char *)req_field(r, "password");
	char why[256];
	int rc;

	if (strcmp(method, "POST") != 0) {
		s_login_form(r, NULL);
		return;
	}
	if (cn->bad || !cookie || !tok || strlen(tok) != SESSION_TOKEN_LEN ||
	    strlen(cookie) != SESSION_TOKEN_LEN || CRYPTO_memcmp(cookie, tok, SESSION_TOKEN_LEN)) {
		r->status = MHD_HTTP_FORBIDDEN;
		s_login_form(r, _("This form is no longer valid or did not come from this site. "
				  "Open the page again and repeat what you did."));
		return;
	}
	if (!s_user_ok(user) || !password || !*password || strlen(password) > S_MAX_PASSWORD) {
		r->status = MHD_HTTP_UNAUTHORIZED;
		s_login_form(r, _("The user name or the password is wrong."));
		goto out;
	}
	rc = auth_pam_check(r->cfg->pam_service, user, password, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "<5>overstap-web: sign-in of %s refused by PAM: %s\n", user, why);
		r->status = rc == -EACCES ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_SERVICE_UNAVAILABLE;
		s_login_form(r, _("The user name or the password is wrong."));
		goto out;
	}
	if (s_sign_in(srv, r, user, buf)) {
		r->s = buf;
		*fresh = 1;
		r->status = MHD_HTTP_SEE_OTHER;
		snprintf(r->location, sizeof(r->location), "/");
		snprintf(r->set_cookie, sizeof(r->set_cookie),
			 S_LOGIN_COOKIE "=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0");
	}
out:
	if (password)	/* the form's copy: not left in the heap */
		OPENSSL_cleanse(password, strlen(password));
}

/* ---- routing ---- */

static void s_logout(struct req *r);

static const struct route {
	const char *method;
	const char *path;
	unsigned right;		/* any of these WR_* bits (as the daemon's command table,
				 * daemon/control.c); 0 = any signed-in user */
	page_fn *fn;
} s_routes[] = {
	{ "GET", "/", 0, page_home },
	{ "GET", "/leavers", WR_MENTOR | WR_ADMIN, page_leavers },
	{ "GET", "/pupil", WR_MENTOR, page_pupil },
	{ "POST", "/inzage", WR_MENTOR, page_inzage },
	{ "POST", "/registered", WR_MENTOR, page_registered },
	{ "POST", "/send", WR_MENTOR, page_send },
	{ "GET", "/lost", WR_MENTOR | WR_QUALITY, page_lost },
	{ "GET", "/inbox", WR_INTAKE, page_inbox },
	{ "GET", "/find", WR_INTAKE, page_find },
	{ "GET", "/dossier", WR_INTAKE, page_dossier },
	{ "POST", "/status", WR_INTAKE, page_status_set },
	{ "GET", "/outcomes", WR_INTAKE, page_outcomes },
	{ "POST", "/outcomes", WR_INTAKE, page_outcomes_post },
	{ "GET", "/report", WR_QUALITY, page_report },
	{ "GET", "/report/download", WR_QUALITY, page_report_download },
	{ "GET", "/subject", WR_PRIVACY, page_subject },
	{ "POST", "/erase", WR_PRIVACY, page_erase },
	{ "GET", "/audit", WR_PRIVACY | WR_ADMIN, page_audit },
	{ "POST", "/audit", WR_PRIVACY | WR_ADMIN, page_audit },
	{ "GET", "/import", WR_ADMIN, page_import },
	{ "POST", "/import", WR_ADMIN, page_import_post },
	{ "GET", "/consents", WR_ADMIN | WR_MENTOR | WR_PRIVACY, page_consents },
	{ "GET", "/admin", WR_ADMIN | WR_READ, page_admin },
	{ "POST", "/logout", 0, s_logout },
};

static void s_logout(struct req *r)
{
	(void)r;	/* done in s_route: it owns the session table */
}

static void s_forbidden(struct req *r, unsigned right)
{
	char msg[512], names[96] = "";

	/* the rights that would do, "mentor/admin" */
	for (unsigned b = 1; b <= WR_ADMIN; b <<= 1)
		if (right & b)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 names[0] ? "/" : "", web_right_str(b));
	snprintf(msg, sizeof(msg),
		 _("This screen needs the right '%s', which your groups do not give. Ask the "
		   "application administrator for the group of that role."),
		 names);
	html_message(r, MHD_HTTP_FORBIDDEN, _("Not allowed"), msg);
}

static const struct route *s_find(const char *method, const char *path, int *wrong_method)
{
	*wrong_method = 0;
	for (size_t i = 0; i < sizeof(s_routes) / sizeof(s_routes[0]); i++) {
		if (strcmp(s_routes[i].path, path) != 0)
			continue;
		if (!strcmp(s_routes[i].method, method))
			return &s_routes[i];
		*wrong_method = 1;
	}
	return NULL;
}

/* Everything between the body's arrival and the reply: who, may they, what. */
static void s_route(struct server *srv, struct req *r, struct conn *cn, const char *method,
		    const char *url, int *fresh, struct session *buf)
{
	const struct route *rt;
	int wrong_method;

	if (cn->too_big) {
		html_message(r, MHD_HTTP_CONTENT_TOO_LARGE, _("Too large"),
			     _("The file or form is larger than this service accepts."));
		return;
	}
	if (srv->cfg->auth == WEBCONF_AUTH_PAM && !strcmp(url, "/login")) {
		s_login(srv, r, cn, method, fresh, buf);
		return;
	}
	r->s = s_session(srv, r, fresh, buf);
	if (!r->s)
		return;
	rt = s_find(method, url, &wrong_method);
	if (!rt) {
		if (wrong_method)
			html_message(r, MHD_HTTP_METHOD_NOT_ALLOWED, _("Not allowed"),
				     _("This address does not take that kind of request."));
		else
			html_message(r, MHD_HTTP_NOT_FOUND, _("Not found"),
				     _("There is no page at this address."));
		return;
	}
	if (!strcmp(method, "POST")) {
		/* SameSite=Strict keeps other sites' forms from carrying the cookie;
		 * the token keeps anything else out too. */
		if (cn->bad || !session_csrf_ok(r->s, req_field(r, "csrf"))) {
			fprintf(stderr, "<4>overstap-web: %s: POST %s refused: no valid form token\n",
				r->s->user, url);
			html_message(r, MHD_HTTP_FORBIDDEN, _("Form refused"),
				     _("This form is no longer valid or did not come from this site. "
				       "Open the page again and repeat what you did."));
			return;
		}
		/* the daemon audits what it changes under the same user name */
		fprintf(stderr, "<6>overstap-web: %s: POST %s\n", r->s->user, url);
	}
	if (rt->right && !(r->s->rights & rt->right)) {
		s_forbidden(r, rt->right);
		return;
	}
	if (rt->fn == s_logout) {
		sessions_end(srv->sessions, r->s->id);
		r->s = NULL;
		*fresh = -1;
		html_message(r, MHD_HTTP_OK, _("Signed out"), _("You are signed out."));
		return;
	}
	rt->fn(r);
}

/* ---- replies ---- */

static enum MHD_Result s_small(struct MHD_Connection *c, unsigned status, const char *text);

static enum MHD_Result s_reply(struct server *srv, struct MHD_Connection *c, struct req *r,
			       int fresh, const char *sid)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char cookie[256];

	/* a handler that lost its stream (out of memory) answers 500 */
	if (!r->out || fclose(r->out) != 0 || !r->body) {
		free(r->body);
		r->out = NULL;
		r->body = NULL;
		return s_small(c, MHD_HTTP_INTERNAL_SERVER_ERROR, _("Out of memory."));
	}
	r->out = NULL;
	resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(r->body);
		return MHD_NO;
	}
	r->body = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->ctype ? r->ctype : "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", srv->csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->disposition[0])
		MHD_add_response_header(resp, "Content-Disposition", r->disposition);
	if (r->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->set_cookie[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
	if (fresh) {
		snprintf(cookie, sizeof(cookie), S_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
			 fresh > 0 ? sid : "", fresh < 0 ? "; Max-Age=0" : "",
			 srv->cfg->secure_cookies ? "; Secure" : "");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	}
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result s_serve(struct server *srv, struct MHD_Connection *c, const char *url,
			       const char *method, struct conn *cn)
{
	struct req r = { .conn = c, .cfg = srv->cfg, .status = MHD_HTTP_OK };
	struct session sess;	/* this request's copy of its session (session.h) */
	char sid[SESSION_TOKEN_LEN + 1] = "";
	enum MHD_Result ret;
	int fresh = 0;

	if (!strcmp(method, "POST"))
		r.form = &cn->form;
	r.out = open_memstream(&r.body, &r.len);
	if (!r.out)
		return MHD_NO;
	memset(&sess, 0, sizeof(sess));
	s_route(srv, &r, cn, method, url, &fresh, &sess);
	if (fresh > 0 && r.s)
		memcpy(sid, r.s->id, sizeof(sid));
	ret = s_reply(srv, c, &r, fresh, sid);
	OPENSSL_cleanse(&sess, sizeof(sess));	/* the id is a bearer secret */
	OPENSSL_cleanse(sid, sizeof(sid));
	return ret;
}

static enum MHD_Result s_small(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *c, const char *url,
				const char *method, const char *version, const char *upload,
				size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct conn *cn = *con_cls;

	(void)version;
	if (!cn) {
		const char *cl;

		if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
			return s_small(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
		cn = calloc(1, sizeof(*cn));
		if (!cn)
			return MHD_NO;
		cn->cfg = srv->cfg;
		*con_cls = cn;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		/* refused before a byte of it is read: a peer never decides how much we hold */
		if (cl && strtoull(cl, NULL, 10) > srv->cfg->max_upload)
			return s_small(c, MHD_HTTP_CONTENT_TOO_LARGE,
				       _("The file or form is larger than this service accepts."));
		if (!strcmp(method, "POST")) {
			cn->pp = MHD_create_post_processor(c, 16 * 1024, s_iter, cn);
			if (!cn->pp)
				cn->bad = 1;	/* neither urlencoded nor multipart */
		}
		return MHD_YES;
	}
	if (*upload_size) {
		cn->total += *upload_size;
		if (cn->total > srv->cfg->max_upload)
			cn->too_big = 1;
		else if (cn->pp && !cn->bad && !cn->too_big &&
			 MHD_post_process(cn->pp, upload, *upload_size) != MHD_YES && !cn->too_big)
			cn->bad = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	return s_serve(srv, c, url, method, cn);
}

static void s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	s_conn_free(*con_cls);
	*con_cls = NULL;
}

int server_start(const struct webconf *c, struct server **out)
{
	struct server *srv = calloc(1, sizeof(*srv));

	*out = NULL;
	if (!srv)
		return -ENOMEM;
	srv->cfg = c;
	srv->sessions = sessions_new(c->max_sessions, c->session_idle_s, c->session_max_s);
	if (!srv->sessions) {
		free(srv);
		return -ENOMEM;
	}
	/* No script, no images, no fetches; only our one stylesheet; forms
	 * only to ourselves; never in a frame. */
	snprintf(srv->csp, sizeof(srv->csp),
		 "default-src 'none'; style-src '%s'; form-action 'self'; "
		 "frame-ancestors 'none'; base-uri 'none'", html_style_hash());
	/* A small pool of threads, each polling its share of the connections
	 * and running their handlers: one slow sign-in (PAM's delay after a
	 * wrong password) or one large report must not stall every other
	 * member of staff. overstapd answers one request at a time, but a
	 * handler spends much of its time elsewhere: PAM, rendering, the
	 * network. Shared state is the session table (locked) and the
	 * configuration (read-only). */
	srv->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
				    0, NULL, NULL, s_access, srv,
				    MHD_OPTION_THREAD_POOL_SIZE, c->threads,
				    MHD_OPTION_SOCK_ADDR, &c->listen_sa,
				    MHD_OPTION_NOTIFY_COMPLETED, s_completed, srv,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64,
				    MHD_OPTION_END);
	if (!srv->mhd) {
		fprintf(stderr, "<3>overstap-web: cannot listen on %s: %s\n", c->listen, strerror(errno));
		sessions_free(&srv->sessions);
		free(srv);
		return -EADDRNOTAVAIL;
	}
	*out = srv;
	return 0;
}

uint16_t server_port(const struct server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : 0;
}

void server_stop(struct server **s)
{
	if (!s || !*s)
		return;
	if ((*s)->mhd)
		MHD_stop_daemon((*s)->mhd);
	sessions_free(&(*s)->sessions);
	free(*s);
	*s = NULL;
}

/* webconf: overstap-web's own configuration, /etc/overstap/web.conf (libinih),
 * kept apart from overstapd.conf: the web page never holds keys and needs none
 * of the daemon's settings but the control socket's path. */
#ifndef OVERSTAP_WEBCONF_H
#define OVERSTAP_WEBCONF_H

#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define WEBCONF_DEFAULT "/etc/overstap/web.conf"

enum webconf_auth { WEBCONF_AUTH_PROXY, WEBCONF_AUTH_PAM };

struct webconf {
	char listen[128];		/* "ADDRESS:PORT" as written; port 0 = any free port */
	struct sockaddr_storage listen_sa;	/* parsed from listen */
	socklen_t listen_len;
	char socket[PATH_MAX];		/* overstapd's control socket */
	enum webconf_auth auth;		/* who signs users in: the SSO proxy, or PAM */
	char proxy_address[64];		/* the only address whose user header is believed */
	struct sockaddr_storage proxy_sa;
	char proxy_header[64];		/* e.g. X-Remote-User */
	char pam_service[64];		/* /etc/pam.d/NAME for the login form */
	unsigned session_idle_s;	/* a session unused this long is gone */
	unsigned session_max_s;		/* and any session after this long */
	unsigned max_sessions;		/* a full table refuses new sign-ins, never evicts */
	unsigned threads;		/* HTTP worker threads (server.c) */
	int secure_cookies;		/* Secure on the cookie: the front end speaks TLS */
	unsigned max_upload;		/* bytes of one request body */
	unsigned timeout_ms;		/* one control-socket round trip */
	char lang[16];			/* the pages' language (gettext LANGUAGE) */
};

/* Load path into *c (defaults first). Every problem is appended to errbuf as
 * "FILE:LINE: message\n" (at most errlen bytes). 0, -EINVAL on a bad value or
 * key, or -errno when the file cannot be read. */
int webconf_load(const char *path, struct webconf *c, char *errbuf, size_t errlen);

/* True when sa (a connection's peer) is the configured proxy address. */
int webconf_is_proxy(const struct webconf *c, const struct sockaddr *sa);

#endif

/* webconf: read and check web.conf with libinih; every problem as FILE:LINE. */
#include "webconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

enum s_type { S_STR, S_UINT, S_BOOL, S_AUTH };

/* The keys of [web], with their ranges: a table, not an if-chain. */
struct s_key {
	const char *name;
	enum s_type type;
	size_t off;
	size_t size;		/* S_STR: buffer size */
	unsigned min, max;	/* S_UINT */
};

#define S_STRKEY(n, f) { n, S_STR, offsetof(struct webconf, f), sizeof(((struct webconf *)0)->f), 0, 0 }
#define S_UINTKEY(n, f, lo, hi) { n, S_UINT, offsetof(struct webconf, f), 0, lo, hi }

static const struct s_key s_keys[] = {
	S_STRKEY("listen", listen),
	S_STRKEY("socket", socket),
	{ "auth", S_AUTH, offsetof(struct webconf, auth), 0, 0, 0 },
	S_STRKEY("proxy_address", proxy_address),
	S_STRKEY("proxy_header", proxy_header),
	S_STRKEY("pam_service", pam_service),
	S_UINTKEY("session_idle", session_idle_s, 1, 86400),
	S_UINTKEY("session_max", session_max_s, 60, 7 * 86400),
	S_UINTKEY("max_sessions", max_sessions, 1, 100000),
	S_UINTKEY("threads", threads, 1, 16),
	{ "secure_cookies", S_BOOL, offsetof(struct webconf, secure_cookies), 0, 0, 0 },
	S_UINTKEY("max_upload", max_upload, 1024, 512u * 1024 * 1024),
	S_UINTKEY("timeout", timeout_ms, 1, 3600),	/* seconds here, ms inside */
	S_STRKEY("lang", lang),
};

struct s_parse {
	const char *path;
	FILE *f;
	unsigned line;
	struct webconf *c;
	char *err;
	size_t errlen;
	int bad;
};

static void s_err(struct s_parse *p, const char *what, const char *name)
{
	size_t used = strlen(p->err);

	p->bad = 1;
	if (used >= p->errlen)
		return;
	if (p->line)
		snprintf(p->err + used, p->errlen - used, "%s:%u: %s: %s\n", p->path, p->line, name, what);
	else	/* a check of the whole file, after parsing */
		snprintf(p->err + used, p->errlen - used, "%s: %s: %s\n", p->path, name, what);
}

static void s_set(struct s_parse *p, const struct s_key *k, const char *value)
{
	char *field = (char *)p->c + k->off;
	char *end;
	unsigned long v;

	switch (k->type) {
	case S_STR:
		if (strlen(value) >= k->size) {
			s_err(p, "value too long", k->name);
			return;
		}
		memcpy(field, value, strlen(value) + 1);
		return;
	case S_UINT:
		errno = 0;
		v = strtoul(value, &end, 10);
		if (!*value || *end || errno || v < k->min || v > k->max) {
			char what[96];

			snprintf(what, sizeof(what), "must be a number from %u to %u", k->min, k->max);
			s_err(p, what, k->name);
			return;
		}
		*(unsigned *)(void *)field = (unsigned)v;
		return;
	case S_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
			*(int *)(void *)field = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			*(int *)(void *)field = 0;
		else
			s_err(p, "must be yes or no", k->name);
		return;
	case S_AUTH:
		if (!strcmp(value, "proxy"))
			p->c->auth = WEBCONF_AUTH_PROXY;
		else if (!strcmp(value, "pam"))
			p->c->auth = WEBCONF_AUTH_PAM;
		else
			s_err(p, "must be proxy or pam", k->name);
		return;
	}
	return;
}

static int s_handler(void *user, const char *section, const char *name, const char *value)
{
	struct s_parse *p = user;

	if (strcmp(section, "web") != 0) {
		s_err(p, "unknown section (only [web])", section);
		return 1;
	}
	for (size_t i = 0; i < sizeof(s_keys) / sizeof(s_keys[0]); i++)
		if (!strcmp(s_keys[i].name, name))
			{
			s_set(p, &s_keys[i], value);
			return 1;
		}
	s_err(p, "unknown key", name);
	return 1;	/* go on: report every problem at once */
}

/* inih reads line by line through this, so the count is the handler's line. */
static char *s_reader(char *buf, int n, void *stream)
{
	struct s_parse *p = stream;
	char *r = fgets(buf, n, p->f);

	if (r)
		p->line++;
	return r;
}

/* "1.2.3.4:80" or "[::1]:80" into sa. 0 or -EINVAL. */
static int s_addr_port(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;
	size_t hl;

	if (!colon)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		return -EINVAL;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*len = sizeof(*s4);
	return 0;
}

static int s_addr(const char *s, struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		sa->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		sa->ss_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static void s_defaults(struct webconf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8080");
	snprintf(c->socket, sizeof(c->socket), "/run/overstap/control.sock");
	c->auth = WEBCONF_AUTH_PROXY;
	snprintf(c->proxy_address, sizeof(c->proxy_address), "127.0.0.1");
	snprintf(c->proxy_header, sizeof(c->proxy_header), "X-Remote-User");
	snprintf(c->pam_service, sizeof(c->pam_service), "overstap-web");
	c->session_idle_s = 900;
	c->session_max_s = 12 * 3600;
	c->max_sessions = 1000;
	c->threads = 4;
	c->secure_cookies = 1;
	c->max_upload = 64u * 1024 * 1024;
	c->timeout_ms = 30;
	snprintf(c->lang, sizeof(c->lang), "nl");
}

int webconf_load(const char *path, struct webconf *c, char *errbuf, size_t errlen)
{
	struct s_parse p = { .path = path, .c = c, .err = errbuf, .errlen = errlen };
	int r;

	errbuf[0] = '\0';
	s_defaults(c);
	p.f = fopen(path, "re");
	if (!p.f) {
		r = -errno;
		snprintf(errbuf, errlen, "%s: %s\n", path, strerror(-r));
		return r;
	}
	r = ini_parse_stream(s_reader, &p, s_handler, &p);
	fclose(p.f);
	if (r > 0) {
		p.line = (unsigned)r;
		s_err(&p, "not a section, key = value, or comment", "syntax");
	}
	p.line = 0;
	if (s_addr_port(c->listen, &c->listen_sa, &c->listen_len) < 0)
		s_err(&p, "must be ADDRESS:PORT (IPv6 in brackets)", "listen");
	if (s_addr(c->proxy_address, &c->proxy_sa) < 0)
		s_err(&p, "must be an IPv4 or IPv6 address", "proxy_address");
	if (!c->socket[0] || c->socket[0] != '/')
		s_err(&p, "must be an absolute path", "socket");
	if (!c->proxy_header[0] || strpbrk(c->proxy_header, " :\t"))
		s_err(&p, "must be a header name", "proxy_header");
	c->timeout_ms *= 1000;
	return p.bad ? -EINVAL : 0;
}

int webconf_is_proxy(const struct webconf *c, const struct sockaddr *sa)
{
	if (!sa || sa->sa_family != c->proxy_sa.ss_family)
		return 0;
	if (sa->sa_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			       &((const struct sockaddr_in *)&c->proxy_sa)->sin_addr, sizeof(struct in_addr));
	if (sa->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			       &((const struct sockaddr_in6 *)&c->proxy_sa)->sin6_addr,
			       sizeof(struct in6_addr));
	return 0;
}

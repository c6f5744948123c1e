/* session: the signed-in users of overstap-web. Ids and CSRF tokens are 256
 * random bits each (OpenSSL RAND_bytes), compared in constant time; a session
 * ends after [web] session_idle seconds unused, or session_max in all. One
 * fixed table shared by the HTTP worker threads (server.c): each call holds
 * the table's lock, and callers get copies, never a pointer into the table
 * that another thread could end or reuse under them. */
#ifndef OVERSTAP_SESSION_H
#define OVERSTAP_SESSION_H

#include <time.h>

#define SESSION_TOKEN_LEN 64	/* 32 bytes as hex */
#define SESSION_USER_MAX 64	/* as the daemon checks Request.user (design.md §4.9) */

struct session {
	char id[SESSION_TOKEN_LEN + 1];		/* the cookie's value */
	char csrf[SESSION_TOKEN_LEN + 1];	/* the hidden field of every form */
	char user[SESSION_USER_MAX + 1];	/* who signed in: Request.user */
	unsigned rights;			/* WR_* bits, from the daemon's whoami */
	time_t created, last;			/* monotonic seconds */
	int used;
};

struct sessions;

/* A table of max sessions. NULL on ENOMEM. Caller owns it (sessions_free). */
struct sessions *sessions_new(unsigned max, unsigned idle_s, unsigned max_s);
void sessions_free(struct sessions **t);

/* A new session for user with rights. 0 and a copy in *out, -ENOSPC when
 * every slot is live, -EIO when RAND_bytes fails. */
int sessions_create(struct sessions *t, const char *user, unsigned rights, struct session *out);

/* The live session whose id is id, touched (last = now): 1 and a copy in
 * *out; 0 when there is none or it has expired (then its slot is cleared). */
int sessions_find(struct sessions *t, const char *id, struct session *out);

/* End the session whose id is id (if it still lives): its slot is wiped. */
void sessions_end(struct sessions *t, const char *id);

/* Sessions live now (for the status page and the tests). */
unsigned sessions_count(struct sessions *t);

/* True when token is s's CSRF token (constant time). */
int session_csrf_ok(const struct session *s, const char *token);

/* 32 random bytes as 64 hex digits into out[65]. 0 or -EIO. */
int session_token(char out[SESSION_TOKEN_LEN + 1]);

#endif

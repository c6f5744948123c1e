/* session: a fixed table of signed-in users (see session.h). */
#include "session.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

struct sessions {
	pthread_mutex_t lock;	/* every call: MHD's worker threads share the table */
	struct session *v;	/* max slots; used = 0 is free */
	unsigned max;
	unsigned idle_s;	/* [web] session_idle */
	unsigned max_s;		/* [web] session_max */
};

/* Monotonic: a clock step must not end or lengthen every session. */
static time_t s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct sessions *sessions_new(unsigned max, unsigned idle_s, unsigned max_s)
{
	struct sessions *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->v = calloc(max ? max : 1, sizeof(*t->v));
	if (!t->v) {
		free(t);
		return NULL;
	}
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t->v);
		free(t);
		return NULL;
	}
	t->max = max;
	t->idle_s = idle_s;
	t->max_s = max_s;
	return t;
}

void sessions_free(struct sessions **t)
{
	if (!t || !*t)
		return;
	OPENSSL_cleanse((*t)->v, sizeof(*(*t)->v) * (*t)->max);	/* ids are bearer secrets */
	pthread_mutex_destroy(&(*t)->lock);
	free((*t)->v);
	free(*t);
	*t = NULL;
}

int session_token(char out[SESSION_TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[SESSION_TOKEN_LEN / 2];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[SESSION_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

static int s_expired(const struct sessions *t, const struct session *s, time_t now)
{
	return now - s->last >= (time_t)t->idle_s || now - s->created >= (time_t)t->max_s;
}

static void s_wipe(struct session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

/* The live slot whose id is id (lock held); an expired one is wiped. */
static struct session *s_find(struct sessions *t, const char *id, time_t now)
{
	if (!id || strlen(id) != SESSION_TOKEN_LEN)
		return NULL;
	for (unsigned i = 0; i < t->max; i++) {
		struct session *s = &t->v[i];

		if (!s->used || CRYPTO_memcmp(s->id, id, SESSION_TOKEN_LEN) != 0)
			continue;
		if (s_expired(t, s, now)) {
			s_wipe(s);
			return NULL;
		}
		return s;
	}
	return NULL;
}

void sessions_end(struct sessions *t, const char *id)
{
	struct session *s;

	pthread_mutex_lock(&t->lock);
	if ((s = s_find(t, id, s_now())))
		s_wipe(s);
	pthread_mutex_unlock(&t->lock);
}

int sessions_create(struct sessions *t, const char *user, unsigned rights, struct session *out)
{
	time_t now = s_now();
	struct session *free_slot = NULL;
	int r = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < t->max; i++) {
		struct session *s = &t->v[i];

		if (s->used && s_expired(t, s, now))
			s_wipe(s);
		if (!s->used && !free_slot)
			free_slot = s;
	}
	if (!free_slot) {
		r = -ENOSPC;
	} else if (session_token(free_slot->id) < 0 || session_token(free_slot->csrf) < 0) {
		s_wipe(free_slot);
		r = -EIO;
	} else {
		snprintf(free_slot->user, sizeof(free_slot->user), "%s", user);
		free_slot->rights = rights;
		free_slot->created = free_slot->last = now;
		free_slot->used = 1;
		*out = *free_slot;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

int sessions_find(struct sessions *t, const char *id, struct session *out)
{
	time_t now = s_now();
	struct session *s;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&t->lock);
	s = s_find(t, id, now);
	if (s) {
		s->last = now;
		*out = *s;
	}
	pthread_mutex_unlock(&t->lock);
	return s != NULL;
}

unsigned sessions_count(struct sessions *t)
{
	time_t now = s_now();
	unsigned n = 0;

	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < t->max; i++)
		n += t->v[i].used && !s_expired(t, &t->v[i], now);
	pthread_mutex_unlock(&t->lock);
	return n;
}

int session_csrf_ok(const struct session *s, const char *token)
{
	return token && strlen(token) == SESSION_TOKEN_LEN &&
	       CRYPTO_memcmp(s->csrf, token, SESSION_TOKEN_LEN) == 0;
}

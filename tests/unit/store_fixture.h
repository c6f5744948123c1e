/* store_fixture: the store tests' shared fixture: a fresh store in a temporary
 * directory, and helpers that put leavers, messages, events and dossiers in it.
 * Header-only (static inline) so that each test_store*.c stays one file for the
 * tests/CMakeLists.txt glob. */
#ifndef OVERSTAP_STORE_FIXTURE_H
#define OVERSTAP_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "store.h"

#define PEER "25LZ00"
#define REC_A "01890a5d-ac96-774b-bcce-b302099a8057"
#define REC_B "01890a5d-ac96-774b-bcce-b302099a8058"
#define REC_C "01890a5d-ac96-774b-bcce-b302099a8059"

struct fx {
	char dir[64];
	char path[128];
	uint8_t master[32];
	struct store *s;
};

/* The importers' configuration: institution 99ZZ00 with PEER as its one
 * sending peer (static: the importers borrow it for the test's length). */
static inline struct config *fx_import_cfg(void)
{
	static struct peer_cfg peer;
	static struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	memset(&peer, 0, sizeof(peer));
	strcpy(cfg.institution_id, "99ZZ00");
	strcpy(peer.id, PEER);
	strcpy(peer.endpoint, "tcp://127.0.0.1:7470");
	cfg.peers = &peer;
	cfg.n_peers = 1;
	return &cfg;
}

static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(crypto_random(f->master, sizeof(f->master)), 0);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(&f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

/* A valid leaver row as the CSV import makes it; the caller frees it. */
static inline Overstapctl__Leaver *fx_leaver(const char *ref, const char *pgn, const char *given,
					     const char *family)
{
	Overstapctl__Leaver *l = malloc(sizeof(*l));

	overstapctl__leaver__init(l);
	l->pupil_ref = (char *)ref;
	l->pgn = (char *)pgn;
	l->given_name = (char *)given;
	l->family_name = (char *)family;
	l->birth_date = "2008-02-29";
	l->program = "pro";
	l->cohort = "2024-2025";
	l->exit_date = "2025-07-04";
	l->destination_type = "mbo_entree";
	l->destination_institution = "25LZ00";
	l->advice = "entree";
	l->advice_followed = "no";
	l->level_taal = "1F";
	l->level_rekenen = "2F";
	l->support_needs = " job_coach ; structure: vast rooster";
	l->mentor_name = "Mevr. Kaya";
	l->line = 2;
	return l;
}

/* Read a whole file (db or wal) for the plaintext search. */
static inline size_t fx_slurp(const char *path, char **out)
{
	FILE *fp = fopen(path, "rb");
	size_t n = 0, cap = 1 << 16;
	char *buf = malloc(cap);

	if (fp) {
		size_t got;
		while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
			n += got;
			if (n == cap)
				buf = realloc(buf, cap *= 2);
		}
		fclose(fp);
	}
	*out = buf;
	return n;
}

static inline int fx_bytes_in(const char *hay, size_t n, const void *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

/* Whether these bytes are anywhere in the database file or its WAL. */
static inline int fx_on_disk(struct fx *f, const void *needle, size_t k)
{
	char wal[160], *buf;
	int found = 0;
	size_t n;

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	for (int i = 0; i < 2; i++) {
		n = fx_slurp(i ? wal : f->path, &buf);
		found |= fx_bytes_in(buf, n, needle, k);
		free(buf);
	}
	return found;
}

/* Import one leaver; its row (with pupil_ref, without priv) into *l. */
static inline void fx_import(struct fx *f, const char *ref, const char *pgn, struct leaver *l)
{
	Overstapctl__Leaver *rows[1] = { fx_leaver(ref, pgn, "Given", "Family") };
	struct strlist errors = { 0 };

	assert_int_equal(store_leavers_import(f->s, "t.csv", rows, 1, "u", &errors), 0);
	free(rows[0]);
	assert_int_equal(store_leaver_find(f->s, ref, 0, l), 0);
}

/* Queue a message for PEER sealed under key_id (0: the outbox key). */
static inline void fx_queue(struct fx *f, int64_t key_id, char id[CRYPTO_UUID_STR_LEN + 1])
{
	static const uint8_t payload[] = "some envelope";

	assert_int_equal(crypto_uuidv7(id), 0);
	usleep(1500);	/* distinct milliseconds: ids in order */
	assert_int_equal(store_outbox_add(f->s, id, PEER, 2, payload, sizeof(payload), key_id, 1000), 0);
}

/* Send l's handover as record_id and have it acknowledged at delivered_at. */
static inline void fx_deliver(struct fx *f, struct leaver *l, const char *record_id,
			      int64_t delivered_at)
{
	char mid[CRYPTO_UUID_STR_LEN + 1];
	int64_t id = l->id;

	fx_queue(f, l->key_id, mid);
	assert_int_equal(store_leaver_set_queued(f->s, id, record_id, mid, 900), 0);
	assert_int_equal(store_outbox_ack(f->s, PEER, mid, 0, NULL, 950, 1, delivered_at), 0);
	store_leaver_clear(l);
	assert_int_equal(store_leaver_load(f->s, id, 0, l), 0);
	assert_int_equal(l->state, LEAVER_DELIVERED);
}

/* An event about record_id from PEER, as received; message id into e. */
static inline void fx_event_rec(struct event_rec *e, const char *record_id, int event,
				const char *date)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(crypto_uuidv7(e->message_id), 0);
	usleep(1500);
	str_copy(e->record_id, sizeof(e->record_id), record_id);
	e->inbound = 1;
	str_copy(e->peer, sizeof(e->peer), PEER);
	e->event = event;
	str_copy(e->date, sizeof(e->date), date);
	e->at = 1234;
	str_copy(e->actor, sizeof(e->actor), "peer:" PEER);
}

static inline void fx_event(struct fx *f, const char *record_id, const char *date)
{
	struct event_rec e;

	fx_event_rec(&e, record_id, 1, date);
	e.inbound = 0;
	assert_int_equal(store_event_add(f->s, &e), 0);
}

static inline int fx_count_event(const struct event_rec *e, void *arg)
{
	(void)e;
	(*(unsigned *)arg)++;
	return 0;
}

static inline unsigned fx_events(struct fx *f, const char *record_id)
{
	unsigned n = 0;

	assert_int_equal(store_events_each(f->s, record_id, fx_count_event, &n), 0);
	return n;
}

static inline uint64_t fx_depth(struct fx *f)
{
	uint64_t depth = 99;

	assert_int_equal(store_outbox_depth(f->s, PEER, &depth), 0);
	return depth;
}

/* Receive a dossier for record_id about the pupil with this PGN from 12AB00. */
static inline void fx_inbox(struct fx *f, const char *mid, const char *record_id, const char *pgn,
			    const uint8_t *bytes, size_t len, int64_t now)
{
	Overstap__Handover h = OVERSTAP__HANDOVER__INIT;

	h.record_id = (char *)record_id;
	h.pgn = (char *)pgn;
	h.cohort = "2024-2025";
	h.exit_date = "2025-07-04";
	h.program = OVERSTAP__PROGRAM__PRO;
	assert_int_equal(store_inbox_put(f->s, mid, "12AB00", &h, bytes, len, now), 0);
}

/* Run SQL on the store's file through a connection of our own. */
static inline void fx_sql(struct fx *f, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

#endif

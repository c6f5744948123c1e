/* Unit tests for net (the transport): two real struct nets in one process,
 * each with its own keys, configuration and store, talking CURVE over
 * tcp://127.0.0.1:* with the same poll calls the daemon's loop makes. What a
 * peer would see: a queued message is delivered and acknowledged, a refusal
 * comes back as a REJECTED ack and is not retried, a key that is not
 * configured is refused at the handshake, a message whose claimed sender is
 * not the authenticated peer and plain garbage are dropped and counted, and
 * none of it stops the link. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "envelope.h"
#include "net.h"
#include "outbox.h"

#define A_ID "12AB00"	/* the school: sends */
#define B_ID "25XY00"	/* the MBO: receives only from A */

struct side {
	char dir[PATH_MAX];
	struct keys keys;
	struct config *cfg;
	struct store *store;
	struct hctx h;
	struct net net;
};

struct fx {
	char base[64];
	struct side a, b;
};

static void s_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
}

/* keys for side s in base/name/keys; its [peer] block for others in snippet */
static void s_keys(struct side *s, const char *base, const char *name, const char *id,
		   const char *endpoint, char *snippet, size_t cap)
{
	char kd[PATH_MAX + 8], err[256];

	snprintf(s->dir, sizeof(s->dir), "%s/%s", base, name);
	assert_int_equal(mkdir(s->dir, 0700), 0);
	snprintf(kd, sizeof(kd), "%s/keys", s->dir);
	assert_int_equal(keys_generate(kd, 0, err, sizeof(err)), 0);
	assert_int_equal(keys_load(kd, &s->keys, err, sizeof(err)), 0);
	assert_int_equal(keys_peer_snippet(&s->keys, id, endpoint, snippet, cap), 0);
	if (!endpoint[0]) {	/* receive only: no endpoint line at all */
		char *e = strstr(snippet, "endpoint = "), *nl = e ? strchr(e, '\n') : NULL;

		assert_non_null(nl);
		memmove(e, nl + 1, strlen(nl + 1) + 1);
	}
}

/* Write side s's config (its own id, one peer block), load it, open the
 * store and the transport. */
static void s_open(struct side *s, const char *id, const char *peer_block)
{
	char path[PATH_MAX + 16], text[3 * PATH_MAX + 2048], err[256];
	struct strlist errors = { 0 };

	snprintf(text, sizeof(text),
		 "[institution]\nid = %s\nname = test %s\nkeys_dir = %s/keys\n"
		 "[network]\nlisten = tcp://127.0.0.1:*\nretry_initial_ms = 100\n"
		 "checkpoint_interval_s = 3600\n"
		 "[store]\npath = %s/store.db\n[control]\nsocket = %s/control.sock\n%s",
		 id, id, s->dir, s->dir, s->dir, peer_block);
	snprintf(path, sizeof(path), "%s/overstapd.conf", s->dir);
	s_write(path, text);
	if (config_load(path, &s->cfg, &errors) < 0) {
		for (size_t i = 0; i < errors.n; i++)
			print_error("%s\n", errors.v[i]);
		fail();
	}
	strlist_clear(&errors);
	snprintf(path, sizeof(path), "%s/store.db", s->dir);
	assert_int_equal(store_open(path, s->keys.master, &s->store, err, sizeof(err)), 0);
	s->h = (struct hctx){ .store = s->store, .cfg = s->cfg, .keys = &s->keys };
	s->net.h = &s->h;
	s->net.rl_reject = (struct ratelimit)RATELIMIT_INIT(10000, 20);
	assert_int_equal(net_open(&s->net), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char a_block[1024];

	assert_non_null(f);
	snprintf(f->base, sizeof(f->base), "/tmp/overstap-net-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	/* B listens first so that A can be given its resolved port. */
	s_keys(&f->a, f->base, "a", A_ID, "", a_block, sizeof(a_block));
	s_keys(&f->b, f->base, "b", B_ID, "", a_block + 512, 512);
	s_open(&f->b, B_ID, a_block);	/* A is receive-only for B */
	*state = f;
	return 0;
}

/* A is opened once B listens: its [peer] block for B names B's resolved port. */
static void s_open_a(struct fx *f)
{
	char b_block[1024];

	assert_int_equal(keys_peer_snippet(&f->b.keys, B_ID, f->b.net.bound, b_block,
					   sizeof(b_block)), 0);
	s_open(&f->a, A_ID, b_block);
}

static void s_close(struct side *s)
{
	net_close(&s->net);
	store_close(&s->store);
	config_free(&s->cfg);
	keys_clear(&s->keys);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	s_close(&f->a);
	s_close(&f->b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->base);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* One turn of both loops, as daemon_run makes them. */
static void s_turn(struct side **sides, size_t n)
{
	zmq_pollitem_t items[2][64];
	size_t count[2];

	for (size_t i = 0; i < n; i++) {
		int64_t wake = 10;

		net_pump(&sides[i]->net, &wake);
		if (sides[i]->h.outbox_dirty) {
			sides[i]->h.outbox_dirty = 0;
			net_outbox_changed(&sides[i]->net);
		}
		count[i] = net_poll_fill(&sides[i]->net, items[i]);
		assert_true(zmq_poll(items[i], (int)count[i], 5) >= 0);
		net_poll_handle(&sides[i]->net, items[i], count[i]);
	}
}

/* Turn both loops until cond holds, at most ~5 s. */
static int s_spin(struct fx *f, int (*cond)(struct fx *))
{
	struct side *both[2] = { &f->a, &f->b }, *b_only[1] = { &f->b };

	for (int i = 0; i < 1000; i++) {
		if (cond(f))
			return 1;
		if (f->a.net.zctx)
			s_turn(both, 2);
		else
			s_turn(b_only, 1);
	}
	return cond(f);
}

static int s_a_outbox_empty(struct fx *f)
{
	uint64_t depth = 1;

	assert_int_equal(store_outbox_depth(f->a.store, B_ID, &depth), 0);
	return depth == 0;
}

static uint64_t s_rejects(const struct net *n, const char *why)
{
	for (size_t i = 0; i < sizeof(n->rejects) / sizeof(n->rejects[0]) && n->rejects[i].why; i++)
		if (strcmp(n->rejects[i].why, why) == 0)
			return n->rejects[i].n;
	return 0;
}

/* Queue an audit checkpoint (a body B applies whatever its store holds). */
static void s_queue_checkpoint(struct side *s, uint64_t seq)
{
	Overstap__AuditCheckpoint m = OVERSTAP__AUDIT_CHECKPOINT__INIT;
	uint8_t head[32];
	char mid[CRYPTO_UUID_STR_LEN + 1];

	memset(head, 0x5a, sizeof(head));
	m.seq = seq;
	m.head.data = head;
	m.head.len = sizeof(head);
	assert_int_equal(store_begin(s->store), 0);
	assert_int_equal(outbox_queue_msg(&s->h, B_ID, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT,
					  &m.base, mid), 0);
	assert_int_equal(store_commit(s->store), 0);
	assert_int_equal(s->h.outbox_dirty, 1);
}

static void test_delivered_and_acked(void **state)
{
	struct fx *f = *state;
	struct checkpoint_rec c;

	s_open_a(f);
	assert_int_equal(f->a.net.n_peers, 1);
	assert_non_null(f->a.net.peers[0].dealer);
	assert_null(f->b.net.peers[0].dealer);	/* B only receives from A */
	s_queue_checkpoint(&f->a, 7);
	assert_true(s_spin(f, s_a_outbox_empty));
	/* B committed it before acking: its witness of A's chain is there. */
	assert_int_equal(store_checkpoint_get(f->b.store, A_ID, CHECKPOINT_THEIRS, &c), 0);
	assert_int_equal(c.seq, 7);
	assert_true(f->a.net.peers[0].connected);
	assert_int_equal(f->a.net.peers[0].acked, 1);
	assert_int_equal(f->b.net.peers[0].received >= 1, 1);
	assert_int_equal(f->b.net.rejected_total, 0);
}

static int s_b_refused_registration(struct fx *f)
{
	return s_rejects(&f->b.net, "registration not accepted") == 1 && s_a_outbox_empty(f);
}

static void test_refusal_is_a_rejected_ack(void **state)
{
	struct fx *f = *state;
	Overstap__Registration g = OVERSTAP__REGISTRATION__INIT;
	char mid[CRYPTO_UUID_STR_LEN + 1];

	s_open_a(f);
	/* B is the MBO here; a Registration goes to a school. B holds no leaver
	 * with this PGN, so it refuses: A must hear why and stop retrying. */
	g.pgn = "123456782";
	g.registered_on = "2025-03-01";
	assert_int_equal(store_begin(f->a.store), 0);
	assert_int_equal(outbox_queue_msg(&f->a.h, B_ID, OVERSTAP__ENVELOPE__BODY_REGISTRATION,
					  &g.base, mid), 0);
	assert_int_equal(store_commit(f->a.store), 0);
	assert_true(s_spin(f, s_b_refused_registration));
	assert_int_equal(f->a.net.peers[0].n_inflight, 0);
	/* and nothing is sent again: a few more turns change nothing */
	for (int i = 0; i < 30; i++) {
		struct side *sides[2] = { &f->a, &f->b };
		s_turn(sides, 2);
	}
	assert_int_equal(s_rejects(&f->b.net, "registration not accepted"), 1);
	assert_int_equal(f->a.net.peers[0].sent, 1);
}

static int s_b_refused_key(struct fx *f)
{
	return s_rejects(&f->b.net, "connection with an unknown CURVE key refused") >= 1;
}

/* A client whose CURVE key B has never been told of. */
static void test_unknown_key_refused(void **state)
{
	struct fx *f = *state;
	char pub[CRYPTO_Z85_KEY_LEN + 1], sec[CRYPTO_Z85_KEY_LEN + 1], spub[CRYPTO_Z85_KEY_LEN + 1];
	void *ctx = zmq_ctx_new(), *d = zmq_socket(ctx, ZMQ_DEALER);
	int linger = 0;

	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	assert_int_equal(zmq_curve_public(spub, f->b.keys.curve_secret), 0);
	zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, spub, CRYPTO_Z85_KEY_LEN + 1);
	zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, pub, CRYPTO_Z85_KEY_LEN + 1);
	zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, sec, CRYPTO_Z85_KEY_LEN + 1);
	assert_int_equal(zmq_connect(d, f->b.net.bound), 0);
	zmq_send(d, "hello", 5, ZMQ_DONTWAIT);
	assert_true(s_spin(f, s_b_refused_key));
	assert_int_equal(f->b.net.peers[0].received, 0);
	zmq_close(d);
	zmq_ctx_term(ctx);
}

struct raw {
	void *ctx, *sock;
};

/* A DEALER with A's real keys: authenticated as A, but sending what it likes. */
static void s_raw_open(struct fx *f, struct raw *r)
{
	char spub[CRYPTO_Z85_KEY_LEN + 1];
	int linger = 0;

	r->ctx = zmq_ctx_new();
	r->sock = zmq_socket(r->ctx, ZMQ_DEALER);
	assert_int_equal(zmq_curve_public(spub, f->b.keys.curve_secret), 0);
	zmq_setsockopt(r->sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(r->sock, ZMQ_CURVE_SERVERKEY, spub, CRYPTO_Z85_KEY_LEN + 1);
	zmq_setsockopt(r->sock, ZMQ_CURVE_PUBLICKEY, f->a.keys.curve_public, CRYPTO_Z85_KEY_LEN + 1);
	zmq_setsockopt(r->sock, ZMQ_CURVE_SECRETKEY, f->a.keys.curve_secret, CRYPTO_Z85_KEY_LEN + 1);
	assert_int_equal(zmq_connect(r->sock, f->b.net.bound), 0);
}

static void s_raw_close(struct raw *r)
{
	zmq_close(r->sock);
	zmq_ctx_term(r->ctx);
}

static int s_b_dropped_two(struct fx *f)
{
	return f->b.net.rejected_total >= 2;
}

static void test_impostor_and_garbage_dropped(void **state)
{
	struct fx *f = *state;
	struct raw r;
	uint8_t body[64], *packed = NULL;
	char mid[CRYPTO_UUID_STR_LEN + 1];
	size_t plen = 0, blen;
	Overstap__AuditCheckpoint m = OVERSTAP__AUDIT_CHECKPOINT__INIT;
	uint8_t head[32] = { 0 };

	s_raw_open(f, &r);
	/* signed by A's key, but claiming to come from another institution */
	m.seq = 1;
	m.head.data = head;
	m.head.len = sizeof(head);
	blen = overstap__audit_checkpoint__pack(&m, body);
	assert_int_equal(envelope_build("99ZZ00", B_ID, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, body,
					blen, f->a.keys.signer, mid, &packed, &plen), 0);
	assert_true(zmq_send(r.sock, packed, plen, 0) >= 0);
	assert_true(zmq_send(r.sock, "\x0a\xff\xff\xff\x0f garbage", 14, 0) >= 0);
	free(packed);
	assert_true(s_spin(f, s_b_dropped_two));
	assert_int_equal(s_rejects(&f->b.net, "claimed sender differs from the authenticated peer"), 1);
	assert_int_equal(f->b.net.rejected_total, 2);
	assert_int_equal(f->b.net.peers[0].rejected, 2);
	s_raw_close(&r);
	/* The link still works for the real A. */
	s_open_a(f);
	s_queue_checkpoint(&f->a, 3);
	assert_true(s_spin(f, s_a_outbox_empty));
}

static void test_peer_lookup(void **state)
{
	struct fx *f = *state;

	assert_non_null(net_peer(&f->b.net, A_ID));
	assert_null(net_peer(&f->b.net, "99ZZ00"));
	assert_int_equal(net_poll_count(&f->b.net), 3 + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_peer_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivered_and_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_is_a_rejected_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_impostor_and_garbage_dropped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

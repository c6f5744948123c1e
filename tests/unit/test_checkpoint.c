/* Unit tests for checkpoint.c: checkpoint_build carries our audit head and
 * the last head of the peer's chain we hold; rx_checkpoint keeps the peer's
 * highest head and audits a regression; a head of ours the peer echoes back
 * that our log no longer has is kept, audited, and found by
 * checkpoint_verify, naming the peer that holds the evidence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "checkpoint.h"
#include "rx_fixture.h"

/* from builds its checkpoint for to and sends it (outside the outbox, as
 * the transport does); returns the body as built. */
static Overstap__AuditCheckpoint *s_checkpoint(struct fx_side *from, struct fx_side *to,
					      struct fx_wire *w)
{
	uint8_t buf[160];
	size_t len = 0;
	int64_t seq = -1;

	assert_int_equal(checkpoint_build(&from->h, to->id, buf, sizeof(buf), &len, &seq), 0);
	fx_forge_raw(from, to, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, buf, len, w);
	return overstap__audit_checkpoint__unpack(NULL, len, buf);
}

static void s_audit_n(struct fx_side *sd, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(store_audit(sd->s, "mentor1", "test.entry", "", "", "{}"), 0);
}

static void test_build_is_our_head(void **state)
{
	struct fx *f = *state;
	Overstap__AuditCheckpoint *m;
	struct fx_wire w = { 0 };
	uint8_t head[AUDIT_MAC_LEN], small[8];
	int64_t seq;
	size_t len;

	s_audit_n(&f->school, 3);
	assert_int_equal(audit_head(store_audit_peek(f->school.s), &seq, head), 0);
	assert_int_equal(seq, 3);
	m = s_checkpoint(&f->school, &f->mbo, &w);
	assert_non_null(m);
	assert_int_equal(m->seq, 3);
	assert_int_equal(m->head.len, 32);
	assert_memory_equal(m->head.data, head, 32);
	assert_int_equal(m->yours_seq, 0);	/* we hold nothing of theirs yet */
	assert_int_equal(m->yours_head.len, 0);
	overstap__audit_checkpoint__free_unpacked(m, NULL);
	fx_wire_free(&w);
	assert_int_equal(checkpoint_build(&f->school.h, FX_MBO, small, sizeof(small), &len, &seq), -EMSGSIZE);
}

static int s_count_cb(const struct incident *i, void *arg)
{
	(void)i;
	(*(int *)arg)++;
	return 0;
}

static int s_open_incidents(struct store *s)
{
	int n = 0;

	assert_int_equal(store_incidents_each(s, 1, s_count_cb, &n), 0);
	return n;
}

/* A school's first checkpoint comes with an empty log (seq 0); its next one,
 * with entries, has no proof to give and needs none: taken. (The proof
 * check once read the absent since_head of that one: a crash a peer could
 * cause.) */
static void test_rx_after_an_empty_chain(void **state)
{
	struct fx *f = *state;
	struct checkpoint_rec c;
	struct fx_wire w = { 0 };
	int failed = 1;

	overstap__audit_checkpoint__free_unpacked(s_checkpoint(&f->school, &f->mbo, &w), NULL);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	fx_wire_free(&w);
	assert_int_equal(store_checkpoint_get(f->mbo.s, FX_SCHOOL, CHECKPOINT_THEIRS, &c), 0);
	assert_int_equal(c.seq, 0);
	s_audit_n(&f->school, 3);
	overstap__audit_checkpoint__free_unpacked(s_checkpoint(&f->school, &f->mbo, &w), NULL);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	fx_wire_free(&w);
	assert_int_equal(store_checkpoint_get(f->mbo.s, FX_SCHOOL, CHECKPOINT_THEIRS, &c), 0);
	assert_int_equal(c.seq, 3);
	assert_int_equal(s_open_incidents(f->mbo.s), 0);
}

static void test_rx_keeps_head_and_alarms_on_regression(void **state)
{
	struct fx *f = *state;
	Overstap__AuditCheckpoint *m, low = OVERSTAP__AUDIT_CHECKPOINT__INIT;
	struct checkpoint_rec c;
	struct fx_wire w = { 0 };
	uint8_t zeros[32] = { 0 };
	char detail[1024];
	int failed = 1;

	s_audit_n(&f->school, 5);
	m = s_checkpoint(&f->school, &f->mbo, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	fx_wire_free(&w);
	assert_int_equal(store_checkpoint_get(f->mbo.s, FX_SCHOOL, CHECKPOINT_THEIRS, &c), 0);
	assert_int_equal(c.seq, 5);
	assert_memory_equal(c.head, m->head.data, 32);
	assert_int_equal(fx_audits(&f->mbo, "audit.peer_chain_regressed", NULL, NULL, 0), 0);

	/* the school's log went back to entry 4: the MBO notices and keeps 5 */
	low.seq = 4;
	low.head.data = zeros;
	low.head.len = 32;
	fx_forge(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, &low.base, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	fx_wire_free(&w);
	assert_int_equal(fx_audits(&f->mbo, "audit.peer_chain_regressed", "", detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "\"seq\":5"));
	assert_int_equal(store_checkpoint_get(f->mbo.s, FX_SCHOOL, CHECKPOINT_THEIRS, &c), 0);
	assert_int_equal(c.seq, 5);
	assert_memory_equal(c.head, m->head.data, 32);
	/* the same entry with another head is a rewrite: of the head we hold,
	 * so the same incident (design.md §5.6), alarmed once, still open */
	low.seq = 5;
	fx_forge(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, &low.base, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	fx_wire_free(&w);
	assert_int_equal(fx_audits(&f->mbo, "audit.peer_chain_regressed", NULL, NULL, 0), 1);
	assert_int_equal(s_open_incidents(f->mbo.s), 1);
	/* a higher head without proof that it extends the 5 held (the school
	 * does not know yet what the MBO holds): kept at 5 (design.md §5.6) */
	s_audit_n(&f->school, 2);
	overstap__audit_checkpoint__free_unpacked(m, NULL);
	m = s_checkpoint(&f->school, &f->mbo, &w);
	assert_int_equal(m->since_seq, 0);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	fx_wire_free(&w);
	assert_int_equal(store_checkpoint_get(f->mbo.s, FX_SCHOOL, CHECKPOINT_THEIRS, &c), 0);
	assert_int_equal(c.seq, 5);
	/* the MBO's own checkpoint tells the school it holds 5; the school's
	 * next head carries its mac at 5 as proof, and is taken */
	overstap__audit_checkpoint__free_unpacked(s_checkpoint(&f->mbo, &f->school, &w), NULL);
	assert_null(fx_rx(&f->school, &w, &failed));
	fx_wire_free(&w);
	overstap__audit_checkpoint__free_unpacked(m, NULL);
	m = s_checkpoint(&f->school, &f->mbo, &w);
	assert_int_equal(m->since_seq, 5);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	fx_wire_free(&w);
	assert_int_equal(store_checkpoint_get(f->mbo.s, FX_SCHOOL, CHECKPOINT_THEIRS, &c), 0);
	assert_int_equal(c.seq, 7);
	/* a higher head whose proof is another mac at the entry held is a
	 * rewrite: not taken; one more incident (of the head at 7) */
	low.seq = 9;
	low.since_seq = 7;
	low.since_head.data = zeros;
	low.since_head.len = 32;
	fx_forge(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, &low.base, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	fx_wire_free(&w);
	assert_int_equal(store_checkpoint_get(f->mbo.s, FX_SCHOOL, CHECKPOINT_THEIRS, &c), 0);
	assert_int_equal(c.seq, 7);
	assert_int_equal(s_open_incidents(f->mbo.s), 2);
	assert_int_equal(fx_audits(&f->mbo, "audit.peer_chain_regressed", "", detail, sizeof(detail)), 2);
	assert_non_null(strstr(detail, "rewritten at entry 7"));
	low.since_seq = 0;
	low.since_head.data = NULL;
	low.since_head.len = 0;
	assert_int_equal(store_begin(f->mbo.s), 0);
	assert_int_equal(store_incident_ack(f->mbo.s, 1, "officer", "seen", 9), 0);
	assert_int_equal(store_incident_ack(f->mbo.s, 1, "officer", "again", 9), 1);
	assert_int_equal(store_commit(f->mbo.s), 0);
	assert_int_equal(s_open_incidents(f->mbo.s), 1);
	overstap__audit_checkpoint__free_unpacked(m, NULL);
	/* malformed: a head of the wrong length */
	low.head.len = 31;
	fx_forge(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, &low.base, &w);
	assert_string_equal(fx_rx(&f->mbo, &w, &failed), "audit checkpoint head malformed");
	fx_wire_free(&w);
}

/* Round trip: the MBO echoes the school's head; the school keeps it; a
 * truncated school log is then found by checkpoint_verify. */
static void test_verify_finds_truncation(void **state)
{
	struct fx *f = *state;
	Overstap__AuditCheckpoint *m;
	struct checkpoint_rec c;
	struct fx_wire w = { 0 };
	char peer[7] = "", why[200] = "";
	int64_t seq = 0;
	unsigned checked = 99;
	int failed = 1;

	s_audit_n(&f->school, 4);
	s_audit_n(&f->mbo, 2);
	assert_int_equal(checkpoint_verify(f->school.s, &checked, peer, &seq, why, sizeof(why)), 0);
	assert_int_equal(checked, 0);
	/* school -> MBO: the MBO now holds school head 4 */
	m = s_checkpoint(&f->school, &f->mbo, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	overstap__audit_checkpoint__free_unpacked(m, NULL);
	fx_wire_free(&w);
	/* MBO -> school: its own head, and the school's 4 echoed */
	m = s_checkpoint(&f->mbo, &f->school, &w);
	assert_int_equal(m->yours_seq, 4);
	assert_null(fx_rx(&f->school, &w, &failed));
	assert_int_equal(failed, 0);
	overstap__audit_checkpoint__free_unpacked(m, NULL);
	fx_wire_free(&w);
	assert_int_equal(store_checkpoint_get(f->school.s, FX_MBO, CHECKPOINT_OURS, &c), 0);
	assert_int_equal(c.seq, 4);
	assert_int_equal(fx_audits(&f->school, "audit.checkpoint_mismatch", NULL, NULL, 0), 0);
	assert_int_equal(checkpoint_verify(f->school.s, &checked, peer, &seq, why, sizeof(why)), 0);
	assert_int_equal(checked, 1);

	/* someone cuts the school's log back to entry 3 */
	fx_sql(&f->school, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq >= 4;");
	assert_int_equal(checkpoint_verify(f->school.s, &checked, peer, &seq, why, sizeof(why)), -ENOENT);
	assert_string_equal(peer, FX_MBO);
	assert_int_equal(seq, 4);
	assert_non_null(strstr(why, "truncated"));
}

/* A peer echoing a head of ours our log does not have: kept and audited. */
static void test_rx_echo_mismatch(void **state)
{
	struct fx *f = *state;
	Overstap__AuditCheckpoint m = OVERSTAP__AUDIT_CHECKPOINT__INIT;
	struct checkpoint_rec c;
	struct fx_wire w = { 0 };
	uint8_t head[32], wrong[32];
	char peer[7] = "", why[200] = "";
	int64_t seq = 0;
	unsigned checked;
	int failed = 1;

	s_audit_n(&f->school, 3);
	memset(head, 0x11, sizeof(head));
	memset(wrong, 0x22, sizeof(wrong));
	m.seq = 1;
	m.head.data = head;
	m.head.len = 32;
	m.yours_seq = 2;
	m.yours_head.data = wrong;
	m.yours_head.len = 32;
	m.yours_at = 1234;
	fx_forge(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, &m.base, &w);
	assert_null(fx_rx(&f->school, &w, &failed));
	assert_int_equal(failed, 0);
	fx_wire_free(&w);
	assert_int_equal(fx_audits(&f->school, "audit.checkpoint_mismatch", NULL, NULL, 0), 1);
	assert_int_equal(store_checkpoint_get(f->school.s, FX_MBO, CHECKPOINT_OURS, &c), 0);
	assert_int_equal(c.seq, 2);
	assert_memory_equal(c.head, wrong, 32);
	assert_int_equal(checkpoint_verify(f->school.s, &checked, peer, &seq, why, sizeof(why)), -EBADMSG);
	assert_string_equal(peer, FX_MBO);
	assert_int_equal(seq, 2);
}

/* The peer witnesses our head again and again while our log does not grow:
 * the witness keeps the moment of the latest, so `status` shows how long ago
 * the peer last confirmed it (issue 16 item 2). It showed the moment of the
 * first, growing for as long as the log was quiet. A later moment that comes
 * late (an answer that crossed a newer one) is not taken. */
static void s_echo(struct fx *f, int64_t seq, const uint8_t head[32], int64_t at)
{
	Overstap__AuditCheckpoint m = OVERSTAP__AUDIT_CHECKPOINT__INIT;
	struct fx_wire w = { 0 };
	uint8_t theirs[32];
	int failed = 1;

	memset(theirs, 0x11, sizeof(theirs));
	m.seq = 1;
	m.head.data = theirs;
	m.head.len = 32;
	m.yours_seq = (uint64_t)seq;
	m.yours_head.data = (uint8_t *)head;
	m.yours_head.len = 32;
	m.yours_at = at;
	fx_forge(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, &m.base, &w);
	assert_null(fx_rx(&f->school, &w, &failed));
	assert_int_equal(failed, 0);
	fx_wire_free(&w);
}

static void test_rx_witness_age_is_the_latest(void **state)
{
	struct fx *f = *state;
	struct checkpoint_rec c;
	uint8_t head[32], head2[32];
	int64_t seq;

	s_audit_n(&f->school, 2);
	assert_int_equal(audit_mac_at(store_audit_peek(f->school.s), 2, head2), 0);
	s_audit_n(&f->school, 1);
	assert_int_equal(audit_head(store_audit_peek(f->school.s), &seq, head), 0);
	s_echo(f, seq, head, 1000);
	s_echo(f, seq, head, 5000);
	assert_int_equal(store_checkpoint_get(f->school.s, FX_MBO, CHECKPOINT_OURS, &c), 0);
	assert_int_equal(c.seq, seq);
	assert_int_equal(c.at, 5000);
	s_echo(f, seq, head, 3000);		/* late */
	s_echo(f, 2, head2, 9000);		/* a lower head, whenever */
	assert_int_equal(store_checkpoint_get(f->school.s, FX_MBO, CHECKPOINT_OURS, &c), 0);
	assert_int_equal(c.seq, seq);
	assert_int_equal(c.at, 5000);
	assert_int_equal(s_open_incidents(f->school.s), 0);
}

static void test_rx_store_failure(void **state)
{
	struct fx *f = *state;
	Overstap__AuditCheckpoint *m;
	struct checkpoint_rec c;
	struct fx_wire w = { 0 };
	int failed = 0;

	s_audit_n(&f->school, 2);
	m = s_checkpoint(&f->school, &f->mbo, &w);
	fx_sql(&f->mbo, "CREATE TRIGGER broken BEFORE INSERT ON checkpoints"
			" BEGIN SELECT * FROM no_such; END;");
	fx_rx(&f->mbo, &w, &failed);
	assert_int_equal(failed, 1);
	fx_sql(&f->mbo, "DROP TRIGGER broken;");
	assert_int_equal(store_checkpoint_get(f->mbo.s, FX_SCHOOL, CHECKPOINT_THEIRS, &c), -ENOENT);
	overstap__audit_checkpoint__free_unpacked(m, NULL);
	fx_wire_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_build_is_our_head, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_after_an_empty_chain, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_keeps_head_and_alarms_on_regression, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_verify_finds_truncation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_echo_mismatch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_witness_age_is_the_latest, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rx_store_failure, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

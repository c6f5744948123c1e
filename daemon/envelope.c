/* envelope: the wire codec, its limits and its signatures (design.md §4). */
#include "envelope_int.h"
#include "config.h"
#include "consent.h"
#include "outcomes.h"
#include "pgn.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char s_sig_domain[] = "overstap-sig-v1";	/* sent with its NUL */

static const struct {
	Overstap__Envelope__BodyCase c;
	const char *name;
	size_t offset;	/* of the ProtobufCBinaryData in Overstap__Envelope */
} s_bodies[] = {
	{ OVERSTAP__ENVELOPE__BODY_HELLO, "hello", offsetof(Overstap__Envelope, hello) },
	{ OVERSTAP__ENVELOPE__BODY_HANDOVER, "handover", offsetof(Overstap__Envelope, handover) },
	{ OVERSTAP__ENVELOPE__BODY_STATUS, "status", offsetof(Overstap__Envelope, status) },
	{ OVERSTAP__ENVELOPE__BODY_OUTCOME, "outcome", offsetof(Overstap__Envelope, outcome) },
	{ OVERSTAP__ENVELOPE__BODY_WITHDRAWAL, "withdrawal", offsetof(Overstap__Envelope, withdrawal) },
	{ OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT, "erasure_receipt",
	  offsetof(Overstap__Envelope, erasure_receipt) },
	{ OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, "audit_checkpoint",
	  offsetof(Overstap__Envelope, audit_checkpoint) },
	{ OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE, "consent_notice",
	  offsetof(Overstap__Envelope, consent_notice) },
	{ OVERSTAP__ENVELOPE__BODY_ACK, "ack", offsetof(Overstap__Envelope, ack) },
	{ OVERSTAP__ENVELOPE__BODY_REGISTRATION, "registration",
	  offsetof(Overstap__Envelope, registration) },
};

static int s_body_index(Overstap__Envelope__BodyCase c)
{
	for (size_t i = 0; i < ARRAY_SIZE(s_bodies); i++)
		if (s_bodies[i].c == c)
			return (int)i;
	return -1;
}

const ProtobufCBinaryData *envelope_body(const Overstap__Envelope *e)
{
	int i = s_body_index(e->body_case);

	return i < 0 ? NULL : (const ProtobufCBinaryData *)((const char *)e + s_bodies[i].offset);
}

static ProtobufCBinaryData *s_body_mut(Overstap__Envelope *e)
{
	int i = s_body_index(e->body_case);

	return i < 0 ? NULL : (ProtobufCBinaryData *)((char *)e + s_bodies[i].offset);
}

const char *envelope_body_name(Overstap__Envelope__BodyCase c)
{
	int i = s_body_index(c);

	return i < 0 ? "unknown" : s_bodies[i].name;
}

static uint8_t *s_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *s_putstr(uint8_t *p, const void *s, size_t n)
{
	p = s_put32(p, (uint32_t)n);
	memcpy(p, s, n);
	return p + n;
}

int envelope_signing_input(const Overstap__Envelope *e, size_t pre, uint8_t **out, size_t *len)
{
	const ProtobufCBinaryData *body = envelope_body(e);
	size_t lid = strlen(e->message_id), ls = strlen(e->sender), lr = strlen(e->recipient);
	size_t n = pre + sizeof(s_sig_domain) + 4 + 4 + lid + 4 + ls + 4 + lr + 8 + 4;
	uint8_t *buf, *p;
	uint64_t t = (uint64_t)e->created_at;

	if (!body)
		return -EINVAL;
	n += body->len;
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	memset(buf, 0, pre);
	memcpy(buf + pre, s_sig_domain, sizeof(s_sig_domain));
	p = buf + pre + sizeof(s_sig_domain);
	p = s_put32(p, (uint32_t)e->body_case);
	p = s_putstr(p, e->message_id, lid);
	p = s_putstr(p, e->sender, ls);
	p = s_putstr(p, e->recipient, lr);
	p = s_put32(p, (uint32_t)(t >> 32));
	p = s_put32(p, (uint32_t)t);
	p = s_putstr(p, body->data, body->len);
	*out = buf;
	*len = (size_t)(p - buf);
	return 0;
}

void envelope_sig_take(Overstap__Envelope *e, struct envelope_sigfields *keep)
{
	keep->sig = e->signature;
	keep->size = e->batch_size;
	keep->index = e->batch_index;
	keep->n_path = e->n_batch_path;
	keep->path = e->batch_path;
	e->signature.data = NULL;
	e->signature.len = 0;
	e->batch_size = e->batch_index = 0;
	e->n_batch_path = 0;
	e->batch_path = NULL;
}

void envelope_sig_put(Overstap__Envelope *e, const struct envelope_sigfields *keep)
{
	e->signature = keep->sig;
	e->batch_size = keep->size;
	e->batch_index = keep->index;
	e->n_batch_path = keep->n_path;
	e->batch_path = keep->path;
}

int envelope_pack_alloc(const Overstap__Envelope *e, uint8_t **out, size_t *len)
{
	size_t n = overstap__envelope__get_packed_size(e);
	uint8_t *buf = malloc(n ? n : 1);

	if (!buf)
		return -ENOMEM;
	overstap__envelope__pack(e, buf);
	*out = buf;
	*len = n;
	return 0;
}

int envelope_sign_pack(Overstap__Envelope *e, crypto_sigkey *signer, uint8_t **out, size_t *len)
{
	uint8_t sig[CRYPTO_SIG_LEN], *input = NULL;
	struct envelope_sigfields keep;
	size_t ilen = 0;
	int r;

	if ((r = envelope_signing_input(e, 0, &input, &ilen)) < 0)
		return r;
	r = crypto_sign(signer, input, ilen, sig);
	free(input);
	if (r < 0)
		return r;
	envelope_sig_take(e, &keep);	/* a single message: v1, no batch fields */
	e->signature.data = sig;
	e->signature.len = sizeof(sig);
	r = envelope_pack_alloc(e, out, len);
	envelope_sig_put(e, &keep);	/* ours pointed at the stack */
	return r;
}

int envelope_resign(const uint8_t *in, size_t len, crypto_sigkey *signer, uint8_t **out,
		    size_t *out_len)
{
	Overstap__Envelope *e = overstap__envelope__unpack(NULL, len, in);
	int r;

	if (!e)
		return -EBADMSG;
	r = envelope_sign_pack(e, signer, out, out_len);
	overstap__envelope__free_unpacked(e, NULL);
	return r;
}

int envelope_init(Overstap__Envelope *e, const char *sender, const char *recipient,
		  Overstap__Envelope__BodyCase body_case, const uint8_t *body, size_t body_len,
		  char id_out[CRYPTO_UUID_STR_LEN + 1])
{
	ProtobufCBinaryData *b;
	int r;

	overstap__envelope__init(e);	/* the INIT macro trips -Wmissing-braces on a oneof */
	if ((r = crypto_uuidv7(id_out)) < 0)
		return r;
	e->version = ENVELOPE_VERSION;
	e->message_id = id_out;
	e->sender = (char *)sender;
	e->recipient = (char *)recipient;
	e->created_at = time_now_ms();
	e->body_case = body_case;
	if (!(b = s_body_mut(e)))
		return -EINVAL;
	b->data = (uint8_t *)body;
	b->len = body_len;
	return 0;
}

int envelope_build(const char *sender, const char *recipient, Overstap__Envelope__BodyCase body_case,
		   const uint8_t *body, size_t body_len, crypto_sigkey *signer,
		   char id_out[CRYPTO_UUID_STR_LEN + 1], uint8_t **out, size_t *len)
{
	Overstap__Envelope e;
	int r = envelope_init(&e, sender, recipient, body_case, body, body_len, id_out);

	return r < 0 ? r : envelope_sign_pack(&e, signer, out, len);
}

static int s_fail(const char **why, const char *reason, int code)
{
	if (why)
		*why = reason;
	return code;
}

int envelope_unpack(const uint8_t *buf, size_t len, size_t max_size, Overstap__Envelope **out,
		    const char **why)
{
	Overstap__Envelope *e;
	const char *why_batch;
	int r = -EBADMSG;

	/* libzmq enforces ZMQ_MAXMSGSIZE on the network; this holds for any path. */
	if (len > max_size)
		return s_fail(why, "message too large", -EMSGSIZE);
	e = overstap__envelope__unpack(NULL, len, buf);
	if (!e)
		return s_fail(why, "not a valid envelope", -EBADMSG);
	/* protobuf-c hands strings over NUL-terminated: "id\0junk" reads as "id",
	 * and a duplicated sub-message is merged differently than other
	 * implementations do. Either way we would check the signature over, and
	 * act on, something other than what was sent: accept only bytes that
	 * re-encode to exactly their own length. */
	if (overstap__envelope__get_packed_size(e) != len) {
		r = s_fail(why, "envelope is not canonically encoded (NUL in a text field?)", -EBADMSG);
		goto bad;
	}
	if (e->version != ENVELOPE_VERSION) {
		r = s_fail(why, ENVELOPE_VERSION_REASON, -EPROTO);
		goto bad;
	}
	if (!crypto_uuid_valid(e->message_id)) {
		r = s_fail(why, "message id is not a UUID", -EBADMSG);
		goto bad;
	}
	if (!config_institution_id_valid(e->sender) || !config_institution_id_valid(e->recipient)) {
		r = s_fail(why, "sender or recipient is not an institution id", -EBADMSG);
		goto bad;
	}
	if (!envelope_body(e)) {
		r = s_fail(why, "no known body", -EBADMSG);
		goto bad;
	}
	if (e->signature.len != CRYPTO_SIG_LEN) {
		r = s_fail(why, "missing or malformed signature", -EBADMSG);
		goto bad;
	}
	if ((why_batch = envelope_batch_shape(e))) {
		r = s_fail(why, why_batch, -EBADMSG);
		goto bad;
	}
	*out = e;
	return 0;
bad:
	overstap__envelope__free_unpacked(e, NULL);
	return r;
}

int envelope_peek_id(const uint8_t *buf, size_t len, char mid[CRYPTO_UUID_STR_LEN + 1])
{
	Overstap__Envelope *e = overstap__envelope__unpack(NULL, len, buf);
	int r = -EBADMSG;

	if (e && crypto_uuid_valid(e->message_id)) {
		str_copy(mid, CRYPTO_UUID_STR_LEN + 1, e->message_id);
		r = 0;
	}
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	return r;
}

int envelope_verify(const Overstap__Envelope *e, crypto_sigkey *sender_key)
{
	uint8_t *input = NULL;
	size_t ilen = 0;
	int r;

	if (e->batch_size)
		return envelope_batch_verify(e, sender_key);
	if (e->batch_index || e->n_batch_path)
		return -EBADMSG;
	if ((r = envelope_signing_input(e, 0, &input, &ilen)) < 0)
		return r;
	r = crypto_verify(sender_key, input, ilen, e->signature.data, e->signature.len);
	free(input);
	return r < 0 ? -EBADMSG : 0;
}

const char *envelope_time_check(int64_t created_at, int64_t now_ms, int64_t max_skew_s)
{
	/* A subtraction cannot overflow here: both sides are in range. */
	if (created_at < ENV_MIN_CREATED_AT)
		return "created_at before 2020-01-01 (no clock, or not a real time)";
	if (now_ms >= ENV_MIN_CREATED_AT && created_at - now_ms > max_skew_s * 1000)
		return "created_at in the future beyond [network] max_clock_skew_s (sender's clock "
		       "is wrong)";
	return NULL;
}

/* A text field of a body under text_check() (util.h), the rule the CSV
 * imports apply too. The reasons are static, one per field and problem (acks
 * carry them, counters count them by address): "FIELD: REASON" as the CSV
 * import says "FILE:LINE: column: REASON", except that a length problem keeps
 * the field group's older message. */
struct s_text {
	const char *reason[TEXT_BAD_COUNT];
};
/* NOLINTBEGIN(bugprone-macro-parentheses): literals that concatenate */
#define S_TEXT(field, too_long)								\
	{ { [TEXT_BAD_UTF8] = field ": not valid UTF-8", [TEXT_TOO_LONG] = too_long,	\
	    [TEXT_CONTROL] = field ": contains a control character",			\
	    [TEXT_BIDI] = field ": contains a bidirectional override or isolate" } }
/* NOLINTEND(bugprone-macro-parentheses) */

static const struct s_text s_t_pgn = S_TEXT("handover pgn", "handover field too long"),
	s_t_given = S_TEXT("handover given_name", "handover field too long"),
	s_t_family = S_TEXT("handover family_name", "handover field too long"),
	s_t_tussen = S_TEXT("handover tussenvoegsel", "handover field too long"),
	s_t_cohort = S_TEXT("handover cohort", "handover field too long"),
	s_t_basis = S_TEXT("handover basis", "handover field too long"),
	s_t_code = S_TEXT("handover support need code", "support need too long"),
	s_t_note = S_TEXT("handover support need note", "support need too long"),
	s_t_mname = S_TEXT("handover mentor name", "mentor contact too long"),
	s_t_memail = S_TEXT("handover mentor email", "mentor contact too long"),
	s_t_mphone = S_TEXT("handover mentor phone", "mentor contact too long"),
	s_t_remarks = S_TEXT("handover inzage remarks", "inzage record malformed"),
	s_t_recorded = S_TEXT("handover inzage recorded_by", "inzage record malformed"),
	s_t_disagree = S_TEXT("handover inzage disagreement", "inzage record malformed"),
	s_t_reason = S_TEXT("ack reason", "ack reason too long"),
	s_t_item = S_TEXT("erasure receipt item", "erasure receipt item malformed");

/* NULL, or f's reason for what is wrong with s. */
static const char *s_text(const struct s_text *f, const char *s, size_t max, unsigned flags)
{
	return f->reason[text_check(s, max, flags)];
}

static int s_date_ok(const char *s, int required)
{
	return (!required && s[0] == '\0') || date_valid(s, NULL, NULL, NULL);
}

const char *envelope_assertion_check(const Overstap__ConsentAssertion *a)
{
	if (!crypto_uuid_valid(a->consent_id))
		return "consent assertion: id is not a UUID";
	if (!consent_purpose_from_str(a->purpose) || !consent_grantor_from_str(a->grantor))
		return "consent assertion: unknown purpose or grantor";
	if (strcmp(a->counterpart, "*") != 0 && !config_institution_id_valid(a->counterpart))
		return "consent assertion: counterpart is not an institution id";
	if (!s_date_ok(a->granted_at, 1) || !s_date_ok(a->valid_until, 0))
		return "consent assertion: date malformed";
	return NULL;
}

int envelope_assertion_in_force(const Overstap__ConsentAssertion *a, const char *purpose,
				const char *me, const char *today)
{
	return strcmp(a->purpose, purpose) == 0 &&
	       (strcmp(a->counterpart, "*") == 0 || strcmp(a->counterpart, me) == 0) &&
	       strcmp(a->granted_at, today) <= 0 &&
	       (!a->valid_until[0] || strcmp(a->valid_until, today) >= 0);
}

/* Every body is decoded the same way: it must decode, re-encode to exactly
 * the bytes received (canonical: no unknown fields, no NUL in text, so the
 * signature covers what we store), then pass its own checks. The reasons are
 * static strings: they are counted by address and sent back in acks. */
struct s_body {
	const ProtobufCMessageDescriptor *desc;
	const char *undecodable, *uncanonical;
	const char *(*check)(const void *m);	/* NULL or the reason to refuse */
};

static int s_unpack(const struct s_body *b, const ProtobufCBinaryData *body, void **out,
		    const char **why)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(b->desc, NULL, body->len, body->data);
	const char *bad;

	if (!m)
		return s_fail(why, b->undecodable, -EBADMSG);
	bad = protobuf_c_message_get_packed_size(m) != body->len ? b->uncanonical : b->check(m);
	if (bad) {
		protobuf_c_message_free_unpacked(m, NULL);
		return s_fail(why, bad, -EBADMSG);
	}
	*out = m;
	return 0;
}

/* The inzage record, when there is one. Their view (disagreement) is free
 * text like the remarks, with the same limit. A view with agrees other than
 * NO contradicts itself: the reader could not tell whether they agree, so
 * such a dossier is refused rather than shown either way. NO without a view
 * is clear and accepted (our own daemon asks for the view; a peer may not).
 * UNSPECIFIED is a sender that did not ask (before OSO's question). */
static const char *s_inzage_check(const Overstap__Inzage *z)
{
	const char *bad;

	if (!z)
		return NULL;
	if ((bad = s_text(&s_t_remarks, z->remarks, ENV_MAX_REMARKS, TEXT_LINES)) ||
	    (bad = s_text(&s_t_recorded, z->recorded_by, ENV_MAX_TEXT, 0)) ||
	    (bad = s_text(&s_t_disagree, z->disagreement, ENV_MAX_REMARKS, TEXT_LINES)))
		return bad;
	if (!s_date_ok(z->reviewed_on, 1) ||
	    (z->agrees != OVERSTAP__TRISTATE__TRI_UNSPECIFIED &&
	     z->agrees != OVERSTAP__TRISTATE__TRI_YES && z->agrees != OVERSTAP__TRISTATE__TRI_NO))
		return "inzage record malformed";
	if (z->disagreement[0] && z->agrees != OVERSTAP__TRISTATE__TRI_NO)
		return "handover inzage disagreement: given although agrees is not no";
	return NULL;
}

static const char *s_handover_check(const void *msg)
{
	const Overstap__Handover *h = msg;
	const char *bad = NULL;

	if (!crypto_uuid_valid(h->record_id))
		return "handover record id is not a UUID";
	if ((bad = s_text(&s_t_pgn, h->pgn, 16, 0)) ||
	    (bad = s_text(&s_t_given, h->given_name, ENV_MAX_TEXT, 0)) ||
	    (bad = s_text(&s_t_family, h->family_name, ENV_MAX_TEXT, 0)) ||
	    (bad = s_text(&s_t_tussen, h->tussenvoegsel, ENV_MAX_TEXT, 0)) ||
	    (bad = s_text(&s_t_cohort, h->cohort, 9, 0)) || (bad = s_text(&s_t_basis, h->basis, 16, 0)))
		return bad;
	if (!s_date_ok(h->birth_date, 1) || !s_date_ok(h->exit_date, 1) ||
	    !s_date_ok(h->registered_on, 0))
		return "handover date malformed";
	if (h->n_support_needs > ENV_MAX_SUPPORT_NEEDS)
		return "too many support needs";
	/* A note may span lines, as the CSV's support_needs column may. */
	for (size_t i = 0; i < h->n_support_needs; i++)
		if ((bad = s_text(&s_t_code, h->support_needs[i]->code, 64, 0)) ||
		    (bad = s_text(&s_t_note, h->support_needs[i]->note, ENV_MAX_TEXT, TEXT_LINES)))
			return bad;
	if (h->mentor && ((bad = s_text(&s_t_mname, h->mentor->name, ENV_MAX_TEXT, 0)) ||
			  (bad = s_text(&s_t_memail, h->mentor->email, ENV_MAX_TEXT, 0)) ||
			  (bad = s_text(&s_t_mphone, h->mentor->phone, 64, 0))))
		return bad;
	if (h->n_consents > ENV_MAX_CONSENTS)
		return "too many consent assertions";
	for (size_t i = 0; !bad && i < h->n_consents; i++)
		bad = envelope_assertion_check(h->consents[i]);
	return bad ? bad : s_inzage_check(h->inzage);
}

/* Status and Outcome share their checks: the event must be of the right
 * kind (outcomes.c knows which), the level present exactly when needed. */
static const char *s_event_check(const char *record_id, const char *name, const char *date,
				 unsigned level, int want_status)
{
	enum outcome_event ev = outcome_event_from_str(name);

	if (!crypto_uuid_valid(record_id))
		return "record id is not a UUID";
	if (ev == OUTCOME_EV_UNKNOWN || outcome_event_is_status(ev) != want_status)
		return want_status ? "unknown status" : "unknown outcome";
	if (!s_date_ok(date, 1))
		return "event date malformed";
	if (outcome_event_needs_level(ev) ? level < OUTCOME_LEVEL_MIN || level > OUTCOME_LEVEL_MAX
					  : level != 0)
		return "level missing, out of range, or given where none belongs";
	return NULL;
}

static const char *s_status_check(const void *msg)
{
	const Overstap__Status *m = msg;

	return s_event_check(m->record_id, m->status, m->date, 0, 1);
}

static const char *s_outcome_check(const void *msg)
{
	const Overstap__Outcome *m = msg;
	const char *bad = s_event_check(m->record_id, m->outcome, m->date, m->level, 0);

	if (!bad && !m->consent)
		bad = "outcome without a consent assertion";
	return bad ? bad : envelope_assertion_check(m->consent);
}

static const char *s_registration_check(const void *msg)
{
	const Overstap__Registration *m = msg;

	if (pgn_check(m->pgn, NULL) != 0)
		return "registration pgn fails the 11-test";
	return s_date_ok(m->registered_on, 1) ? NULL : "registration date malformed";
}

static const char *s_ack_check(const void *msg)
{
	const Overstap__Ack *a = msg;
	const char *bad;

	if (a->n_message_ids > ENV_MAX_ACK_IDS)
		return "too many ids in ack";
	if ((bad = s_text(&s_t_reason, a->reason, ENV_MAX_TEXT, 0)))
		return bad;
	for (size_t i = 0; i < a->n_message_ids; i++)
		if (!crypto_uuid_valid(a->message_ids[i]))
			return "ack names a malformed message id";
	return NULL;
}

static const char *s_withdrawal_check(const void *msg)
{
	const Overstap__Withdrawal *m = msg;

	if (!crypto_uuid_valid(m->record_id))
		return "withdrawal record id is not a UUID";
	if (m->n_consent_ids > ENV_MAX_CONSENTS)
		return "too many consents in a withdrawal";
	if (!s_date_ok(m->withdrawn_on, 1))
		return "withdrawal date malformed";
	if (strcmp(m->reason, "withdrawn") != 0 && strcmp(m->reason, "erased") != 0)
		return "withdrawal reason unknown";
	for (size_t i = 0; i < m->n_consent_ids; i++)
		if (!crypto_uuid_valid(m->consent_ids[i]))
			return "withdrawal names a malformed consent id";
	return NULL;
}

static const char *s_receipt_check(const void *msg)
{
	const Overstap__ErasureReceipt *m = msg;

	if (!crypto_uuid_valid(m->withdrawal_id) || !crypto_uuid_valid(m->record_id))
		return "erasure receipt ids malformed";
	if (m->n_consent_ids > ENV_MAX_CONSENTS || m->n_erased > ENV_MAX_CONSENTS)
		return "erasure receipt too long";
	if (m->erased_at <= 0)
		return "erasure receipt without a time";
	for (size_t i = 0; i < m->n_consent_ids; i++)
		if (!crypto_uuid_valid(m->consent_ids[i]))
			return "erasure receipt names a malformed consent id";
	for (size_t i = 0; i < m->n_erased; i++) {
		const char *bad = s_text(&s_t_item, m->erased[i], 64, 0);

		if (bad || !m->erased[i][0])
			return bad ? bad : "erasure receipt item malformed";
	}
	return NULL;
}

static const char *s_checkpoint_check(const void *msg)
{
	const Overstap__AuditCheckpoint *m = msg;

	if (m->seq > INT64_MAX || m->yours_seq > INT64_MAX || m->since_seq > m->seq)
		return "audit checkpoint seq out of range";
	/* seq 0 is an empty chain (all-zero head); a head is always 32 bytes */
	if (m->head.len != 32 || (m->yours_seq ? m->yours_head.len != 32 : m->yours_head.len != 0) ||
	    (m->since_seq ? m->since_head.len != 32 : m->since_head.len != 0))
		return "audit checkpoint head malformed";
	return NULL;
}

static const char *s_notice_check(const void *msg)
{
	const Overstap__ConsentNotice *m = msg;

	if (!crypto_uuid_valid(m->record_id))
		return "consent notice record id is not a UUID";
	if (!m->consent)
		return "consent notice without a consent";
	return envelope_assertion_check(m->consent);
}

#define S_BODY(var, desc, name, check) \
	static const struct s_body var = { &(desc), name " body does not decode", \
					   name " is not canonically encoded", check }
static const struct s_body s_handover = {
	&overstap__handover__descriptor, "handover body does not decode",
	"handover is not canonically encoded (NUL in a text field?)", s_handover_check
};
S_BODY(s_status, overstap__status__descriptor, "status", s_status_check);
S_BODY(s_outcome, overstap__outcome__descriptor, "outcome", s_outcome_check);
S_BODY(s_registration, overstap__registration__descriptor, "registration", s_registration_check);
S_BODY(s_ack, overstap__ack__descriptor, "ack", s_ack_check);
S_BODY(s_withdrawal, overstap__withdrawal__descriptor, "withdrawal", s_withdrawal_check);
S_BODY(s_receipt, overstap__erasure_receipt__descriptor, "erasure receipt", s_receipt_check);
S_BODY(s_checkpoint, overstap__audit_checkpoint__descriptor, "audit checkpoint",
       s_checkpoint_check);
S_BODY(s_notice, overstap__consent_notice__descriptor, "consent notice", s_notice_check);

int envelope_handover_unpack(const ProtobufCBinaryData *body, Overstap__Handover **out,
			     const char **why)
{
	return s_unpack(&s_handover, body, (void **)out, why);
}

int envelope_status_unpack(const ProtobufCBinaryData *body, Overstap__Status **out, const char **why)
{
	return s_unpack(&s_status, body, (void **)out, why);
}

int envelope_outcome_unpack(const ProtobufCBinaryData *body, Overstap__Outcome **out,
			    const char **why)
{
	return s_unpack(&s_outcome, body, (void **)out, why);
}

int envelope_registration_unpack(const ProtobufCBinaryData *body, Overstap__Registration **out,
				 const char **why)
{
	return s_unpack(&s_registration, body, (void **)out, why);
}

int envelope_ack_unpack(const ProtobufCBinaryData *body, Overstap__Ack **out, const char **why)
{
	return s_unpack(&s_ack, body, (void **)out, why);
}

int envelope_withdrawal_unpack(const ProtobufCBinaryData *body, Overstap__Withdrawal **out,
			       const char **why)
{
	return s_unpack(&s_withdrawal, body, (void **)out, why);
}

int envelope_receipt_unpack(const ProtobufCBinaryData *body, Overstap__ErasureReceipt **out,
			    const char **why)
{
	return s_unpack(&s_receipt, body, (void **)out, why);
}

int envelope_checkpoint_unpack(const ProtobufCBinaryData *body, Overstap__AuditCheckpoint **out,
			       const char **why)
{
	return s_unpack(&s_checkpoint, body, (void **)out, why);
}

int envelope_notice_unpack(const ProtobufCBinaryData *body, Overstap__ConsentNotice **out,
			   const char **why)
{
	return s_unpack(&s_notice, body, (void **)out, why);
}

void envelope_assertion_from(Overstap__ConsentAssertion *a, const struct consent *k)
{
	overstap__consent_assertion__init(a);
	a->consent_id = (char *)k->id;
	a->purpose = (char *)consent_purpose_str(k->purpose);
	a->counterpart = (char *)k->counterpart;
	a->grantor = (char *)consent_grantor_str(k->grantor);
	a->granted_at = (char *)k->granted_at;
	a->valid_until = (char *)k->valid_until;
}

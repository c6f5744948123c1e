/* dossier: overstap.Handover as text and JSON for overstap's show commands. */
#include "dossier.h"

#include <errno.h>
#include <string.h>

#include "util.h"
#include "vocab.h"
#include "i18n.h"

int dossier_unpack(const ProtobufCBinaryData *bytes, Overstap__Handover **out)
{
	*out = NULL;
	if (!bytes->data || bytes->len == 0)
		return -ENODATA;
	*out = overstap__handover__unpack(NULL, bytes->len, bytes->data);
	return *out ? 0 : -EBADMSG;
}

void dossier_free(Overstap__Handover **h)
{
	if (*h)
		overstap__handover__free_unpacked(*h, NULL);
	*h = NULL;
}

/* The canonical name of an enum value: NULL when unspecified, "unknown (N)"
 * for a value from a newer peer this client has no name for. */
static const char *s_enum(const char *name, int v, char *buf, size_t len)
{
	if (name || v == 0)
		return name;
	snprintf(buf, len, "unknown (%d)", v);
	return buf;
}

#define ENUM_STR(fn, v, buf) s_enum(fn(v), (int)(v), (buf), sizeof(buf))

static const char *s_dash(const char *s) { return s && *s ? s : "-"; }

/* "value1, value2" of the non-empty ones among n strings. */
static const char *s_join(char *buf, size_t len, const char *sep, const char *const *v, size_t n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && at < len; i++) {
		if (!v[i] || !*v[i])
			continue;
		int w = snprintf(buf + at, len - at, "%s%s", at ? sep : "", v[i]);
		at += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

static void s_print_support(FILE *f, const char *indent, const Overstap__Handover *h)
{
	char line[512];

	if (h->n_support_needs == 0)
		out_field(f, indent, _("support needs"), _("none recorded"));
	for (size_t i = 0; i < h->n_support_needs; i++) {
		const Overstap__SupportNeed *s = h->support_needs[i];
		const char *parts[] = { s->code, s->note };

		out_field(f, indent, i == 0 ? _("support needs") : "",
			  s_join(line, sizeof(line), ": ", parts, ARRAY_SIZE(parts)));
	}
}

static void s_print_inzage(FILE *f, const char *indent, const Overstap__Inzage *z)
{
	char buf[64], line[512], pad[64];

	if (!z) {
		out_field(f, indent, _("inzage"), _("not recorded"));
		return;
	}
	snprintf(line, sizeof(line), "%s on %s, recorded by %s",
		 s_dash(ENUM_STR(vocab_reviewer_str, z->reviewer, buf)), s_dash(z->reviewed_on),
		 s_dash(z->recorded_by));
	out_field(f, indent, _("inzage"), line);
	/* OSO inzage rules: whether they agree; a dossier from before the
	 * question was asked says so rather than guess */
	out_field(f, indent, _("agrees"),
		  z->agrees == OVERSTAP__TRISTATE__TRI_YES ? _("yes") :
		  z->agrees == OVERSTAP__TRISTATE__TRI_NO ? _("no: their view is below") : _("not asked"));
	/* Remarks and their view are the family's own words and may span
	 * lines: keep them whole. */
	snprintf(pad, sizeof(pad), "%s%*s", indent, 18, "");
	if (z->agrees == OVERSTAP__TRISTATE__TRI_NO || *z->disagreement) {
		fprintf(f, "%s%-16s  ", indent, _("their view"));
		out_block(f, pad, *z->disagreement ? z->disagreement : _("not given"));
		fputc('\n', f);
	}
	fprintf(f, "%s%-16s  ", indent, _("remarks"));
	out_block(f, pad, *z->remarks ? z->remarks : _("none"));
	fputc('\n', f);
}

void dossier_print(FILE *f, const char *indent, const Overstap__Handover *h)
{
	char b1[32], b2[32], line[512];
	/* "Jan de Vries": the tussenvoegsel travels apart, and is shown between. */
	const char *name[] = { h->given_name, h->tussenvoegsel, h->family_name };
	const char *advice = ENUM_STR(vocab_advice_str, h->advice, b1);

	out_field(f, indent, _("record id"), h->record_id);
	out_field(f, indent, _("name"), s_join(line, sizeof(line), " ", name, ARRAY_SIZE(name)));
	out_field(f, indent, _("pgn"), h->pgn);
	out_field(f, indent, _("birth date"), h->birth_date);
	out_field(f, indent, _("program"), ENUM_STR(vocab_program_str, h->program, b1));
	out_field(f, indent, _("cohort"), h->cohort);
	out_field(f, indent, _("exit date"), h->exit_date);
	out_field(f, indent, _("destination"), ENUM_STR(vocab_destination_str, h->destination, b1));
	snprintf(line, sizeof(line), "%s%s", s_dash(advice),
		 h->advice_followed == OVERSTAP__TRISTATE__TRI_NO ? ", not followed (zelfmelder)" :
		 h->advice_followed == OVERSTAP__TRISTATE__TRI_YES ? ", followed" : "");
	out_field(f, indent, _("advice"), line);
	snprintf(line, sizeof(line), "taal %s, rekenen %s",
		 s_dash(ENUM_STR(vocab_level_str, h->level_taal, b1)),
		 s_dash(ENUM_STR(vocab_level_str, h->level_rekenen, b2)));
	out_field(f, indent, _("levels"), line);
	if (h->diploma)
		out_field(f, indent, _("diploma"), ENUM_STR(vocab_diploma_str, h->diploma, b1));
	s_print_support(f, indent, h);
	if (h->mentor) {
		const char *m[] = { h->mentor->name, h->mentor->email, h->mentor->phone };
		out_field(f, indent, _("mentor"), s_join(line, sizeof(line), ", ", m, ARRAY_SIZE(m)));
	} else {
		out_field(f, indent, _("mentor"), NULL);
	}
	s_print_inzage(f, indent, h->inzage);
	out_field(f, indent, _("basis"), h->basis);
	out_field(f, indent, _("registered on"), h->registered_on);
	for (size_t i = 0; i < h->n_consents; i++) {
		const Overstap__ConsentAssertion *a = h->consents[i];

		snprintf(line, sizeof(line), "%s by the %s, from %s%s%s (%s)", a->purpose, a->grantor,
			 a->granted_at, a->valid_until[0] ? " until " : "", a->valid_until, a->consent_id);
		out_field(f, indent, i ? "" : _("consents"), line);
	}
}

static json_t *s_json_support(const Overstap__Handover *h)
{
	json_t *a = json_array();
	int e = 0;

	for (size_t i = 0; i < h->n_support_needs; i++) {
		json_t *o = json_object();
		int oe = 0;

		oe |= out_json_set_str(o, "code", h->support_needs[i]->code);
		oe |= out_json_set_str(o, "note", h->support_needs[i]->note);
		e |= out_json_append(a, out_json_done(o, oe));
	}
	return out_json_done(a, e);
}

static json_t *s_json_mentor(const Overstap__MentorContact *m)
{
	json_t *o;
	int e = 0;

	if (!m)
		return json_null();
	o = json_object();
	e |= out_json_set_str(o, "name", m->name);
	e |= out_json_set_str(o, "email", m->email);
	e |= out_json_set_str(o, "phone", m->phone);
	return out_json_done(o, e);
}

static json_t *s_json_inzage(const Overstap__Inzage *z)
{
	char b[32];
	json_t *o;
	int e = 0;

	if (!z)
		return json_null();
	o = json_object();
	e |= out_json_set_str(o, "reviewer", ENUM_STR(vocab_reviewer_str, z->reviewer, b));
	e |= out_json_set_str(o, "reviewed_on", z->reviewed_on);
	e |= out_json_set_str(o, "remarks", z->remarks);
	e |= out_json_set_str(o, "recorded_by", z->recorded_by);
	/* "" = not asked: a dossier recorded before the question existed */
	e |= out_json_set_str(o, "agrees", z->agrees ? ENUM_STR(vocab_yesno_str, z->agrees, b) : "");
	e |= out_json_set_str(o, "disagreement", z->disagreement);
	return out_json_done(o, e);
}

static json_t *s_json_consents(const Overstap__Handover *h)
{
	json_t *a = json_array();
	int e = 0;

	for (size_t i = 0; i < h->n_consents; i++) {
		const Overstap__ConsentAssertion *c = h->consents[i];
		json_t *o = json_object();
		int oe = 0;

		oe |= out_json_set_str(o, "consent_id", c->consent_id);
		oe |= out_json_set_str(o, "purpose", c->purpose);
		oe |= out_json_set_str(o, "counterpart", c->counterpart);
		oe |= out_json_set_str(o, "grantor", c->grantor);
		oe |= out_json_set_str(o, "granted_at", c->granted_at);
		oe |= out_json_set_str(o, "valid_until", c->valid_until);
		e |= out_json_append(a, out_json_done(o, oe));
	}
	return out_json_done(a, e);
}

json_t *dossier_json(const Overstap__Handover *h)
{
	char b[32];
	json_t *o;
	int e = 0;

	if (!h)
		return json_null();
	o = json_object();
	e |= out_json_set_str(o, "record_id", h->record_id);
	e |= out_json_set_str(o, "pgn", h->pgn);
	e |= out_json_set_str(o, "given_name", h->given_name);
	e |= out_json_set_str(o, "tussenvoegsel", h->tussenvoegsel);
	e |= out_json_set_str(o, "family_name", h->family_name);
	e |= out_json_set_str(o, "birth_date", h->birth_date);
	e |= out_json_set_str(o, "program", ENUM_STR(vocab_program_str, h->program, b));
	e |= out_json_set_str(o, "cohort", h->cohort);
	e |= out_json_set_str(o, "exit_date", h->exit_date);
	e |= out_json_set_str(o, "destination", ENUM_STR(vocab_destination_str, h->destination, b));
	e |= out_json_set_str(o, "advice", ENUM_STR(vocab_advice_str, h->advice, b));
	e |= out_json_set_str(o, "advice_followed", ENUM_STR(vocab_yesno_str, h->advice_followed, b));
	e |= out_json_set_str(o, "level_taal", ENUM_STR(vocab_level_str, h->level_taal, b));
	e |= out_json_set_str(o, "level_rekenen", ENUM_STR(vocab_level_str, h->level_rekenen, b));
	e |= out_json_set_str(o, "diploma", h->diploma ? ENUM_STR(vocab_diploma_str, h->diploma, b) : "");
	e |= out_json_set(o, "support_needs", s_json_support(h));
	e |= out_json_set(o, "mentor", s_json_mentor(h->mentor));
	e |= out_json_set(o, "inzage", s_json_inzage(h->inzage));
	e |= out_json_set_str(o, "basis", h->basis);
	e |= out_json_set_str(o, "registered_on", h->registered_on);
	e |= out_json_set(o, "consents", s_json_consents(h));
	return out_json_done(o, e);
}

int dossier_show(json_t *obj, const ProtobufCBinaryData *bytes)
{
	Overstap__Handover *h = NULL;
	int r = dossier_unpack(bytes, &h);

	if (obj) {
		if (out_json_set(obj, "dossier", dossier_json(h)) < 0)
			r = -ENOMEM;
	} else if (r == -ENODATA) {
		puts(_("\ndossier: none held (erased, or never stored)"));
	} else if (r == 0) {
		puts(_("\ndossier"));
		dossier_print(stdout, "  ", h);
	}
	dossier_free(&h);
	return r == -EBADMSG || r == -ENOMEM ? r : 0;
}

static const struct table_col s_tl_cols[] = {
	{ N_("DATE"), 0 }, { N_("EVENT"), 0 }, { N_("LEVEL"), 1 }, { N_("FROM/TO"), 0 },
	{ N_("STATE"), 0 },
	{ N_("BASIS"), 0 }, { N_("NOTE"), 0 },
};

static json_t *s_event_json(const Overstapctl__EventRow *ev)
{
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "date", ev->date);
	e |= out_json_set_str(o, "event", ev->event);
	e |= out_json_set_int(o, "level", ev->level);
	e |= out_json_set(o, "inbound", json_boolean(ev->inbound));
	e |= out_json_set_str(o, "peer", ev->peer);
	e |= out_json_set_str(o, "state", ev->state);
	e |= out_json_set_str(o, "consent_id", ev->consent_id);
	e |= out_json_set_str(o, "actor", ev->actor);
	e |= out_json_set_time(o, "at", ev->at);
	e |= out_json_set_str(o, "reason", ev->reason);
	return out_json_done(o, e);
}

int dossier_timeline(json_t *obj, Overstapctl__EventRow *const *rows, size_t n)
{
	struct table *t;

	if (obj) {
		json_t *a = json_array();
		int e = 0;

		for (size_t i = 0; i < n; i++)
			e |= out_json_append(a, s_event_json(rows[i]));
		return out_json_set(obj, "timeline", out_json_done(a, e));
	}
	puts(_("\ntimeline"));
	if (n == 0) {
		puts(_("  no statuses or outcomes yet"));
		return 0;
	}
	if (!(t = table_new(s_tl_cols, ARRAY_SIZE(s_tl_cols))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const Overstapctl__EventRow *e = rows[i];
		char level[12] = "";

		if (e->level)
			snprintf(level, sizeof(level), "%u", e->level);
		const char *cells[] = { e->date, e->event, level, e->peer, e->state,
					e->consent_id[0] ? "consent" : "statute", e->reason };
		if (table_add(t, cells) < 0)
			break;
	}
	table_print(t, stdout);
	table_free(&t);
	return 0;
}

static const struct table_col s_wd_cols[] = {
	{ N_("SENT"), 0 }, { N_("TO"), 0 }, { N_("REASON"), 0 }, { N_("CONSENTS"), 1 },
	{ N_("RECEIPT"), 0 },
	{ N_("ERASED"), 0 },
};

static json_t *s_strings_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	int e = 0;

	for (size_t i = 0; i < n; i++)
		e |= out_json_append(a, out_json_str(v[i]));
	return out_json_done(a, e);
}

static json_t *s_receipt_json(const Overstapctl__WithdrawalRow *w)
{
	json_t *o;
	int e = 0;

	if (!w->receipt_id[0])
		return json_null();
	o = json_object();
	e |= out_json_set_str(o, "message_id", w->receipt_id);
	e |= out_json_set_time(o, "received_at", w->receipt_at);
	e |= out_json_set_time(o, "erased_at", w->erased_at);
	e |= out_json_set(o, "erased", s_strings_json(w->erased, w->n_erased));
	return out_json_done(o, e);
}

static json_t *s_withdrawal_json(const Overstapctl__WithdrawalRow *w)
{
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "message_id", w->message_id);
	e |= out_json_set_str(o, "peer", w->peer);
	e |= out_json_set_str(o, "reason", w->reason);
	e |= out_json_set_time(o, "at", w->at);
	e |= out_json_set_str(o, "actor", w->actor);
	e |= out_json_set(o, "consent_ids", s_strings_json(w->consent_ids, w->n_consent_ids));
	e |= out_json_set(o, "receipt", s_receipt_json(w));
	return out_json_done(o, e);
}

int dossier_withdrawals(json_t *obj, Overstapctl__WithdrawalRow *const *rows, size_t n)
{
	struct table *t;

	if (obj) {
		json_t *a = json_array();
		int e = 0;

		for (size_t i = 0; i < n; i++)
			e |= out_json_append(a, s_withdrawal_json(rows[i]));
		return out_json_set(obj, "withdrawals", out_json_done(a, e));
	}
	if (n == 0)
		return 0;
	puts(_("\nwithdrawals (told to the receiver, with its erasure receipt)"));
	if (!(t = table_new(s_wd_cols, ARRAY_SIZE(s_wd_cols))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const Overstapctl__WithdrawalRow *w = rows[i];
		char sent[OUT_TIME_LEN], rcpt[OUT_TIME_LEN], nc[12], erased[256] = "";
		size_t pos = 0;

		for (size_t k = 0; k < w->n_erased && pos < sizeof(erased); k++)
			pos += (size_t)snprintf(erased + pos, sizeof(erased) - pos, "%s%s", k ? ", " : "",
						w->erased[k]);
		snprintf(nc, sizeof(nc), "%zu", w->n_consent_ids);
		const char *cells[] = { out_time(w->at, sent, "-"), w->peer, w->reason, nc,
					w->receipt_id[0] ? out_time(w->erased_at, rcpt, "-") : "awaited",
					erased };
		if (table_add(t, cells) < 0)
			break;
	}
	table_print(t, stdout);
	table_free(&t);
	return 0;
}

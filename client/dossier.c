/* dossier: overstap.Handover as text and JSON for overstap's show commands. */
#include "dossier.h"

#include <errno.h>
#include <string.h>

#include "util.h"
#include "vocab.h"

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
		out_field(f, indent, "support needs", "none recorded");
	for (size_t i = 0; i < h->n_support_needs; i++) {
		const Overstap__SupportNeed *s = h->support_needs[i];
		const char *parts[] = { s->code, s->note };

		out_field(f, indent, i == 0 ? "support needs" : "",
			  s_join(line, sizeof(line), ": ", parts, ARRAY_SIZE(parts)));
	}
}

static void s_print_inzage(FILE *f, const char *indent, const Overstap__Inzage *z)
{
	char buf[64], line[512], pad[64];

	if (!z) {
		out_field(f, indent, "inzage", "not recorded");
		return;
	}
	snprintf(line, sizeof(line), "%s on %s, recorded by %s",
		 s_dash(ENUM_STR(vocab_reviewer_str, z->reviewer, buf)), s_dash(z->reviewed_on),
		 s_dash(z->recorded_by));
	out_field(f, indent, "inzage", line);
	/* Remarks are the family's own words and may span lines: keep them whole. */
	snprintf(pad, sizeof(pad), "%s%*s", indent, 18, "");
	fprintf(f, "%s%-16s  ", indent, "remarks");
	out_block(f, pad, *z->remarks ? z->remarks : "none");
	fputc('\n', f);
}

void dossier_print(FILE *f, const char *indent, const Overstap__Handover *h)
{
	char b1[32], b2[32], line[512];
	const char *name[] = { h->given_name, h->family_name };
	const char *advice = ENUM_STR(vocab_advice_str, h->advice, b1);

	out_field(f, indent, "record id", h->record_id);
	out_field(f, indent, "name", s_join(line, sizeof(line), " ", name, ARRAY_SIZE(name)));
	out_field(f, indent, "pgn", h->pgn);
	out_field(f, indent, "birth date", h->birth_date);
	out_field(f, indent, "program", ENUM_STR(vocab_program_str, h->program, b1));
	out_field(f, indent, "cohort", h->cohort);
	out_field(f, indent, "exit date", h->exit_date);
	out_field(f, indent, "destination", ENUM_STR(vocab_destination_str, h->destination, b1));
	snprintf(line, sizeof(line), "%s%s", s_dash(advice),
		 h->advice_followed == OVERSTAP__TRISTATE__TRI_NO ? ", not followed (zelfmelder)" :
		 h->advice_followed == OVERSTAP__TRISTATE__TRI_YES ? ", followed" : "");
	out_field(f, indent, "advice", line);
	snprintf(line, sizeof(line), "taal %s, rekenen %s",
		 s_dash(ENUM_STR(vocab_level_str, h->level_taal, b1)),
		 s_dash(ENUM_STR(vocab_level_str, h->level_rekenen, b2)));
	out_field(f, indent, "levels", line);
	s_print_support(f, indent, h);
	if (h->mentor) {
		const char *m[] = { h->mentor->name, h->mentor->email, h->mentor->phone };
		out_field(f, indent, "mentor", s_join(line, sizeof(line), ", ", m, ARRAY_SIZE(m)));
	} else {
		out_field(f, indent, "mentor", NULL);
	}
	s_print_inzage(f, indent, h->inzage);
	out_field(f, indent, "basis", h->basis);
	out_field(f, indent, "registered on", h->registered_on);
	for (size_t i = 0; i < h->n_consents; i++) {
		const Overstap__ConsentAssertion *a = h->consents[i];

		snprintf(line, sizeof(line), "%s by the %s, from %s%s%s (%s)", a->purpose, a->grantor,
			 a->granted_at, a->valid_until[0] ? " until " : "", a->valid_until, a->consent_id);
		out_field(f, indent, i ? "" : "consents", line);
	}
}

static void s_json_support(struct json *j, const Overstap__Handover *h)
{
	json_array_begin(j, "support_needs");
	for (size_t i = 0; i < h->n_support_needs; i++) {
		json_object_begin(j, NULL);
		json_string(j, "code", h->support_needs[i]->code);
		json_string(j, "note", h->support_needs[i]->note);
		json_object_end(j);
	}
	json_array_end(j);
}

static void s_json_mentor_inzage(struct json *j, const Overstap__Handover *h)
{
	char b[32];

	if (h->mentor) {
		json_object_begin(j, "mentor");
		json_string(j, "name", h->mentor->name);
		json_string(j, "email", h->mentor->email);
		json_string(j, "phone", h->mentor->phone);
		json_object_end(j);
	} else {
		json_null(j, "mentor");
	}
	if (h->inzage) {
		json_object_begin(j, "inzage");
		json_string(j, "reviewer", ENUM_STR(vocab_reviewer_str, h->inzage->reviewer, b));
		json_string(j, "reviewed_on", h->inzage->reviewed_on);
		json_string(j, "remarks", h->inzage->remarks);
		json_string(j, "recorded_by", h->inzage->recorded_by);
		json_object_end(j);
	} else {
		json_null(j, "inzage");
	}
}

void dossier_json(struct json *j, const char *key, const Overstap__Handover *h)
{
	char b[32];

	if (!h) {
		json_null(j, key);
		return;
	}
	json_object_begin(j, key);
	json_string(j, "record_id", h->record_id);
	json_string(j, "pgn", h->pgn);
	json_string(j, "given_name", h->given_name);
	json_string(j, "family_name", h->family_name);
	json_string(j, "birth_date", h->birth_date);
	json_string(j, "program", ENUM_STR(vocab_program_str, h->program, b));
	json_string(j, "cohort", h->cohort);
	json_string(j, "exit_date", h->exit_date);
	json_string(j, "destination", ENUM_STR(vocab_destination_str, h->destination, b));
	json_string(j, "advice", ENUM_STR(vocab_advice_str, h->advice, b));
	json_string(j, "advice_followed", ENUM_STR(vocab_yesno_str, h->advice_followed, b));
	json_string(j, "level_taal", ENUM_STR(vocab_level_str, h->level_taal, b));
	json_string(j, "level_rekenen", ENUM_STR(vocab_level_str, h->level_rekenen, b));
	s_json_support(j, h);
	s_json_mentor_inzage(j, h);
	json_string(j, "basis", h->basis);
	json_string(j, "registered_on", h->registered_on);
	json_array_begin(j, "consents");
	for (size_t i = 0; i < h->n_consents; i++) {
		const Overstap__ConsentAssertion *a = h->consents[i];

		json_object_begin(j, NULL);
		json_string(j, "consent_id", a->consent_id);
		json_string(j, "purpose", a->purpose);
		json_string(j, "counterpart", a->counterpart);
		json_string(j, "grantor", a->grantor);
		json_string(j, "granted_at", a->granted_at);
		json_string(j, "valid_until", a->valid_until);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

int dossier_show(struct json *j, const ProtobufCBinaryData *bytes)
{
	Overstap__Handover *h = NULL;
	int r = dossier_unpack(bytes, &h);

	if (j) {
		dossier_json(j, "dossier", h);
	} else if (r == -ENODATA) {
		puts("\ndossier: none held (erased, or never stored)");
	} else if (r == 0) {
		puts("\ndossier");
		dossier_print(stdout, "  ", h);
	}
	dossier_free(&h);
	return r == -EBADMSG ? r : 0;
}

static const struct table_col s_tl_cols[] = {
	{ "DATE", 0 }, { "EVENT", 0 }, { "LEVEL", 1 }, { "FROM/TO", 0 }, { "STATE", 0 },
	{ "BASIS", 0 }, { "NOTE", 0 },
};

void dossier_timeline(struct json *j, Overstapctl__EventRow *const *rows, size_t n)
{
	struct table *t;

	if (j) {
		json_array_begin(j, "timeline");
		for (size_t i = 0; i < n; i++) {
			const Overstapctl__EventRow *e = rows[i];

			json_object_begin(j, NULL);
			json_string(j, "date", e->date);
			json_string(j, "event", e->event);
			json_uint(j, "level", e->level);
			json_bool(j, "inbound", e->inbound);
			json_string(j, "peer", e->peer);
			json_string(j, "state", e->state);
			json_string(j, "consent_id", e->consent_id);
			json_string(j, "actor", e->actor);
			json_int(j, "at", e->at);
			json_string(j, "reason", e->reason);
			json_object_end(j);
		}
		json_array_end(j);
		return;
	}
	puts("\ntimeline");
	if (n == 0) {
		puts("  no statuses or outcomes yet");
		return;
	}
	if (!(t = table_new(s_tl_cols, ARRAY_SIZE(s_tl_cols))))
		return;
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
}

static const struct table_col s_wd_cols[] = {
	{ "SENT", 0 }, { "TO", 0 }, { "REASON", 0 }, { "CONSENTS", 1 }, { "RECEIPT", 0 },
	{ "ERASED", 0 },
};

void dossier_withdrawals(struct json *j, Overstapctl__WithdrawalRow *const *rows, size_t n)
{
	struct table *t;

	if (j) {
		json_array_begin(j, "withdrawals");
		for (size_t i = 0; i < n; i++) {
			const Overstapctl__WithdrawalRow *w = rows[i];

			json_object_begin(j, NULL);
			json_string(j, "message_id", w->message_id);
			json_string(j, "peer", w->peer);
			json_string(j, "reason", w->reason);
			json_int(j, "at", w->at);
			json_string(j, "actor", w->actor);
			json_array_begin(j, "consent_ids");
			for (size_t k = 0; k < w->n_consent_ids; k++)
				json_string(j, NULL, w->consent_ids[k]);
			json_array_end(j);
			if (w->receipt_id[0]) {
				json_object_begin(j, "receipt");
				json_string(j, "message_id", w->receipt_id);
				json_int(j, "received_at", w->receipt_at);
				json_int(j, "erased_at", w->erased_at);
				json_array_begin(j, "erased");
				for (size_t k = 0; k < w->n_erased; k++)
					json_string(j, NULL, w->erased[k]);
				json_array_end(j);
				json_object_end(j);
			} else {
				json_null(j, "receipt");
			}
			json_object_end(j);
		}
		json_array_end(j);
		return;
	}
	if (n == 0)
		return;
	puts("\nwithdrawals (told to the receiver, with its erasure receipt)");
	if (!(t = table_new(s_wd_cols, ARRAY_SIZE(s_wd_cols))))
		return;
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
}

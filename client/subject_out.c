/* subject_out: the subject access report for a pupil and the parents, in
 * plain Dutch (design.md §3.11). It reads the evidence object (see
 * subject_out.h) and writes a letter: who we are, what we hold, to whom it
 * went and on what basis, the consents and their withdrawals, what came
 * back, and who did what when. Codes become words through the tables
 * below; staff appear by the role the action is theirs in; institutions by
 * name; the audit chain's MACs and raw details stay in the evidence.
 *
 * The text is Dutch by design, not by translation: this is the one document
 * overstap writes for families. When the gettext catalog comes (design.md
 * §10) these words become its Dutch side. */
#include "subject_out.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "out.h"
#include "report_out.h"
#include "util.h"

/* ---- words ---------------------------------------------------------------- */

struct s_word {
	const char *code;
	const char *nl;
};

static const char *s_word(const struct s_word *t, size_t n, const char *code)
{
	for (size_t i = 0; code && i < n; i++)
		if (strcmp(t[i].code, code) == 0)
			return t[i].nl;
	return NULL;
}

#define WORD(table, code) s_word(table, ARRAY_SIZE(table), code)

static const struct s_word s_programs[] = {
	{ "pro", "praktijkonderwijs (PrO)" },
	{ "vso_arbeid", "voortgezet speciaal onderwijs (VSO), uitstroom arbeid" },
	{ "vso_vervolg", "voortgezet speciaal onderwijs (VSO), uitstroom vervolgonderwijs" },
	{ "vso_dagbesteding", "voortgezet speciaal onderwijs (VSO), uitstroom dagbesteding" },
	{ "vmbo_b", "vmbo, basisberoepsgerichte leerweg" },
	{ "vmbo_k", "vmbo, kaderberoepsgerichte leerweg" },
	{ "vmbo_gt", "vmbo, gemengde of theoretische leerweg" },
	{ "isk", "internationale schakelklas (ISK)" },
	{ "so", "speciaal onderwijs (SO)" },
	{ "sbo", "speciaal basisonderwijs (SBO)" },
	{ "bao", "basisonderwijs" },
	{ "havo", "havo" },
	{ "vwo", "vwo" },
};

/* destinations and advices share their words */
static const struct s_word s_destinations[] = {
	{ "mbo_entree", "mbo, Entree-opleiding" }, { "entree", "mbo, Entree-opleiding" },
	{ "mbo_2", "mbo niveau 2" },		  { "mbo_3_4", "mbo niveau 3 of 4" },
	{ "vavo", "vavo (voortgezet algemeen volwassenenonderwijs)" },
	{ "ho", "hoger onderwijs" },		  { "vo", "voortgezet onderwijs" },
	{ "work", "werk" },			  { "day_care", "dagbesteding" },
	{ "none", "geen vervolg" },		  { "unknown", "nog niet bekend" },
};

static const struct s_word s_levels[] = {
	{ "none", "nog geen referentieniveau" }, { "1F", "1F" }, { "2F", "2F" }, { "3F", "3F" },
};

static const struct s_word s_support[] = {
	{ "extra_time", "extra tijd" },
	{ "small_group", "les in een kleine groep" },
	{ "fixed_mentor", "een vaste mentor" },
	{ "job_coach", "een jobcoach" },
	{ "language_support", "hulp bij taal" },
	{ "reading_support", "hulp bij lezen" },
	{ "math_support", "hulp bij rekenen" },
	{ "structure", "structuur en voorspelbaarheid" },
	{ "practical_learning", "praktisch leren" },
	{ "travel_training", "reistraining" },
	{ "social_work", "schoolmaatschappelijk werk" },
	{ "other", "andere ondersteuning" },
};

static const struct s_word s_people[] = {
	{ "pupil", "de leerling" }, { "parent", "een ouder" }, { "guardian", "de voogd" },
};

static const struct s_word s_purposes[] = {
	{ "handover", "het doorgeven van het overstapdossier aan de nieuwe school" },
	{ "follow_up", "terugkoppeling van de studievoortgang aan de vorige school" },
	{ "status", "melden of de leerling is aangemeld en ingeschreven" },
};

static const struct s_word s_methods[] = {
	{ "form", "een ondertekend formulier" },
	{ "digital", "digitaal ondertekend" },
	{ "email", "per e-mail" },
	{ "verbal_recorded", "mondeling, vastgelegd in een verslag" },
};

static const struct s_word s_bases[] = {
	{ "statute", "de wet (de school moet of mag dit doen zonder toestemming)" },
	{ "consent", "toestemming" },
};

/* The handover's state as the school shows it (control_show.c). */
static const struct s_word s_states[] = {
	{ "imported", "in voorbereiding" },
	{ "registered", "aangemeld bij de nieuwe school" },
	{ "ready", "klaar om door te geven" },
	{ "queued", "wordt doorgegeven" },
	{ "parked", "tegengehouden, wacht op de beheerder" },
	{ "delivered", "afgeleverd" },
	{ "cancelled", "niet doorgegeven" },
	{ "erased", "verwijderd" },
	{ "refused", "geweigerd" },
	{ "unknown", "onbekend" },
};

/* A message's state in the outbox (RegistrationSent.state, EventRow.state). */
static const struct s_word s_msg_states[] = {
	{ "queued", "wordt verstuurd" },   { "delivered", "afgeleverd" },
	{ "cancelled", "geannuleerd" },	   { "refused", "geweigerd" },
	{ "parked", "tegengehouden" },	   { "received", "ontvangen" },
	{ "unknown", "onbekend" },
};

static const struct s_word s_events[] = {
	{ "registered", "aangemeld" },
	{ "agreement_offered", "onderwijsovereenkomst aangeboden" },
	{ "not_enrolled", "niet ingeschreven" },
	{ "withdrawn", "aanmelding ingetrokken" },
	{ "enrolled", "ingeschreven" },
	{ "intake_held", "intakegesprek gehouden" },
	{ "still_enrolled", "nog steeds ingeschreven" },
	{ "diploma", "diploma behaald" },
	{ "progressed", "doorgestroomd naar een hoger niveau" },
	{ "switched", "van opleiding gewisseld" },
	{ "left_without_diploma", "zonder diploma vertrokken" },
};

/* Why a received dossier is gone (InboxDetail.erased_what). */
static const struct s_word s_erased_why[] = {
	{ "withdrawal", "omdat de toestemming is ingetrokken" },
	{ "retention", "omdat de bewaartermijn voorbij was" },
	{ "erase", "op verzoek (recht op verwijdering)" },
	{ "care_notes", "de zorgnotities zijn verwijderd omdat de toestemming is ingetrokken" },
};

/* What a receiver erased or stopped after a withdrawal (its receipt). */
static const struct s_word s_receipt_items[] = {
	{ "dossier", "het dossier" },
	{ "care_notes", "de zorgnotities" },
	{ "follow_up_reliance", "het gebruik van de toestemming voor terugkoppeling" },
	{ "dossier_already_erased", "niets meer: het dossier was al verwijderd" },
	{ "nothing_held", "niets: er was niets bewaard" },
};

#define S_ADMIN "een medewerker van de leerlingadministratie"

/* Audit actions: the role a staff member acts in (NULL: only the system or
 * another institution does this) and what happened, in a parent's words;
 * where a peer's message caused the entry, the peer is who did it. */
static const struct {
	const char *action;
	const char *role;
	const char *nl;
} s_actions[] = {
	{ "registration.recorded", "een mentor", "legde vast dat de leerling is aangemeld bij de nieuwe school" },
	{ "inzage.recorded", "een mentor", "legde vast dat het dossier is ingezien en besproken" },
	{ "disclosure.queued", "een medewerker", "gaf gegevens door" },
	{ "disclosure.denied", NULL, "hield het doorgeven tegen: er was geen geldige grond" },
	{ "disclosure.cancelled", NULL, "het doorgeven is gestopt" },
	{ "disclosure.refused", NULL, "de ontvanger weigerde een bericht" },
	{ "dossier.received", NULL, "stuurde het overstapdossier" },
	{ "dossier.refused", NULL, "een toegestuurd dossier is geweigerd" },
	{ "dossier.viewed", "een medewerker", "bekeek het dossier" },
	{ "consent.granted", S_ADMIN, "legde een toestemming vast" },
	{ "consent.withdrawn", S_ADMIN, "legde de intrekking van een toestemming vast" },
	{ "registration.sent", "een intakemedewerker", "meldde de aanmelding aan de vorige school" },
	{ "registration.received", NULL, "meldde dat de leerling is aangemeld" },
	{ "status.received", NULL, "meldde of de leerling is aangemeld of ingeschreven" },
	{ "outcome.received", NULL, "meldde hoe het de leerling op school gaat" },
	{ "consent.notice_queued", S_ADMIN, "gaf een nieuwe toestemming door" },
	{ "consent.notice_received", NULL, "meldde een nieuwe toestemming" },
	{ "withdrawal.queued", S_ADMIN, "gaf de intrekking van een toestemming door" },
	{ "withdrawal.received", NULL, "meldde dat een toestemming is ingetrokken; wat daarop rustte is hier verwijderd" },
	{ "erasure.receipt", NULL, "bevestigde dat de gegevens daar zijn verwijderd" },
	{ "pupil.erased", "een privacymedewerker", "verwijderde de gegevens van de leerling" },
	{ "dossier.erased", "een privacymedewerker", "verwijderde het ontvangen dossier" },
	{ "retention.erased", NULL, "verwijderde de gegevens omdat de bewaartermijn voorbij was" },
	{ "subject.access", "een privacymedewerker", "maakte een inzageoverzicht zoals dit" },
	{ "import.leavers", S_ADMIN, "las een bestand met vertrekkende leerlingen in" },
	{ "import.consents", S_ADMIN, "las een bestand met toestemmingen in" },
	{ "import.spool_failed", NULL, "weigerde een aangeleverd bestand dat fouten bevatte" },
	{ "leaver.imported", S_ADMIN, "nam de leerling op in de lijst van vertrekkende leerlingen" },
	{ "leaver.updated", S_ADMIN, "werkte de gegevens van de leerling bij" },
	{ "leaver.update_refused", S_ADMIN,
	  "hield een wijziging tegen: het dossier was al doorgegeven" },
	{ "enrolments.imported", "een medewerker van de studentenadministratie",
	  "zette de leerling op de lijst van nieuwe inschrijvingen" },
	{ "enrolment.erased", "een privacymedewerker", "verwijderde de inschrijving van de leerling" },
	{ "inbox.searched", "een intakemedewerker", "zocht het dossier op" },
	{ "report.generated", "een kwaliteitsmedewerker", "maakte een kwaliteitsrapport zonder namen" },
	{ "lost.viewed", "een mentor", "bekeek de lijst van leerlingen die uit beeld zijn" },
	{ "audit.checkpoint_mismatch", NULL, "vond een verschil bij de controle van het logboek" },
	{ "audit.peer_chain_regressed", NULL, "vond een verschil bij de controle van het logboek" },
	{ "audit.incident_acked", "een beheerder", "handelde een verschil in het logboek af" },
	{ "control.refused", "een medewerker",
	  "probeerde iets waarvoor die geen bevoegdheid had; het werd geweigerd" },
	{ "control.refused_counted", "een medewerker",
	  "probeerde vaak iets waarvoor die geen bevoegdheid had; het werd elke keer geweigerd" },
	{ "message.parked", NULL, "hield een bericht tegen dat de ontvanger niet aannam" },
	{ "message.retried", "een beheerder", "verstuurde een tegengehouden bericht opnieuw" },
	{ "message.cancelled", "een beheerder", "annuleerde een tegengehouden bericht" },
	{ "peer.quota_exceeded", NULL, "nam tijdelijk geen berichten meer aan van een instelling" },
	{ "store.checked", "een beheerder", "controleerde de opslag" },
	{ "store.backup", "een beheerder", "maakte een reservekopie" },
	{ "key.activated", NULL, "nam een nieuwe sleutel in gebruik" },
	{ "key.peer_rollover", NULL, "nam de nieuwe sleutel van een instelling over" },
	{ "key.peer_new_seen", NULL, "zag de nieuwe sleutel van een instelling in gebruik" },
	{ "key.peer_old_refused", NULL, "weigerde de oude sleutel van een instelling" },
};

const char *subject_action_nl(const char *action)
{
	for (size_t i = 0; action && i < ARRAY_SIZE(s_actions); i++)
		if (strcmp(s_actions[i].action, action) == 0)
			return s_actions[i].nl;
	return NULL;
}

const char *subject_role_nl(const char *action)
{
	for (size_t i = 0; action && i < ARRAY_SIZE(s_actions); i++)
		if (strcmp(s_actions[i].action, action) == 0)
			return s_actions[i].role;
	return NULL;
}

static const char *const s_months[12] = {
	"januari", "februari", "maart", "april", "mei", "juni",
	"juli", "augustus", "september", "oktober", "november", "december",
};

#define S_DATE_LEN 48

/* "14 maart 2009" for YYYY-MM-DD; "" for "" and what is no such date. */
static const char *s_date(const char *ymd, char buf[S_DATE_LEN])
{
	int y, m, d;
	char tail;

	buf[0] = '\0';
	if (ymd && sscanf(ymd, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && m >= 1 && m <= 12 &&
	    d >= 1 && d <= 31)
		snprintf(buf, S_DATE_LEN, "%d %s %d", d, s_months[m - 1], y);
	return buf;
}

/* "2 juni 2025 om 12:15" in local time for unix ms; "" for 0. */
static const char *s_when(int64_t ms, char buf[S_DATE_LEN])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	buf[0] = '\0';
	if (ms > 0 && localtime_r(&t, &tm))
		snprintf(buf, S_DATE_LEN, "%d %s %d om %02d:%02d", tm.tm_mday, s_months[tm.tm_mon],
			 tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
	return buf;
}

/* "2025-06-02T10:15:00.123Z" (UTC), as the audit log and every --json write
 * a moment, in unix ms; 0 when it is not one. */
static int64_t s_iso_ms(const char *iso)
{
	struct tm tm = { 0 };
	int ms = 0;

	if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* The audit log's moment as s_when. */
static const char *s_when_iso(const char *iso, char buf[S_DATE_LEN])
{
	return s_when(s_iso_ms(iso), buf);
}

/* ---- the evidence ---------------------------------------------------------- */

static const char *s_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static int64_t s_int(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

/* A moment of the evidence (an ISO string, null for never) in unix ms, 0 for none. */
static int64_t s_ms(const json_t *o, const char *key)
{
	return s_iso_ms(json_string_value(json_object_get(o, key)));
}

/* An institution by name when the daemon told us one, else its id. */
static const char *s_inst(const json_t *ev, const char *id)
{
	const char *name = s_str(json_object_get(ev, "peers"), id);

	if (id && strcmp(id, s_str(ev, "institution")) == 0 && *s_str(ev, "institution_name"))
		return s_str(ev, "institution_name");
	return *name ? name : id && *id ? id : "een andere instelling";
}

/* ---- one renderer, two formats ---------------------------------------------- */

struct s_doc {
	FILE *f;
	int html;
	int in_list;		/* inside <dl> (html) */
};

static void s_esc(struct s_doc *d, const char *s)
{
	if (d->html)
		report_html_text(d->f, s);
	else
		out_text(d->f, s);	/* no terminal controls from the data */
}

static void s_close_list(struct s_doc *d)
{
	if (d->html && d->in_list)
		fputs("</dl>\n", d->f);
	d->in_list = 0;
}

static void s_h(struct s_doc *d, int level, const char *title)
{
	s_close_list(d);
	if (d->html) {
		fprintf(d->f, "<h%d>", level);
		s_esc(d, title);
		fprintf(d->f, "</h%d>\n", level);
		return;
	}
	fprintf(d->f, "\n%s\n", title);
	for (size_t i = 0, n = strlen(title); i < n; i++)
		if (((unsigned char)title[i] & 0xC0) != 0x80)	/* one mark per character */
			fputc(level == 1 ? '=' : '-', d->f);
	fputc('\n', d->f);
}

static void __attribute__((format(printf, 2, 3))) s_p(struct s_doc *d, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	s_close_list(d);
	fputs(d->html ? "<p>" : "", d->f);
	s_esc(d, text);
	fputs(d->html ? "</p>\n" : "\n", d->f);
	free(text);
}

/* One "label: value" line of a block; nothing when the value is empty. */
static void s_field(struct s_doc *d, const char *label, const char *value)
{
	if (!value || !*value)
		return;
	if (d->html) {
		if (!d->in_list)
			fputs("<dl class=\"meta\">\n", d->f);
		d->in_list = 1;
		fputs("<dt>", d->f);
		s_esc(d, label);
		fputs("</dt><dd>", d->f);
		s_esc(d, value);
		fputs("</dd>\n", d->f);
		return;
	}
	fprintf(d->f, "  %s%s", label, *label ? ": " : "  ");
	/* free text such as inzage remarks may span lines: indent the rest */
	out_block(d->f, "    ", value);
	fputc('\n', d->f);
}

static void s_table_open(struct s_doc *d, const char *caption, const char *const *head, size_t n)
{
	s_close_list(d);
	if (!d->html) {
		/* the heads too: a parent reading two dates in a row must know
		 * which is which, as the html's table head says */
		fprintf(d->f, "%s (", caption);
		for (size_t i = 0; i < n; i++)
			fprintf(d->f, "%s%s", i ? " | " : "", head[i]);
		fputs(")\n", d->f);
		return;
	}
	fputs("<div class=\"wrap\"><table>\n<caption>", d->f);
	s_esc(d, caption);
	fputs("</caption>\n<thead><tr>", d->f);
	for (size_t i = 0; i < n; i++) {
		fputs("<th scope=\"col\">", d->f);
		s_esc(d, head[i]);
		fputs("</th>", d->f);
	}
	fputs("</tr></thead>\n<tbody>\n", d->f);
}

static void s_table_row(struct s_doc *d, const char *const *cells, size_t n)
{
	if (d->html) {
		fputs("<tr>", d->f);
		for (size_t i = 0; i < n; i++) {
			fputs("<td>", d->f);
			s_esc(d, cells[i]);
			fputs("</td>", d->f);
		}
		fputs("</tr>\n", d->f);
		return;
	}
	/* every column in its place ("-" when empty) up to the last filled
	 * one, so a row reads against the heads; through out_text like the
	 * rest of the letter */
	while (n > 0 && (!cells[n - 1] || !*cells[n - 1]))
		n--;
	fputs("  -", d->f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? " | " : " ", d->f);
		s_esc(d, cells[i] && *cells[i] ? cells[i] : "-");
	}
	fputc('\n', d->f);
}

static void s_table_close(struct s_doc *d)
{
	if (d->html)
		fputs("</tbody>\n</table></div>\n", d->f);
}

/* ---- the sections ---------------------------------------------------------- */

static const json_t *s_first_dossier(const json_t *ev)
{
	const char *lists[] = { "sent", "received" };

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		const json_t *a = json_object_get(ev, lists[l]), *x;
		size_t i;

		json_array_foreach(a, i, x) {
			const json_t *dz = json_object_get(x, "dossier");

			if (json_is_object(dz))
				return dz;
		}
	}
	return NULL;
}

static const char *s_full_name(const json_t *dz, char *buf, size_t len)
{
	const char *parts[] = { s_str(dz, "given_name"), s_str(dz, "tussenvoegsel"),
				s_str(dz, "family_name") };
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(parts) && at < len; i++) {
		if (!*parts[i])
			continue;
		int w = snprintf(buf + at, len - at, "%s%s", at ? " " : "", parts[i]);
		at += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

/* The PGN the report was asked for, when it was asked for by one (nine
 * digits) and the registrations it found are all that names the pupil: an
 * MBO holds no name before a dossier comes. Else NULL. */
static const char *s_asked_pgn(const json_t *ev)
{
	const char *q = s_str(ev, "subject");
	size_t n = strlen(q);

	if (n != 9 || strspn(q, "0123456789") != n ||
	    !json_array_size(json_object_get(ev, "registrations")))
		return NULL;
	return q;
}

static void s_intro(struct s_doc *d, const json_t *ev)
{
	char name[400], now[S_DATE_LEN];
	const json_t *dz = s_first_dossier(ev);
	const char *inst = s_inst(ev, s_str(ev, "institution"));

	s_h(d, 1, "Overzicht van de gegevens die wij bewaren");
	s_p(d, "Dit overzicht is gemaakt door %s op %s, omdat om inzage is gevraagd.", inst,
	    s_when(time_now_ms(), now));
	if (dz && *s_full_name(dz, name, sizeof(name)))
		s_p(d, "Het gaat over %s.", name);
	else if (s_asked_pgn(ev))
		s_p(d, "Het gaat over de leerling met burgerservicenummer of onderwijsnummer %s.",
		    s_asked_pgn(ev));
	s_p(d, "U vindt hieronder alles wat %s over de leerling bewaart in overstap, het systeem "
	       "waarmee scholen een leerling warm overdragen aan de nieuwe school: de gegevens zelf, "
	       "aan wie ze zijn doorgegeven en waarom, welke toestemmingen er zijn gegeven of "
	       "ingetrokken, wat de nieuwe school heeft teruggemeld, en wie wanneer iets met de "
	       "gegevens heeft gedaan. U heeft recht op dit overzicht (artikel 15 van de Algemene "
	       "verordening gegevensbescherming).", inst);
	s_p(d, "Klopt er iets niet, of wilt u dat gegevens worden verbeterd of verwijderd? Neem dan "
	       "contact op met %s.", inst);
}

static void s_support_field(struct s_doc *d, const json_t *dz)
{
	const json_t *a = json_object_get(dz, "support_needs"), *x;
	size_t i;

	json_array_foreach(a, i, x) {
		const char *word = WORD(s_support, s_str(x, "code"));
		char line[1024];

		snprintf(line, sizeof(line), "%s%s%s", word ? word : "andere ondersteuning",
			 *s_str(x, "note") ? ": " : "", s_str(x, "note"));
		s_field(d, i ? "" : "Ondersteuning", line);
	}
}

static void s_dossier_fields(struct s_doc *d, const json_t *ev, const json_t *dz)
{
	char name[400], b1[S_DATE_LEN], line[512];
	const json_t *m = json_object_get(dz, "mentor"), *z = json_object_get(dz, "inzage");
	const char *adv = WORD(s_destinations, s_str(dz, "advice"));
	const char *followed = s_str(dz, "advice_followed");
	const char *lt = WORD(s_levels, s_str(dz, "level_taal"));
	const char *lr = WORD(s_levels, s_str(dz, "level_rekenen"));

	(void)ev;
	s_field(d, "Naam", s_full_name(dz, name, sizeof(name)));
	s_field(d, "Burgerservicenummer of onderwijsnummer", s_str(dz, "pgn"));
	s_field(d, "Geboortedatum", s_date(s_str(dz, "birth_date"), b1));
	s_field(d, "Opleiding", WORD(s_programs, s_str(dz, "program")));
	s_field(d, "Schooljaar van vertrek", s_str(dz, "cohort"));
	s_field(d, "Datum van vertrek", s_date(s_str(dz, "exit_date"), b1));
	s_field(d, "Gaat naar", WORD(s_destinations, s_str(dz, "destination")));
	if (adv) {
		snprintf(line, sizeof(line), "%s%s", adv,
			 strcmp(followed, "yes") == 0 ? " (advies gevolgd)" :
			 strcmp(followed, "no") == 0 ? " (advies niet gevolgd: de leerling koos zelf)" : "");
		s_field(d, "Advies van de school", line);
	}
	if (lt || lr) {
		snprintf(line, sizeof(line), "taal: %s; rekenen: %s", lt ? lt : "niet vermeld",
			 lr ? lr : "niet vermeld");
		s_field(d, "Niveau taal en rekenen", line);
	}
	s_support_field(d, dz);
	if (json_is_object(m)) {
		const char *parts[] = { s_str(m, "name"), s_str(m, "email"), s_str(m, "phone") };
		size_t at = 0;

		line[0] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(parts) && at < sizeof(line); i++)
			if (*parts[i]) {
				int w = snprintf(line + at, sizeof(line) - at, "%s%s", at ? ", " : "", parts[i]);
				at += w > 0 ? (size_t)w : 0;
			}
		s_field(d, "Mentor", line);
	}
	if (json_is_object(z)) {
		const char *who = WORD(s_people, s_str(z, "reviewer"));

		snprintf(line, sizeof(line), "door %s op %s", who ? who : "de leerling of een ouder",
			 s_date(s_str(z, "reviewed_on"), b1));
		s_field(d, "Dossier ingezien", line);
		/* OSO: eens met het dossier? Bij "nee" gaat de zienswijze mee. */
		s_field(d, "Eens met het dossier",
			strcmp(s_str(z, "agrees"), "yes") == 0 ? "ja" :
			strcmp(s_str(z, "agrees"), "no") == 0 ? "nee" : "niet gevraagd");
		if (*s_str(z, "disagreement"))
			s_field(d, "Zienswijze (waarom niet eens)", s_str(z, "disagreement"));
		s_field(d, "Opmerkingen bij de inzage", s_str(z, "remarks"));
	}
	s_field(d, "Doorgegeven op grond van", WORD(s_bases, s_str(dz, "basis")));
	s_field(d, "Aangemeld bij de nieuwe school op", s_date(s_str(dz, "registered_on"), b1));
}

static void s_timeline(struct s_doc *d, const json_t *ev, const json_t *x, const char *title)
{
	static const char *const head[] = { "Datum", "Melding", "Van of aan", "Stand" };
	const json_t *a = json_object_get(x, "timeline"), *e;
	size_t i;

	if (!json_array_size(a))
		return;
	s_table_open(d, title, head, ARRAY_SIZE(head));
	json_array_foreach(a, i, e) {
		char date[S_DATE_LEN], what[160];
		const char *ev_nl = WORD(s_events, s_str(e, "event"));
		const char *st = WORD(s_msg_states, s_str(e, "state"));

		if (s_int(e, "level"))
			snprintf(what, sizeof(what), "%s (niveau %lld)", ev_nl ? ev_nl : "melding",
				 (long long)s_int(e, "level"));
		else
			snprintf(what, sizeof(what), "%s", ev_nl ? ev_nl : "melding");
		const char *cells[] = { s_date(s_str(e, "date"), date), what,
					s_inst(ev, s_str(e, "peer")), st ? st : "" };
		s_table_row(d, cells, ARRAY_SIZE(cells));
	}
	s_table_close(d);
}

static void s_withdrawals(struct s_doc *d, const json_t *ev, const json_t *x)
{
	const json_t *a = json_object_get(x, "withdrawals"), *w;
	size_t i;

	json_array_foreach(a, i, w) {
		const json_t *rc = json_object_get(w, "receipt"), *it;
		char when[S_DATE_LEN], items[1024] = "";
		size_t k, at = 0;

		s_p(d, "Op %s heeft de school aan %s doorgegeven dat %s.", s_when(s_ms(w, "at"), when),
		    s_inst(ev, s_str(w, "peer")),
		    strcmp(s_str(w, "reason"), "erased") == 0 ?
			    "de gegevens van de leerling zijn verwijderd" : "een toestemming is ingetrokken");
		if (!json_is_object(rc)) {
			s_p(d, "De bevestiging van %s is nog niet binnen.", s_inst(ev, s_str(w, "peer")));
			continue;
		}
		json_array_foreach(json_object_get(rc, "erased"), k, it) {
			const char *code = json_string_value(it), *word = WORD(s_receipt_items, code);
			unsigned n = 0;
			char buf[96];

			if (!word && code && sscanf(code, "queued_outcomes_cancelled:%u", &n) == 1) {
				snprintf(buf, sizeof(buf), "%u nog niet verstuurde terugmelding(en)", n);
				word = buf;
			}
			int wr = snprintf(items + at, sizeof(items) - at, "%s%s", at ? ", " : "",
					  word ? word : "andere gegevens");
			at += wr > 0 && (size_t)wr < sizeof(items) - at ? (size_t)wr : 0;
		}
		s_p(d, "%s bevestigde op %s dat het volgende is verwijderd of gestopt: %s.",
		    s_inst(ev, s_str(w, "peer")), s_when(s_ms(rc, "erased_at"), when),
		    *items ? items : "niets");
	}
}

static void s_sent(struct s_doc *d, const json_t *ev)
{
	const json_t *a = json_object_get(ev, "sent"), *x;
	size_t i;

	json_array_foreach(a, i, x) {
		const json_t *row = json_object_get(x, "row"), *dz = json_object_get(x, "dossier");
		const char *st = WORD(s_states, s_str(row, "state"));
		char when[S_DATE_LEN];

		s_h(d, 2, "Het overstapdossier op deze school");
		s_field(d, "Leerlingnummer", s_str(row, "pupil_ref"));
		if (*s_str(row, "destination_institution"))
			s_field(d, "Nieuwe school", s_inst(ev, s_str(row, "destination_institution")));
		s_field(d, "Stand", st ? st : "onbekend");
		if (s_ms(row, "delivered_at"))
			s_field(d, "Afgeleverd bij de nieuwe school", s_when(s_ms(row, "delivered_at"), when));
		if (s_ms(x, "erased_at"))
			s_field(d, "Persoonsgegevens verwijderd op", s_when(s_ms(x, "erased_at"), when));
		if (json_is_object(dz)) {
			s_close_list(d);
			s_h(d, 3, "Wat er in het dossier staat");
			s_dossier_fields(d, ev, dz);
		} else {
			s_p(d, "Van het dossier is niets meer bewaard.");
		}
		s_timeline(d, ev, x, "Wat de nieuwe school heeft teruggemeld");
		s_withdrawals(d, ev, x);
	}
}

static void s_consents(struct s_doc *d, const json_t *ev)
{
	const json_t *a = json_object_get(ev, "consents"), *c;
	size_t i;

	if (!json_array_size(json_object_get(ev, "sent")))
		return;
	s_h(d, 2, "Toestemmingen");
	if (!json_array_size(a)) {
		s_p(d, "Er is geen toestemming vastgelegd.");
		return;
	}
	json_array_foreach(a, i, c) {
		const char *purpose = WORD(s_purposes, s_str(c, "purpose"));
		const char *who = WORD(s_people, s_str(c, "grantor"));
		const char *how = WORD(s_methods, s_str(c, "evidence_method"));
		char b1[S_DATE_LEN], b2[S_DATE_LEN], state[160];

		if (*s_str(c, "withdrawn_at"))
			snprintf(state, sizeof(state), "ingetrokken op %s", s_date(s_str(c, "withdrawn_at"), b1));
		else if (json_is_true(json_object_get(c, "in_force")))
			snprintf(state, sizeof(state), "geldig");
		else
			snprintf(state, sizeof(state), "niet (meer) geldig");
		s_close_list(d);
		s_h(d, 3, purpose ? purpose : "Toestemming");
		s_field(d, "Stand", state);
		s_field(d, "Voor", s_inst(ev, s_str(c, "counterpart")));
		s_field(d, "Gegeven door", who ? who : "");
		s_field(d, "Gegeven op", s_date(s_str(c, "granted_at"), b1));
		if (*s_str(c, "valid_until"))
			s_field(d, "Geldig tot", s_date(s_str(c, "valid_until"), b2));
		else
			s_field(d, "Geldig", "tot ze wordt ingetrokken");
		s_field(d, "Vastgelegd via", how ? how : "");
	}
}

/* The consents a received dossier came with, marked where the school has
 * withdrawn them since. */
static void s_received_consents(struct s_doc *d, const json_t *ev, const json_t *x,
				const json_t *dz)
{
	const json_t *a = json_object_get(dz, "consents"), *c;
	size_t i;

	json_array_foreach(a, i, c) {
		const char *purpose = WORD(s_purposes, s_str(c, "purpose"));
		const char *who = WORD(s_people, s_str(c, "grantor"));
		const json_t *rv = json_object_get(x, "revoked"), *v;
		char b1[S_DATE_LEN], line[512], state[96] = "geldig";
		size_t k;

		json_array_foreach(rv, k, v)
			if (strcmp(s_str(v, "consent_id"), s_str(c, "consent_id")) == 0)
				snprintf(state, sizeof(state), "ingetrokken op %s", s_when(s_ms(v, "at"), b1));
		snprintf(line, sizeof(line), "%s, gegeven door %s op %s: %s",
			 purpose ? purpose : "toestemming", who ? who : "de leerling of een ouder",
			 s_date(s_str(c, "granted_at"), b1), state);
		s_field(d, i ? "" : "Toestemmingen", line);
	}
	(void)ev;
}

static void s_received(struct s_doc *d, const json_t *ev)
{
	const json_t *a = json_object_get(ev, "received"), *x;
	size_t i;

	json_array_foreach(a, i, x) {
		const json_t *row = json_object_get(x, "row"), *dz = json_object_get(x, "dossier");
		const char *why = WORD(s_erased_why, s_str(x, "erased_what"));
		char when[S_DATE_LEN], title[256];

		snprintf(title, sizeof(title), "Het overstapdossier dat wij ontvingen van %s",
			 s_inst(ev, s_str(row, "sender")));
		s_h(d, 2, title);
		s_field(d, "Ontvangen op", s_when(s_ms(row, "received_at"), when));
		if (s_ms(x, "erased_at"))
			s_field(d, "Verwijderd op", s_when(s_ms(x, "erased_at"), when));
		if (why)
			s_field(d, "Reden", why);
		if (json_is_object(dz)) {
			s_close_list(d);
			s_h(d, 3, "Wat er in het dossier staat");
			s_dossier_fields(d, ev, dz);
			s_received_consents(d, ev, x, dz);
		} else {
			s_p(d, "Van het dossier is niets meer bewaard.");
		}
		s_timeline(d, ev, x, "Wat wij aan de vorige school hebben gemeld");
	}
}

static void s_registrations(struct s_doc *d, const json_t *ev)
{
	static const char *const head[] = { "Doorgegeven op", "Aan", "Aangemeld op", "Stand" };
	const json_t *a = json_object_get(ev, "registrations"), *g;
	size_t i;

	if (!json_array_size(a))
		return;
	s_h(d, 2, "Aanmeldingen die wij aan de vorige school hebben gemeld");
	/* what such a message holds, and for how long (design.md §3.9) */
	s_p(d, "Met een aanmelding laten wij de vorige school weten dat de leerling zich bij ons "
	       "heeft aangemeld. Daarin staat het burgerservicenummer of onderwijsnummer van de "
	       "leerling%s%s%s. Zolang een aanmelding nog niet is afgeleverd, bewaren wij dat nummer "
	       "erbij. Is ze afgeleverd, geweigerd of geannuleerd, dan bewaren wij het nummer zelf "
	       "niet meer, alleen een gecodeerde verwijzing ernaar, zodat de aanmelding in dit "
	       "overzicht staat. Die verwijzing verdwijnt als wij de gegevens van de leerling "
	       "verwijderen of als de bewaartermijn voorbij is.",
	    s_asked_pgn(ev) ? " (" : "", s_asked_pgn(ev) ? s_asked_pgn(ev) : "",
	    s_asked_pgn(ev) ? ")" : "");
	s_table_open(d, "Aanmeldingen", head, ARRAY_SIZE(head));
	json_array_foreach(a, i, g) {
		const char *st = WORD(s_msg_states, s_str(g, "state"));
		char when[S_DATE_LEN], on[S_DATE_LEN], state[256];

		snprintf(state, sizeof(state), "%s%s%s", st ? st : "onbekend",
			 *s_str(g, "reason") ? ": " : "", s_str(g, "reason"));
		const char *cells[] = { s_when(s_ms(g, "at"), when), s_inst(ev, s_str(g, "school")),
					s_date(s_str(g, "registered_on"), on), state };
		s_table_row(d, cells, ARRAY_SIZE(cells));
	}
	s_table_close(d);
}

/* The MBO's own enrolment list (design.md §5.3): what it holds of a
 * student whether or not a dossier came. */
static void s_enrolments(struct s_doc *d, const json_t *ev)
{
	const json_t *a = json_object_get(ev, "enrolments"), *w;
	size_t i;

	json_array_foreach(a, i, w) {
		const char *prev = WORD(s_programs, s_str(w, "previous"));
		char level[32], on[S_DATE_LEN], when[S_DATE_LEN];

		s_h(d, 2, "De inschrijving bij ons");
		snprintf(level, sizeof(level), "mbo niveau %lld", (long long)s_int(w, "level"));
		s_field(d, "Opleiding", level);
		s_field(d, "Begint op", s_date(s_str(w, "start_date"), on));
		s_field(d, "Vorige opleiding", prev ? prev : "niet bekend");
		s_field(d, "Overstapdossier ontvangen", *s_str(w, "record_id") ? "ja" : "nee");
		s_field(d, "Op de lijst gezet op", s_when(s_ms(w, "imported_at"), when));
	}
}

/* "gaf het overstapdossier door" and the like: disclosure.queued by purpose. */
static const char *s_action_text(const json_t *e)
{
	const char *action = s_str(e, "action");
	json_t *det;
	const char *purpose, *text = subject_action_nl(action);

	if (strcmp(action, "disclosure.queued") != 0)
		return text ? text : "deed iets anders met de gegevens";
	det = json_loads(s_str(e, "detail"), 0, NULL);
	purpose = s_str(det, "purpose");
	text = strcmp(purpose, "handover") == 0 ? "gaf het overstapdossier door" :
	       strcmp(purpose, "status") == 0 ? "meldde of de leerling is aangemeld of ingeschreven" :
	       strcmp(purpose, "follow_up") == 0 ? "meldde hoe het de leerling op school gaat" :
						   text;
	json_decref(det);
	return text;
}

static const char *s_who(const json_t *ev, const json_t *e, char *buf, size_t len)
{
	const char *actor = s_str(e, "actor"), *role;

	if (strcmp(actor, "daemon") == 0)
		return "automatisch (overstap)";
	if (strncmp(actor, "peer:", 5) == 0) {
		snprintf(buf, len, "%s (bericht)", s_inst(ev, actor + 5));
		return buf;
	}
	role = subject_role_nl(s_str(e, "action"));
	(void)buf;
	(void)len;
	return role ? role : "een medewerker";
}

static int s_seq_cmp(const void *a, const void *b)
{
	int64_t x = s_int(*(json_t *const *)a, "seq"), y = s_int(*(json_t *const *)b, "seq");

	return (x > y) - (x < y);
}

/* Sort the array a of audit entries by seq, in place. */
static int s_sort_seq(json_t *a)
{
	size_t n = json_array_size(a);
	json_t **v = calloc(n ? n : 1, sizeof(json_t *));
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(json_t *), s_seq_cmp);
	for (size_t i = 0; i < n; i++)
		r |= json_array_set_new(a, i, v[i]);
	free(v);
	return r ? -ENOMEM : 0;
}

static void s_trail(struct s_doc *d, const json_t *ev)
{
	static const char *const head[] = { "Wanneer", "Wie", "Wat", "Andere instelling" };
	const json_t *a = json_object_get(ev, "audit"), *e;
	json_t *sorted;
	size_t i;

	s_h(d, 2, "Wie heeft wat gedaan");
	s_p(d, "Elke keer dat iemand de gegevens bekeek, doorgaf, ontving of verwijderde, staat "
	       "hieronder. Medewerkers staan er met hun rol, niet met hun naam.");
	if (!json_array_size(a)) {
		s_p(d, "Er is nog niets vastgelegd.");
		return;
	}
	/* in the order it happened: the daemon collects them per subject */
	if (!(sorted = json_deep_copy(a)) || s_sort_seq(sorted) < 0) {
		json_decref(sorted);
		sorted = json_incref((json_t *)a);
	}
	s_table_open(d, "Logboek", head, ARRAY_SIZE(head));
	json_array_foreach(sorted, i, e) {
		char when[S_DATE_LEN], who[256];
		const char *cp = s_str(e, "counterpart"), *actor = s_str(e, "actor");
		/* a peer's own message: it is already named as who did it */
		int self = strncmp(actor, "peer:", 5) == 0 && strcmp(actor + 5, cp) == 0;
		const char *cells[] = { s_when_iso(s_str(e, "at"), when), s_who(ev, e, who, sizeof(who)),
					s_action_text(e), *cp && !self ? s_inst(ev, cp) : "" };

		s_table_row(d, cells, ARRAY_SIZE(cells));
	}
	s_table_close(d);
	json_decref(sorted);
}

static void s_outro(struct s_doc *d)
{
	s_h(d, 2, "Het technische bewijs");
	s_p(d, "Naast dit overzicht bestaat een technisch bestand met dezelfde gegevens en de "
	       "controlecodes van het logboek, waarmee kan worden nagegaan dat er niets is "
	       "weggelaten of veranderd. De school kan u dat bestand op verzoek geven.");
}

static int s_write(FILE *f, const json_t *ev, int html)
{
	struct s_doc d = { .f = f, .html = html };

	if (html)
		report_html_open(f, "nl", "Overzicht van de gegevens die wij bewaren");
	s_intro(&d, ev);
	s_sent(&d, ev);
	s_consents(&d, ev);
	s_received(&d, ev);
	s_enrolments(&d, ev);
	s_registrations(&d, ev);
	s_trail(&d, ev);
	s_outro(&d);
	s_close_list(&d);
	if (html)
		report_html_close(f);
	return fflush(f) != 0 || ferror(f) ? -EIO : 0;
}

int subject_write_text(FILE *f, const json_t *ev) { return s_write(f, ev, 0); }

int subject_write_html(FILE *f, const json_t *ev) { return s_write(f, ev, 1); }

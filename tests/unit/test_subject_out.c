/* Unit tests for client/subject_out.c: the subject report's letter for a
 * pupil and the parents. Every audit action overstap(1) documents has words
 * and a who; the letter says "ingetrokken" beside a withdrawn consent; the
 * audit trail is in the order it happened; a name carrying markup or
 * terminal controls reaches neither page nor terminal as such. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subject_out.h"

/* The rendering of ev in text (html = 0) or HTML, as a string to free. */
static char *s_render(const char *ev_json, int html)
{
	json_error_t err;
	json_t *ev = json_loads(ev_json, 0, &err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(ev);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(html ? subject_write_html(f, ev) : subject_write_text(f, ev), 0);
	fclose(f);
	json_decref(ev);
	return buf;
}

/* Every *action* in the AUDIT ACTIONS section of overstap(1). */
static void t_every_documented_action_has_words(void **state)
{
	char path[4096], line[1024];
	const char *data = getenv("OVERSTAP_TEST_DATA");
	int in = 0, n = 0;
	FILE *f;

	(void)state;
	assert_non_null(data);
	snprintf(path, sizeof(path), "%s/../../docs/overstap.1.scd", data);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' && line[1] == ' ')
			in = strncmp(line, "# AUDIT ACTIONS", 15) == 0;
		if (!in || line[0] != '*')
			continue;
		/* "*a.b*" or "*a.b*, *c.d*": each starred name */
		for (char *p = line; (p = strchr(p, '*')) != NULL;) {
			char *end = strchr(p + 1, '*');

			if (!end)
				break;
			*end = '\0';
			if (strchr(p + 1, '.')) {
				if (!subject_action_nl(p + 1))
					fail_msg("no Dutch words for the audit action %s", p + 1);
				n++;
			}
			p = end + 1;
		}
	}
	fclose(f);
	assert_true(n >= 35);	/* the section was found and read */
}

static const char s_school[] =
	"{\"institution\": \"12AB00\", \"institution_name\": \"De Brug\","
	" \"peers\": {\"25LZ00\": \"MBO College\"},"
	" \"sent\": [{\"row\": {\"pupil_ref\": \"S1\", \"state\": \"delivered\","
	"   \"destination_institution\": \"25LZ00\"},"
	"   \"dossier\": {\"given_name\": \"%s\", \"family_name\": \"Bakkali\","
	"     \"program\": \"pro\", \"destination\": \"mbo_entree\", \"basis\": \"statute\"}}],"
	" \"consents\": [{\"purpose\": \"follow_up\", \"counterpart\": \"25LZ00\","
	"   \"grantor\": \"parent\", \"granted_at\": \"2026-02-01\", \"withdrawn_at\": \"2026-03-03\","
	"   \"in_force\": false, \"evidence_method\": \"form\"}],"
	" \"received\": [], \"registrations\": [],"
	" \"audit\": [{\"seq\": 9, \"at\": \"2026-03-03T09:00:00.000Z\", \"actor\": \"jdevries\","
	"   \"action\": \"consent.withdrawn\", \"subject\": \"leaver:1\", \"counterpart\": \"25LZ00\","
	"   \"detail\": \"{}\", \"mac\": \"ab\"},"
	"  {\"seq\": 4, \"at\": \"2026-02-01T09:00:00.000Z\", \"actor\": \"jdevries\","
	"   \"action\": \"consent.granted\", \"subject\": \"leaver:1\", \"counterpart\": \"25LZ00\","
	"   \"detail\": \"{}\", \"mac\": \"cd\"}]}";

static char *s_school_letter(const char *name, int html)
{
	char ev[4096];

	snprintf(ev, sizeof(ev), s_school, name);
	return s_render(ev, html);
}

static void t_withdrawn_consent_and_order(void **state)
{
	char *text = s_school_letter("Noor", 0);
	const char *granted, *withdrawn;

	(void)state;
	assert_non_null(strstr(text, "ingetrokken op 3 maart 2026"));
	assert_non_null(strstr(text, "Noor Bakkali"));
	assert_non_null(strstr(text, "praktijkonderwijs (PrO)"));
	assert_non_null(strstr(text, "MBO College"));
	assert_null(strstr(text, "follow_up"));
	assert_null(strstr(text, "mbo_entree"));
	assert_null(strstr(text, "jdevries"));	/* staff by role */
	assert_non_null(strstr(text, "een medewerker van de leerlingadministratie"));
	granted = strstr(text, "legde een toestemming vast");
	withdrawn = strstr(text, "legde de intrekking van een toestemming vast");
	assert_non_null(granted);
	assert_non_null(withdrawn);
	assert_true(granted < withdrawn);	/* seq 4 before seq 9 */
	free(text);
}

static void t_hostile_names(void **state)
{
	char *page = s_school_letter("<script>alert(1)</script>", 1);
	char *text = s_school_letter("\\u001b[2J\\u001b]0;x\\u0007Eve", 0);

	(void)state;
	assert_null(strstr(page, "<script>"));
	assert_non_null(strstr(page, "&lt;script&gt;"));
	assert_non_null(strstr(page, "<html lang=\"nl\">"));
	assert_null(strchr(text, '\x1b'));
	assert_null(strchr(text, '\a'));
	assert_non_null(strstr(text, "Eve Bakkali"));
	free(page);
	free(text);
}

/* OSO inzage rules in the pupil's own letter: whether they agreed, and
 * their view in their words; a dossier from before the question says so. */
static void t_inzage_agreement(void **state)
{
	static const char fmt[] =
		"{\"institution\": \"12AB00\", \"peers\": {},"
		" \"sent\": [{\"row\": {\"pupil_ref\": \"S1\", \"state\": \"delivered\"},"
		"   \"dossier\": {\"given_name\": \"Noor\", \"family_name\": \"Bakkali\","
		"     \"inzage\": {\"reviewer\": \"parent\", \"reviewed_on\": \"2026-05-02\","
		"       \"remarks\": \"\", \"agrees\": \"%s\", \"disagreement\": \"%s\"}}}],"
		" \"consents\": [], \"received\": [], \"registrations\": [], \"audit\": []}";
	char ev[2048];
	char *text;

	(void)state;
	snprintf(ev, sizeof(ev), fmt, "no", "Het verslag klopt niet.\\nZe werkt graag.");
	text = s_render(ev, 0);
	assert_non_null(strstr(text, "Eens met het dossier: nee"));
	assert_non_null(strstr(text, "Zienswijze (waarom niet eens): Het verslag klopt niet.\n"
					"    Ze werkt graag."));
	free(text);
	snprintf(ev, sizeof(ev), fmt, "", "");
	text = s_render(ev, 0);
	assert_non_null(strstr(text, "Eens met het dossier: niet gevraagd"));
	assert_null(strstr(text, "Zienswijze"));
	free(text);
}

/* The text letter's lists read like the html's tables: the column heads
 * after the caption, every column in its place up to the last filled one,
 * and nothing a peer's name carries reaches the terminal as a control. */
static void t_text_table_heads(void **state)
{
	static const char ev[] =
		"{\"institution\": \"25LZ00\", \"peers\": {\"12AB00\": \"\\u001b[2JDe Brug\"},"
		" \"sent\": [], \"consents\": [], \"received\": [],"
		" \"registrations\": [{\"message_id\": \"m1\", \"school\": \"12AB00\","
		"   \"registered_on\": \"\", \"state\": \"delivered\", \"at\": \"2026-03-03T09:00:00.000Z\"}],"
		" \"audit\": [{\"seq\": 1, \"at\": \"2026-03-03T09:00:00.000Z\", \"actor\": \"jdevries\","
		"   \"action\": \"dossier.viewed\", \"subject\": \"r1\", \"counterpart\": \"\","
		"   \"detail\": \"{}\", \"mac\": \"ab\"}]}";
	char *text;

	(void)state;
	text = s_render(ev, 0);
	assert_non_null(strstr(text, "Logboek (Wanneer | Wie | Wat | Andere instelling)\n"));
	assert_non_null(strstr(text, "| een medewerker | bekeek het dossier\n"));	/* no empty tail */
	assert_non_null(strstr(text, "(Doorgegeven op | Aan | Aangemeld op | Stand)\n"));
	assert_non_null(strstr(text, "De Brug | - | afgeleverd\n"));		/* a gap kept */
	assert_null(strchr(text, '\x1b'));
	free(text);
}

/* At an MBO that has only registered the pupil (no dossier yet, so no name),
 * the letter says whom it is about by the number asked for, and what its
 * registrations hold of it and for how long. The number is said only when
 * the report was asked for by one. */
static void t_registration_only(void **state)
{
	static const char fmt[] =
		"{\"institution\": \"25LZ00\", \"subject\": \"%s\", \"peers\": {},"
		" \"sent\": [], \"consents\": [], \"received\": [], \"audit\": [],"
		" \"registrations\": [{\"message_id\": \"m1\", \"school\": \"12AB00\","
		"   \"registered_on\": \"2026-03-03\", \"state\": \"queued\","
		"   \"at\": \"2026-03-03T09:00:00.000Z\"}]}";
	char ev[1024];
	char *text;

	(void)state;
	snprintf(ev, sizeof(ev), fmt, "291417772");
	text = s_render(ev, 0);
	assert_non_null(strstr(text, "Het gaat over de leerling met burgerservicenummer of "
				     "onderwijsnummer 291417772."));
	assert_non_null(strstr(text, "onderwijsnummer van de leerling (291417772)."));
	assert_non_null(strstr(text, "gecodeerde verwijzing"));
	free(text);
	snprintf(ev, sizeof(ev), fmt, "01a2467d-519f-77cf-b736-1c765f4ee004");
	text = s_render(ev, 0);
	assert_null(strstr(text, "Het gaat over"));
	assert_non_null(strstr(text, "onderwijsnummer van de leerling. Zolang"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_every_documented_action_has_words),
		cmocka_unit_test(t_withdrawn_consent_and_order),
		cmocka_unit_test(t_hostile_names),
		cmocka_unit_test(t_inzage_agreement),
		cmocka_unit_test(t_text_table_heads),
		cmocka_unit_test(t_registration_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* vocab: the domain's code lists (design.md §3, §6, §8), one table per list, and
 * the one lookup they all use. */
#include "vocab.h"

#include <stddef.h>
#include <string.h>

#include "csvdialect.h"
#include "util.h"

/* Each list is written once, as an X-macro, so that the lookup table and the
 * "a, b, c" string shown in error messages can never drift apart. */
#define PROGRAMS(X)						\
	X("pro", OVERSTAP__PROGRAM__PRO)			\
	X("vso_arbeid", OVERSTAP__PROGRAM__VSO_ARBEID)		\
	X("vso_vervolg", OVERSTAP__PROGRAM__VSO_VERVOLG)	\
	X("vso_dagbesteding", OVERSTAP__PROGRAM__VSO_DAGBESTEDING) \
	X("vmbo_b", OVERSTAP__PROGRAM__VMBO_B)			\
	X("vmbo_k", OVERSTAP__PROGRAM__VMBO_K)			\
	X("vmbo_gt", OVERSTAP__PROGRAM__VMBO_GT)		\
	X("isk", OVERSTAP__PROGRAM__ISK)			\
	X("so", OVERSTAP__PROGRAM__SO)				\
	X("sbo", OVERSTAP__PROGRAM__SBO)			\
	X("bao", OVERSTAP__PROGRAM__BAO)			\
	X("havo", OVERSTAP__PROGRAM__HAVO)			\
	X("vwo", OVERSTAP__PROGRAM__VWO)

#define DESTINATIONS(X)						\
	X("mbo_entree", OVERSTAP__DESTINATION__MBO_ENTREE)	\
	X("mbo_2", OVERSTAP__DESTINATION__MBO_2)		\
	X("mbo_3_4", OVERSTAP__DESTINATION__MBO_3_4)		\
	X("vavo", OVERSTAP__DESTINATION__VAVO)			\
	X("ho", OVERSTAP__DESTINATION__HO)			\
	X("vo", OVERSTAP__DESTINATION__VO)			\
	X("work", OVERSTAP__DESTINATION__WORK)			\
	X("day_care", OVERSTAP__DESTINATION__DAY_CARE)		\
	X("none", OVERSTAP__DESTINATION__NONE)			\
	X("unknown", OVERSTAP__DESTINATION__UNKNOWN)

#define ADVICES(X)						\
	X("entree", OVERSTAP__ADVICE__ADVICE_ENTREE)		\
	X("mbo_2", OVERSTAP__ADVICE__ADVICE_MBO_2)		\
	X("mbo_3_4", OVERSTAP__ADVICE__ADVICE_MBO_3_4)		\
	X("vavo", OVERSTAP__ADVICE__ADVICE_VAVO)		\
	X("ho", OVERSTAP__ADVICE__ADVICE_HO)			\
	X("vo", OVERSTAP__ADVICE__ADVICE_VO)			\
	X("work", OVERSTAP__ADVICE__ADVICE_WORK)		\
	X("day_care", OVERSTAP__ADVICE__ADVICE_DAY_CARE)	\
	X("none", OVERSTAP__ADVICE__ADVICE_NONE)

#define LEVELS(X)						\
	X("none", OVERSTAP__REF_LEVEL__LEVEL_NONE)		\
	X("1F", OVERSTAP__REF_LEVEL__LEVEL_1F)			\
	X("2F", OVERSTAP__REF_LEVEL__LEVEL_2F)			\
	X("3F", OVERSTAP__REF_LEVEL__LEVEL_3F)

#define DIPLOMAS(X)						\
	X("none", OVERSTAP__DIPLOMA__DIPLOMA_NONE)		\
	X("vmbo_b", OVERSTAP__DIPLOMA__DIPLOMA_VMBO_B)		\
	X("vmbo_k", OVERSTAP__DIPLOMA__DIPLOMA_VMBO_K)		\
	X("vmbo_gt", OVERSTAP__DIPLOMA__DIPLOMA_VMBO_GT)	\
	X("vmbo_t", OVERSTAP__DIPLOMA__DIPLOMA_VMBO_T)		\
	X("havo", OVERSTAP__DIPLOMA__DIPLOMA_HAVO)		\
	X("vwo", OVERSTAP__DIPLOMA__DIPLOMA_VWO)

#define REVIEWERS(X)						\
	X("pupil", OVERSTAP__REVIEWER__REVIEWER_PUPIL)		\
	X("parent", OVERSTAP__REVIEWER__REVIEWER_PARENT)	\
	X("guardian", OVERSTAP__REVIEWER__REVIEWER_GUARDIAN)

#define YESNO(X)						\
	X("yes", OVERSTAP__TRISTATE__TRI_YES)			\
	X("no", OVERSTAP__TRISTATE__TRI_NO)

/* Educational needs only: never a diagnosis or anything medical (design.md §3). */
#define SUPPORT_CODES(X)					\
	X("extra_time", 1) X("small_group", 1) X("fixed_mentor", 1)	\
	X("job_coach", 1) X("language_support", 1) X("reading_support", 1) \
	X("math_support", 1) X("structure", 1) X("practical_learning", 1) \
	X("travel_training", 1) X("social_work", 1) X("other", 1)

#define S_ENTRY(s, v) { s, (int)(v) },
#define S_LIST(s, v) ", " s	/* skip the leading ", " when returning it */

static const struct vocab_entry s_programs[] = { PROGRAMS(S_ENTRY) };
static const struct vocab_entry s_destinations[] = { DESTINATIONS(S_ENTRY) };
static const struct vocab_entry s_advices[] = { ADVICES(S_ENTRY) };
static const struct vocab_entry s_levels[] = { LEVELS(S_ENTRY) };
static const struct vocab_entry s_reviewers[] = { REVIEWERS(S_ENTRY) };
static const struct vocab_entry s_diplomas[] = { DIPLOMAS(S_ENTRY) };
static const struct vocab_entry s_yesno[] = { YESNO(S_ENTRY) };
static const struct vocab_entry s_support[] = { SUPPORT_CODES(S_ENTRY) };

static const char s_program_list[] = PROGRAMS(S_LIST);
static const char s_destination_list[] = DESTINATIONS(S_LIST);
static const char s_advice_list[] = ADVICES(S_LIST);
static const char s_support_list[] = SUPPORT_CODES(S_LIST);
static const char s_diploma_list[] = DIPLOMAS(S_LIST);

int vocab_lookup(const struct vocab_entry *t, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(t[i].str, s) == 0)
			return t[i].value;
	return 0;
}

const char *vocab_name(const struct vocab_entry *t, size_t n, int v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].str;
	return NULL;
}

/* vocab_program_from_str and vocab_program_str, and so on. */
VOCAB_LOOKUPS(vocab_program, Overstap__Program, s_programs)
VOCAB_LOOKUPS(vocab_destination, Overstap__Destination, s_destinations)
VOCAB_LOOKUPS(vocab_advice, Overstap__Advice, s_advices)
VOCAB_LOOKUPS(vocab_level, Overstap__RefLevel, s_levels)
VOCAB_LOOKUPS(vocab_reviewer, Overstap__Reviewer, s_reviewers)
VOCAB_LOOKUPS(vocab_yesno, Overstap__Tristate, s_yesno)
VOCAB_LOOKUPS(vocab_diploma, Overstap__Diploma, s_diplomas)

int vocab_support_code_valid(const char *code)
{
	return vocab_lookup(s_support, ARRAY_SIZE(s_support), code) != 0;
}

const char *vocab_support_codes(void)
{
	return s_support_list + 2;
}

const char *vocab_program_list(void)
{
	return s_program_list + 2;
}

const char *vocab_destination_list(void)
{
	return s_destination_list + 2;
}

const char *vocab_advice_list(void)
{
	return s_advice_list + 2;
}

const char *vocab_diploma_list(void)
{
	return s_diploma_list + 2;
}

/* ---- the staff's spellings (design.md §8.8) --------------------------------- */

/* Folded (csvdialect_fold): lower case, '_' between words. A code in any
 * case or with other separators needs no entry: "MBO-2", "Mbo 2" fold to
 * "mbo_2". "VSO" alone is no program: which of the three is for the map. */
static const struct vocab_alias s_program_alias[] = {
	{ "praktijkonderwijs", "pro" },
	{ "vso_arbeidsmarkt", "vso_arbeid" }, { "vso_arbeidsmarktgericht", "vso_arbeid" },
	{ "vso_arbeidsmarktgerichte_uitstroom", "vso_arbeid" },
	{ "vso_vervolgonderwijs", "vso_vervolg" }, { "vso_diplomagericht", "vso_vervolg" },
	{ "vso_dagbestedingsgericht", "vso_dagbesteding" },
	{ "vmbo_bb", "vmbo_b" }, { "bb", "vmbo_b" }, { "vmbo_basis", "vmbo_b" },
	{ "basisberoepsgerichte_leerweg", "vmbo_b" },
	{ "vmbo_kb", "vmbo_k" }, { "kb", "vmbo_k" }, { "vmbo_kader", "vmbo_k" },
	{ "kaderberoepsgerichte_leerweg", "vmbo_k" },
	{ "vmbo_gl", "vmbo_gt" }, { "vmbo_tl", "vmbo_gt" }, { "vmbo_gl_tl", "vmbo_gt" },
	{ "vmbo_g_t", "vmbo_gt" }, { "gl", "vmbo_gt" }, { "tl", "vmbo_gt" }, { "gt", "vmbo_gt" },
	{ "gl_tl", "vmbo_gt" }, { "mavo", "vmbo_gt" }, { "gemengde_leerweg", "vmbo_gt" },
	{ "theoretische_leerweg", "vmbo_gt" },
	{ "internationale_schakelklas", "isk" }, { "speciaal_onderwijs", "so" },
	{ "speciaal_basisonderwijs", "sbo" }, { "basisonderwijs", "bao" },
	{ "atheneum", "vwo" }, { "gymnasium", "vwo" },
};

/* Destinations; the advice's table is the same with "entree" for mbo_entree. */
static const struct vocab_alias s_destination_alias[] = {
	{ "entree", "mbo_entree" }, { "entreeopleiding", "mbo_entree" },
	{ "mbo_1", "mbo_entree" }, { "mbo_niveau_1", "mbo_entree" }, { "niveau_1", "mbo_entree" },
	{ "mbo2", "mbo_2" }, { "mbo_niveau_2", "mbo_2" }, { "niveau_2", "mbo_2" },
	{ "basisberoepsopleiding", "mbo_2" },
	{ "mbo_3", "mbo_3_4" }, { "mbo_4", "mbo_3_4" }, { "mbo3", "mbo_3_4" }, { "mbo4", "mbo_3_4" },
	{ "mbo_niveau_3", "mbo_3_4" }, { "mbo_niveau_4", "mbo_3_4" }, { "niveau_3", "mbo_3_4" },
	{ "niveau_4", "mbo_3_4" }, { "niveau_3_4", "mbo_3_4" }, { "mbo_34", "mbo_3_4" },
	{ "hbo", "ho" }, { "wo", "ho" }, { "hoger_onderwijs", "ho" },
	{ "voortgezet_onderwijs", "vo" }, { "havo", "vo" }, { "vwo", "vo" },
	{ "werk", "work" }, { "arbeid", "work" }, { "betaald_werk", "work" },
	{ "dagbesteding", "day_care" },
	{ "geen", "none" }, { "geen_vervolg", "none" },
	{ "onbekend", "unknown" },
};

static const struct vocab_alias s_level_alias[] = {
	{ "geen", "none" }, { "onder_1f", "none" },
};

static const struct vocab_alias s_yesno_alias[] = {
	{ "ja", "yes" }, { "j", "yes" }, { "y", "yes" }, { "nee", "no" }, { "n", "no" },
};

static const struct vocab_alias s_event_alias[] = {
	{ "aangemeld", "registered" }, { "aanmelding", "registered" },
	{ "onderwijsovereenkomst_aangeboden", "agreement_offered" },
	{ "ovk_aangeboden", "agreement_offered" },
	{ "niet_ingeschreven", "not_enrolled" }, { "afgewezen", "not_enrolled" },
	{ "teruggetrokken", "withdrawn" }, { "afgemeld", "withdrawn" },
	{ "ingeschreven", "enrolled" }, { "intake_gehouden", "intake_held" },
	{ "intake", "intake_held" },
	{ "nog_ingeschreven", "still_enrolled" }, { "gediplomeerd", "diploma" },
	{ "diploma_behaald", "diploma" }, { "doorgestroomd", "progressed" },
	{ "overgestapt", "switched" }, { "switch", "switched" },
	{ "voortijdig_uitgestroomd", "left_without_diploma" },
	{ "uitgevallen", "left_without_diploma" }, { "uitval", "left_without_diploma" },
	{ "zonder_diploma_vertrokken", "left_without_diploma" },
};

/* The highest diploma (design.md §8.1): the leerweg's names as for a
 * program, but GL and TL are two diplomas here (vmbo_gt, vmbo_t). */
static const struct vocab_alias s_diploma_alias[] = {
	{ "geen", "none" }, { "geen_diploma", "none" }, { "zonder_diploma", "none" },
	{ "vmbo_bb", "vmbo_b" }, { "bb", "vmbo_b" }, { "vmbo_basis", "vmbo_b" },
	{ "basisberoepsgerichte_leerweg", "vmbo_b" },
	{ "vmbo_kb", "vmbo_k" }, { "kb", "vmbo_k" }, { "vmbo_kader", "vmbo_k" },
	{ "kaderberoepsgerichte_leerweg", "vmbo_k" },
	{ "vmbo_gl", "vmbo_gt" }, { "gl", "vmbo_gt" }, { "gt", "vmbo_gt" },
	{ "vmbo_gl_tl", "vmbo_gt" }, { "gl_tl", "vmbo_gt" }, { "gemengde_leerweg", "vmbo_gt" },
	{ "vmbo_tl", "vmbo_t" }, { "tl", "vmbo_t" }, { "mavo", "vmbo_t" },
	{ "theoretische_leerweg", "vmbo_t" },
	{ "atheneum", "vwo" }, { "gymnasium", "vwo" },
};

static const struct vocab_alias s_mbo_level_alias[] = {
	{ "niveau_1", "1" }, { "niveau_2", "2" }, { "niveau_3", "3" }, { "niveau_4", "4" },
	{ "mbo_1", "1" }, { "mbo_2", "2" }, { "mbo_3", "3" }, { "mbo_4", "4" },
	{ "n1", "1" }, { "n2", "2" }, { "n3", "3" }, { "n4", "4" },
	{ "entree", "1" },
};

/* 1 when code, folded, is folded: "1F" against "1f". */
static int s_fold_eq(const char *code, const char *folded)
{
	for (; *code && *folded; code++, folded++) {
		char c = *code >= 'A' && *code <= 'Z' ? (char)(*code + ('a' - 'A')) : *code;

		if (c != *folded)
			return 0;
	}
	return *code == *folded;
}

/* s in the staff's spelling: a code of t (folded) or an alias of a. */
static const char *s_canon(const struct vocab_entry *t, size_t n, const struct vocab_alias *a,
			   size_t na, const char *s)
{
	char f[64];

	/* Most values are written as the code is: no folding for those. */
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(t[i].str, s) == 0)
			return t[i].str;
	if (!s || !csvdialect_fold(s, f, sizeof(f)))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s_fold_eq(t[i].str, f))
			return t[i].str;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].alias, f) == 0)
			return a[i].code;
	return NULL;
}

#define S_CANON(fn, t, a)								\
	const char *fn(const char *s)							\
	{										\
		return s_canon(t, ARRAY_SIZE(t), a, ARRAY_SIZE(a), s);			\
	}
S_CANON(vocab_program_canon, s_programs, s_program_alias)
S_CANON(vocab_destination_canon, s_destinations, s_destination_alias)
S_CANON(vocab_level_canon, s_levels, s_level_alias)
S_CANON(vocab_yesno_canon, s_yesno, s_yesno_alias)
S_CANON(vocab_diploma_canon, s_diplomas, s_diploma_alias)

const char *vocab_canon(const struct vocab_entry *t, size_t n, const struct vocab_alias *a,
			size_t na, const char *s)
{
	return s_canon(t, n, a, na, s);
}

const char *vocab_advice_canon(const char *s)
{
	const char *c = s_canon(s_advices, ARRAY_SIZE(s_advices), NULL, 0, s);

	if (c)
		return c;
	/* The destinations' names, but entree is "entree" and there is no
	 * "unknown" advice. */
	c = vocab_destination_canon(s);
	if (c && strcmp(c, "mbo_entree") == 0)
		return "entree";
	return c && vocab_advice_from_str(c) ? vocab_advice_str(vocab_advice_from_str(c)) : NULL;
}

const char *vocab_mbo_level_canon(const char *s)
{
	static const struct vocab_entry none[1] = { { "", 0 } };

	return s_canon(none, 0, s_mbo_level_alias, ARRAY_SIZE(s_mbo_level_alias), s);
}

const struct vocab_alias *vocab_aliases(const char *list, size_t *n)
{
	static const struct {
		const char *list;
		const struct vocab_alias *a;
		size_t n;
	} all[] = {
		{ "program", s_program_alias, ARRAY_SIZE(s_program_alias) },
		{ "destination", s_destination_alias, ARRAY_SIZE(s_destination_alias) },
		{ "level", s_level_alias, ARRAY_SIZE(s_level_alias) },
		{ "yesno", s_yesno_alias, ARRAY_SIZE(s_yesno_alias) },
		{ "event", s_event_alias, ARRAY_SIZE(s_event_alias) },
		{ "mbo_level", s_mbo_level_alias, ARRAY_SIZE(s_mbo_level_alias) },
		{ "diploma", s_diploma_alias, ARRAY_SIZE(s_diploma_alias) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		if (strcmp(all[i].list, list) == 0) {
			*n = all[i].n;
			return all[i].a;
		}
	}
	*n = 0;
	return NULL;
}

/* ---- outcome events -------------------------------------------------------- */

/* design.md §8 spelling, value, purpose `status` (1) or `follow_up` (0) as design.md §3
 * has it, and whether the event carries an MBO level. */
#define OUTCOME_EVENTS(X)							\
	X("registered", OUTCOME_EV_REGISTERED, 1, 0)				\
	X("agreement_offered", OUTCOME_EV_AGREEMENT_OFFERED, 1, 0)		\
	X("not_enrolled", OUTCOME_EV_NOT_ENROLLED, 1, 0)			\
	X("withdrawn", OUTCOME_EV_WITHDRAWN, 1, 0)				\
	X("enrolled", OUTCOME_EV_ENROLLED, 1, 0)				\
	X("intake_held", OUTCOME_EV_INTAKE_HELD, 1, 0)				\
	X("still_enrolled", OUTCOME_EV_STILL_ENROLLED, 0, 0)			\
	X("diploma", OUTCOME_EV_DIPLOMA, 0, 1)					\
	X("progressed", OUTCOME_EV_PROGRESSED, 0, 1)				\
	X("switched", OUTCOME_EV_SWITCHED, 0, 0)				\
	X("left_without_diploma", OUTCOME_EV_LEFT_WITHOUT_DIPLOMA, 0, 0)

#define S_EVENT_ENTRY(s, v, status, level) { s, v },
#define S_EVENT_KIND(s, v, status, level) [v] = { status, level },
#define S_EVENT_LIST(s, v, status, level) ", " s

static const struct vocab_entry s_events[] = { OUTCOME_EVENTS(S_EVENT_ENTRY) };
static const struct {
	unsigned char status;	/* purpose `status`, statutory */
	unsigned char level;	/* carries an MBO level */
} s_event_kinds[OUTCOME_EV_COUNT] = { OUTCOME_EVENTS(S_EVENT_KIND) };
static const char s_event_list[] = OUTCOME_EVENTS(S_EVENT_LIST);

VOCAB_LOOKUPS(outcome_event, enum outcome_event, s_events)

int outcome_event_is_status(enum outcome_event ev)
{
	return outcome_event_str(ev) && s_event_kinds[ev].status;
}

int outcome_event_needs_level(enum outcome_event ev)
{
	return outcome_event_str(ev) && s_event_kinds[ev].level;
}

const char *outcome_event_list(void)
{
	return s_event_list + 2;
}

const char *outcome_event_canon(const char *s)
{
	return s_canon(s_events, ARRAY_SIZE(s_events), s_event_alias, ARRAY_SIZE(s_event_alias), s);
}

/* vocab: the domain's code lists (design.md §3, §6, §8), one table per list, and
 * the one lookup they all use. */
#include "vocab.h"

#include <stddef.h>
#include <string.h>

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

/* vocab: the domain's code lists (SPEC §6, §8), one table per list. */
#include "vocab.h"

#include <stddef.h>
#include <string.h>

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

#define REVIEWERS(X)						\
	X("pupil", OVERSTAP__REVIEWER__REVIEWER_PUPIL)		\
	X("parent", OVERSTAP__REVIEWER__REVIEWER_PARENT)	\
	X("guardian", OVERSTAP__REVIEWER__REVIEWER_GUARDIAN)

#define YESNO(X)						\
	X("yes", OVERSTAP__TRISTATE__TRI_YES)			\
	X("no", OVERSTAP__TRISTATE__TRI_NO)

/* Educational needs only: never a diagnosis or anything medical (SPEC §3). */
#define SUPPORT_CODES(X)					\
	X("extra_time", 1) X("small_group", 1) X("fixed_mentor", 1)	\
	X("job_coach", 1) X("language_support", 1) X("reading_support", 1) \
	X("math_support", 1) X("structure", 1) X("practical_learning", 1) \
	X("travel_training", 1) X("social_work", 1) X("other", 1)

struct s_entry {
	const char *str;
	int value;
};

#define S_ENTRY(s, v) { s, (int)(v) },
#define S_LIST(s, v) ", " s	/* skip the leading ", " when returning it */

static const struct s_entry s_programs[] = { PROGRAMS(S_ENTRY) };
static const struct s_entry s_destinations[] = { DESTINATIONS(S_ENTRY) };
static const struct s_entry s_advices[] = { ADVICES(S_ENTRY) };
static const struct s_entry s_levels[] = { LEVELS(S_ENTRY) };
static const struct s_entry s_reviewers[] = { REVIEWERS(S_ENTRY) };
static const struct s_entry s_yesno[] = { YESNO(S_ENTRY) };
static const struct s_entry s_support[] = { SUPPORT_CODES(S_ENTRY) };

static const char s_program_list[] = PROGRAMS(S_LIST);
static const char s_destination_list[] = DESTINATIONS(S_LIST);
static const char s_advice_list[] = ADVICES(S_LIST);
static const char s_support_list[] = SUPPORT_CODES(S_LIST);

#define S_N(t) (sizeof(t) / sizeof((t)[0]))

/* 0 (every list's UNSPECIFIED value) when s is NULL or not in the table. */
static int s_from_str(const struct s_entry *t, size_t n, const char *s)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].str, s) == 0)
			return t[i].value;
	return 0;
}

static const char *s_to_str(const struct s_entry *t, size_t n, int v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].str;
	return NULL;
}

Overstap__Program vocab_program_from_str(const char *s)
{
	return (Overstap__Program)s_from_str(s_programs, S_N(s_programs), s);
}

const char *vocab_program_str(Overstap__Program v)
{
	return s_to_str(s_programs, S_N(s_programs), (int)v);
}

Overstap__Destination vocab_destination_from_str(const char *s)
{
	return (Overstap__Destination)s_from_str(s_destinations, S_N(s_destinations), s);
}

const char *vocab_destination_str(Overstap__Destination v)
{
	return s_to_str(s_destinations, S_N(s_destinations), (int)v);
}

Overstap__Advice vocab_advice_from_str(const char *s)
{
	return (Overstap__Advice)s_from_str(s_advices, S_N(s_advices), s);
}

const char *vocab_advice_str(Overstap__Advice v)
{
	return s_to_str(s_advices, S_N(s_advices), (int)v);
}

Overstap__RefLevel vocab_level_from_str(const char *s)
{
	return (Overstap__RefLevel)s_from_str(s_levels, S_N(s_levels), s);
}

const char *vocab_level_str(Overstap__RefLevel v)
{
	return s_to_str(s_levels, S_N(s_levels), (int)v);
}

Overstap__Reviewer vocab_reviewer_from_str(const char *s)
{
	return (Overstap__Reviewer)s_from_str(s_reviewers, S_N(s_reviewers), s);
}

const char *vocab_reviewer_str(Overstap__Reviewer v)
{
	return s_to_str(s_reviewers, S_N(s_reviewers), (int)v);
}

Overstap__Tristate vocab_yesno_from_str(const char *s)
{
	return (Overstap__Tristate)s_from_str(s_yesno, S_N(s_yesno), s);
}

const char *vocab_yesno_str(Overstap__Tristate v)
{
	return s_to_str(s_yesno, S_N(s_yesno), (int)v);
}

int vocab_support_code_valid(const char *code)
{
	return s_from_str(s_support, S_N(s_support), code) != 0;
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

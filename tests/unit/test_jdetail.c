/* Unit tests for jdetail.c: audit details built with jansson keep their keys
 * in order and their types, and no text a peer supplies (quotes, control
 * characters, bidi overrides, invalid UTF-8) leaves its string or makes the
 * audit write fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "crypto.h"
#include "jdetail.h"
#include "store.h"

/* Parse text back; it must be a JSON object. The caller decrefs. */
static json_t *s_load(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);

	if (!j)
		fail_msg("not valid JSON (%s): %s", err.text, text);
	assert_true(json_is_object(j));
	return j;
}

/* Pack one peer string as {"v": ...} and return what it reads back as. */
static char *s_roundtrip(const char *peer_text)
{
	char *out = NULL, *v;
	json_t *j;

	assert_int_equal(jdetail_format(&out, "{s:o}", "v", jdetail_text(peer_text)), 0);
	j = s_load(out);
	assert_int_equal(json_object_size(j), 1);
	assert_true(json_is_string(json_object_get(j, "v")));
	v = strdup(json_string_value(json_object_get(j, "v")));
	json_decref(j);
	free(out);
	return v;
}

static void test_order_and_types(void **state)
{
	char *out = NULL;

	(void)state;
	/* the text the hand-built details had, byte for byte */
	assert_int_equal(jdetail_format(&out, "{s:s, s:I, s:s, s:i}", "reason", "withdrawn",
					"consents", (json_int_t)3, "receipt", "r-1", "days", -2), 0);
	assert_string_equal(out, "{\"reason\":\"withdrawn\",\"consents\":3,\"receipt\":\"r-1\",\"days\":-2}");
	free(out);
	/* keys in the order given, not sorted */
	assert_int_equal(jdetail_format(&out, "{s:s, s:s, s:s}", "z", "1", "a", "2", "m", "3"), 0);
	assert_string_equal(out, "{\"z\":\"1\",\"a\":\"2\",\"m\":\"3\"}");
	free(out);
	assert_int_equal(jdetail_format(&out, "{s:I}", "seq", (json_int_t)INT64_MAX), 0);
	assert_string_equal(out, "{\"seq\":9223372036854775807}");
	free(out);
	assert_int_equal(jdetail_format(&out, "{}"), 0);
	assert_string_equal(out, "{}");
	free(out);
	/* an optional key: left out when NULL */
	assert_int_equal(jdetail_format(&out, "{s:s, s:s*}", "purpose", "handover", "reason",
					(const char *)NULL), 0);
	assert_string_equal(out, "{\"purpose\":\"handover\"}");
	free(out);
}

static void test_escaping(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "say \"hi\"", "say \"hi\"" },
		{ "C:\\dir\\", "C:\\dir\\" },
		{ "line1\nline2\r", "line1\nline2\r" },
		{ "\x1b[31mred\x1b[0m", "\x1b[31mred\x1b[0m" },
		{ "abc\xe2\x80\xae" "fdp.exe", "abc\xe2\x80\xae" "fdp.exe" },	/* U+202E kept, as text */
		{ "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80" },
		{ "", "" },
		/* invalid UTF-8: each bad byte becomes U+FFFD, the rest stays */
		{ "a\xff" "b", "a\xef\xbf\xbd" "b" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },		/* overlong '/' */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* a surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "end\xe2\x82", "end\xef\xbf\xbd\xef\xbf\xbd" },		/* cut off */
		{ "\x80x", "\xef\xbf\xbdx" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *v = s_roundtrip(cases[i].in);

		if (strcmp(v, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\"", i, v);
		free(v);
	}
}

/* The attack: peer text that closes its string and adds keys of its own. */
static void test_hostile_string(void **state)
{
	const char *evil = "x\",\"admin\":true,\"y\":\"";
	char *out = NULL;
	json_t *j;

	(void)state;
	assert_int_equal(jdetail_format(&out, "{s:s, s:o, s:I}", "purpose", "follow_up",
					"reason", jdetail_text(evil), "n", (json_int_t)1), 0);
	j = s_load(out);
	assert_int_equal(json_object_size(j), 3);
	assert_null(json_object_get(j, "admin"));
	assert_null(json_object_get(j, "y"));
	assert_string_equal(json_string_value(json_object_get(j, "reason")), evil);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 1);
	json_decref(j);
	free(out);
}

static void test_textn_and_join(void **state)
{
	char *items[] = { "follow_up_reliance", "bad\xff", "q\"uote" }, *out = NULL;
	json_t *j;

	(void)state;
	/* the handover's basis was "%.16s": at most 16 bytes; a cut character is U+FFFD */
	j = jdetail_textn("consentconsentconsent", 16);
	assert_string_equal(json_string_value(j), "consentconsentco");
	json_decref(j);
	j = jdetail_textn("123456789012345\xc3\xa9", 16);
	assert_string_equal(json_string_value(j), "123456789012345\xef\xbf\xbd");
	json_decref(j);
	j = jdetail_text(NULL);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
	/* a list keeps its comma-joined string value */
	assert_int_equal(jdetail_format(&out, "{s:o, s:o}", "erased", jdetail_join(items, 3, ","),
					"none", jdetail_join(items, 0, ",")), 0);
	j = s_load(out);
	assert_string_equal(json_string_value(json_object_get(j, "erased")),
			    "follow_up_reliance,bad\xef\xbf\xbd,q\"uote");
	assert_string_equal(json_string_value(json_object_get(j, "none")), "");
	json_decref(j);
	free(out);
}

static void test_errors(void **state)
{
	char *out = (char *)"unchanged";

	(void)state;
	/* a bad format, or invalid UTF-8 passed with "s" instead of jdetail_text */
	assert_int_equal(jdetail_format(&out, "{s:q}", "a", 1), -EINVAL);
	assert_null(out);
	assert_int_equal(jdetail_format(&out, "{s:s}", "a", "\xff"), -EINVAL);
	/* a failed jdetail_text (NULL) is out of memory; the other "o" is freed */
	assert_int_equal(jdetail_format(&out, "{s:o, s:o}", "a", (json_t *)NULL,
					"b", json_string("leak?")), -ENOMEM);
	assert_null(out);
}

/* Through the store: the entry holds the detail text, and peer text with
 * invalid UTF-8 does not make the audit write fail. */
struct s_got {
	char detail[512];
	int n;
};

static int s_last(const struct audit_entry *e, void *arg)
{
	struct s_got *g = arg;

	snprintf(g->detail, sizeof(g->detail), "%s", e->detail);
	g->n++;
	return 0;
}

static void test_audit(void **state)
{
	char dir[] = "/tmp/test_jdetail.XXXXXX", path[128], err[256], cmd[160];
	uint8_t master[32];
	struct store *s = NULL;
	struct s_got g = { .n = 0 };
	json_t *j;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	assert_int_equal(crypto_random(master, sizeof(master)), 0);
	assert_int_equal(store_open(path, master, &s, err, sizeof(err)), 0);
	assert_int_equal(store_auditf(s, "peer:MBO1", "withdrawal.received", "rec-1", "MBO1",
				       "{s:o, s:I}", "reason", jdetail_text("x\",\"admin\":true\n\xfe"),
				       "consents", (json_int_t)2), 0);
	assert_int_equal(store_auditf(s, "daemon", "x", "", "", "{s:q}", "a", 1), -EINVAL);
	assert_int_equal(audit_each(store_audit_peek(s), 1, s_last, &g), 0);
	assert_int_equal(g.n, 1);	/* the failed one wrote nothing */
	j = s_load(g.detail);
	assert_int_equal(json_object_size(j), 2);
	assert_string_equal(json_string_value(json_object_get(j, "reason")),
			    "x\",\"admin\":true\n\xef\xbf\xbd");
	json_decref(j);
	store_close(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_types),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_hostile_string),
		cmocka_unit_test(test_textn_and_join),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_audit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

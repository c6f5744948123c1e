/* Unit tests for client/report_out.c: the four renderings of a fabricated
 * Report. The one rule above all: a suppressed value never reaches any output
 * (a sentinel 4242 sits in the value fields of suppressed cells, where the
 * daemon puts 0). Python checks that the JSON parses and fits its schema, the
 * CSV has one record per group, and the HTML closes every tag and loads
 * nothing from outside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

/* The CLI's renderers (client/), linked into this test by tests/CMakeLists.txt. */
#include "out.h"
#include "report_out.h"
#include "util.h"

#define SENTINEL 4242	/* the value of every suppressed count here */
#define SENTINEL_RATE 0.4242

/* --- a fabricated report, in static storage (nothing to free) --- */

static Overstapctl__ReportCount t_counts[512];
static Overstapctl__ReportRate t_rates[256];
static Overstapctl__ReportCell t_cells[256];
static Overstapctl__ReportCell *t_cellp[256];
static Overstapctl__ReportRow t_rows[32];
static Overstapctl__ReportRow *t_rowp[32];
static Overstapctl__ReportTable t_tables[8];
static Overstapctl__ReportTable *t_tablep[8];
static char t_displays[512][16];
static size_t t_ncounts, t_nrates, t_ncells, t_nrows, t_ntables;

static Overstapctl__ReportCount *t_count(uint64_t v)
{
	Overstapctl__ReportCount *c = &t_counts[t_ncounts];

	overstapctl__report_count__init(c);
	c->value = v;
	snprintf(t_displays[t_ncounts], sizeof(t_displays[0]), "%llu", (unsigned long long)v);
	c->display = t_displays[t_ncounts++];
	return c;
}

/* Suppressed, with the sentinel where the daemon would put 0. */
static Overstapctl__ReportCount *t_hidden(void)
{
	Overstapctl__ReportCount *c = t_count(SENTINEL);

	c->suppressed = 1;
	c->display = "<5";
	return c;
}

static Overstapctl__ReportRate *t_rate(double v)
{
	Overstapctl__ReportRate *r = &t_rates[t_nrates++];

	overstapctl__report_rate__init(r);
	r->value = v;
	r->display = "";	/* the renderer rounds it itself */
	return r;
}

static Overstapctl__ReportRate *t_clamp(const char *display)
{
	Overstapctl__ReportRate *r = t_rate(SENTINEL_RATE);

	r->suppressed = 1;
	r->display = (char *)display;
	return r;
}

static Overstapctl__ReportCell *t_cell(const char *measure, Overstapctl__ReportCount *count,
				       const char *den, Overstapctl__ReportCount *den_count,
				       Overstapctl__ReportRate *rate)
{
	Overstapctl__ReportCell *c = &t_cells[t_ncells];

	overstapctl__report_cell__init(c);
	c->measure = (char *)measure;
	c->count = count;
	c->denominator = (char *)den;
	c->denominator_count = den_count;
	c->rate = rate;
	t_cellp[t_ncells] = c;
	return &t_cells[t_ncells++];
}

/* A row; its cells are the last n made. */
static Overstapctl__ReportRow *t_row(char **keys, size_t nkeys, int total, size_t n)
{
	Overstapctl__ReportRow *r = &t_rows[t_nrows];

	overstapctl__report_row__init(r);
	r->keys = keys;
	r->n_keys = nkeys;
	r->total = total;
	r->cells = &t_cellp[t_ncells - n];
	r->n_cells = n;
	t_rowp[t_nrows] = r;
	return &t_rows[t_nrows++];
}

/* A table; its rows are the last n made. */
static void t_table(const char *name, const char *title, char **dims, size_t ndims,
		    char **measures, size_t nmeasures, size_t n)
{
	Overstapctl__ReportTable *t = &t_tables[t_ntables];

	overstapctl__report_table__init(t);
	t->name = (char *)name;
	t->title = (char *)title;
	t->dimensions = dims;
	t->n_dimensions = ndims;
	t->measures = measures;
	t->n_measures = nmeasures;
	t->rows = &t_rowp[t_nrows - n];
	t->n_rows = n;
	t_tablep[t_ntables++] = t;
}

static char *t_main_dims[] = { "program", "advice" };
static char *t_main_measures[] = { "leavers", "handed_over", "started", "bestendig", "diploma",
				   "left_without_diploma" };
static char *t_keys_pro[] = { "pro", "entree" };
static char *t_keys_comma[] = { "vso_arbeid, \"oost\"", "mbo_2" };
static char *t_keys_evil[] = { "<script>alert(1)</script>", "=HYPERLINK(\"x\")" };
static char *t_chart_measures[] = { "handed_over", "started", "bestendig", "diploma",
				    "left_without_diploma" };

/* One group of the main table: a is leavers, b handed over, c started. */
static void t_main_row(char **keys, int total, uint64_t a, uint64_t b, uint64_t c)
{
	t_cell("leavers", t_count(a), "", NULL, NULL);
	t_cell("handed_over", t_count(b), "leavers", t_count(a), t_rate((double)b / (double)a));
	t_cell("started", t_count(c), "handed_over", t_count(b), t_rate((double)c / (double)b));
	/* the sentinel: a small count, its rate clamped */
	t_cell("bestendig", t_hidden(), "started", t_count(c), t_clamp("<25%"));
	t_cell("diploma", t_count(6), "with_consent", t_count(10), t_rate(0.6));
	/* a hidden denominator, and a rate that cannot be shown */
	t_cell("left_without_diploma", t_hidden(), "with_consent", t_hidden(), t_clamp("-"));
	t_row(keys, total ? 0 : 2, total, 6);
}

/* A chart table row over the five chart measures; hide sets which rates are clamped. */
static void t_chart_row(char **keys, int total, double base, unsigned hide)
{
	for (size_t m = 0; m < 5; m++) {
		Overstapctl__ReportRate *rt = hide & (1u << m) ? t_clamp(m % 2 ? ">75%" : "<25%")
							       : t_rate(base - 0.1 * (double)m);
		t_cell(t_chart_measures[m], hide & (1u << m) ? t_hidden() : t_count(10 + m),
		       m == 0 ? "leavers" : "handed_over", t_count(20), rt);
	}
	t_row(keys, total ? 0 : 1, total, 5);
}

static char *t_cohort_dims[] = { "cohort" };
static char *t_program_dims[] = { "program" };
static char *t_dest_dims[] = { "destination" };
static char *t_c1[] = { "2022-2023" }, *t_c2[] = { "2023-2024" }, *t_c3[] = { "2024-2025" };
static char *t_p1[] = { "pro" }, *t_p2[] = { "vso_arbeid" }, *t_p3[] = { "<script>x</script>" };
static char *t_d1[] = { "mbo_entree" }, *t_d2[] = { "work" };
static char *t_cohorts[] = { "2022-2023", "2023-2024", "2024-2025" };

static Overstapctl__Report t_report;

static Overstapctl__Report *t_build(void)
{
	t_ncounts = t_nrates = t_ncells = t_nrows = t_ntables = 0;
	t_main_row(t_keys_pro, 0, 20, 17, 12);
	t_main_row(t_keys_comma, 0, 30, 24, 18);
	t_main_row(t_keys_evil, 0, 10, 9, 7);
	t_main_row(NULL, 1, 60, 50, 37);
	t_table("main", "Leavers by program and advice", t_main_dims, 2, t_main_measures, 6, 4);
	t_chart_row(t_c1, 0, 0.9, 0);
	t_chart_row(t_c2, 0, 0.8, 1u << 2);	/* a gap in bestendig */
	t_chart_row(t_c3, 0, 0.7, 1u << 4);
	t_chart_row(NULL, 1, 0.8, 0);
	t_table("trend", "Trend over cohorts", t_cohort_dims, 1, t_chart_measures, 5, 4);
	t_chart_row(t_p1, 0, 0.85, 1u << 3);
	t_chart_row(t_p2, 0, 0.75, 0);
	t_chart_row(t_p3, 0, 0.65, 1u << 1);
	t_chart_row(NULL, 1, 0.75, 0);
	t_table("program", "Shares per program left", t_program_dims, 1, t_chart_measures, 5, 4);
	t_chart_row(t_d1, 0, 0.95, 0);
	t_chart_row(t_d2, 0, 0.55, 1u << 0);
	t_table("destination", "Shares per destination type", t_dest_dims, 1, t_chart_measures, 5,
		2);

	overstapctl__report__init(&t_report);
	t_report.schema_version = 1;
	t_report.side = "sending";
	t_report.institution = "12AB00";
	t_report.institution_name = "Praktijkschool De Brug";
	t_report.cohorts = t_cohorts;
	t_report.n_cohorts = 3;
	t_report.min_cell = 5;
	t_report.generated_at = 1760434200000LL;	/* 2025-10-14T09:30:00Z */
	t_report.reference_date = "1 October";
	t_report.tables = t_tablep;
	t_report.n_tables = t_ntables;
	return &t_report;
}

/* --- helpers --- */

/* The output of one writer, NUL-terminated; the caller frees it. */
static char *t_render(int (*write)(FILE *, const Overstapctl__Report *),
		      const Overstapctl__Report *r, size_t *len)
{
	/* static: GCC takes a memstream's buffer for a pointer into this frame */
	static char *buf;
	static size_t n;
	FILE *f;

	buf = NULL;
	n = 0;
	f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(write(f, r), 0);
	assert_int_equal(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

/* The CSV writer in each dialect, in t_render's shape. */
static int t_csv_nl(FILE *f, const Overstapctl__Report *r)
{
	return report_write_csv(f, r, REPORT_CSV_EXCEL_NL);
}

static int t_csv_rfc(FILE *f, const Overstapctl__Report *r)
{
	return report_write_csv(f, r, REPORT_CSV_RFC4180);
}

/* Feed text to python running script (both passed through the environment,
 * so no shell quoting); true when it exits 0. */
static int t_python_with(const char *python, const char *script, const char *text)
{
	FILE *p;
	int st;

	assert_int_equal(setenv("T_PY", python, 1), 0);
	assert_int_equal(setenv("T_SCRIPT", script, 1), 0);
	p = popen("\"$T_PY\" -c \"$T_SCRIPT\"", "w");
	assert_non_null(p);
	fputs(text, p);
	st = pclose(p);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The system interpreter, as the other Python tests use. */
static int t_python(const char *script, const char *text)
{
	return t_python_with("/usr/bin/python3", script, text);
}

/* The interpreter to validate with: the system one, else the first python3 on
 * PATH, that has jsonschema; else the system one, which skips that check. */
static const char *t_python_jsonschema(void)
{
	static const char *const pys[] = { "/usr/bin/python3", "python3" };

	for (size_t i = 0; i < ARRAY_SIZE(pys); i++) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "%s -c 'import jsonschema' 2>/dev/null", pys[i]);
		if (system(cmd) == 0)
			return pys[i];
	}
	return pys[0];
}

static void t_no_sentinel(const char *out)
{
	assert_null(strstr(out, "4242"));
	assert_null(strstr(out, "42%"));
}

/* --- text --- */

static void test_text(void **state)
{
	char *out = t_render(report_write_text, t_build(), NULL);
	static const char *const labels[] = { "institution", "side", "cohorts", "min_cell",
					      "generated at", "reference date" };
	size_t maxw = 0;

	(void)state;
	/* the header block: every label padded to the same column */
	for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
		char line[64];
		snprintf(line, sizeof(line), "\n%-16s  ", labels[i]);
		assert_non_null(strstr(out, line));
	}
	assert_non_null(strstr(out, "\ninstitution       Praktijkschool De Brug (12AB00)\n"));
	assert_non_null(strstr(out, "\ncohorts           2022-2023, 2023-2024, 2024-2025\n"));
	assert_non_null(strstr(out, "\nreference date    1 October\n"));
	assert_non_null(strstr(out, "Leavers by program and advice"));
	/* counts and "rate of denominator" */
	assert_non_null(strstr(out, "85% of 20"));
	assert_non_null(strstr(out, "% OF LEAVERS"));
	assert_non_null(strstr(out, "<25% of 12"));
	assert_non_null(strstr(out, "<5"));
	t_no_sentinel(out);
	/* no line past the width; the total row ruled off and last of each block */
	for (const char *p = out; *p;) {
		size_t n = strcspn(p, "\n");
		maxw = n > maxw ? n : maxw;
		p += n + (p[n] != '\0');
	}
	assert_true(maxw <= REPORT_TEXT_WIDTH);
	assert_non_null(strstr(out, "---\ntotal "));
	/* wrapped into at least two column groups, each repeating the keys */
	assert_non_null(strstr(out, "PROGRAM"));
	assert_non_null(strstr(strstr(out, "PROGRAM") + 1, "PROGRAM"));
	free(out);
}

/* --- CSV --- */

static const char t_csv_check[] =
	"import csv, io, sys\n"
	"raw = sys.stdin.buffer.read()\n"
	"assert not raw.startswith(b'\\xef\\xbb\\xbf')\n"
	"rows = list(csv.reader(io.StringIO(raw.decode('utf-8'), newline='')))\n"
	"assert len(rows) == 5, len(rows)\n"
	"assert all(len(r) == len(rows[0]) for r in rows), [len(r) for r in rows]\n"
	"assert rows[2][0] == 'vso_arbeid, \"oost\"', rows[2][0]\n"
	"assert rows[3][1] == \"'=HYPERLINK(\\\"x\\\")\", rows[3][1]\n"
	"assert rows[4][:2] == ['total', 'total'], rows[4]\n"
	"assert float(rows[1][6]) == 0.85, rows[1]\n";

/* How a Dutch spreadsheet reads the excel-nl file (LibreOffice's import
 * with `;`, UTF-8 and a Dutch locale: --infilter=CSV:59,34,76,1): the BOM
 * says UTF-8, `;` splits, and a field is a number when it is digits with at
 * most one decimal comma (a point would be a thousands separator there, so
 * none may appear). Every count and rate arrives as a number, each rate equal
 * to count / denominator to four decimals, and é/ë arrive intact. */
static const char t_csv_nl_check[] =
	"import csv, io, re, sys\n"
	"raw = sys.stdin.buffer.read()\n"
	"assert raw.startswith(b'\\xef\\xbb\\xbf')\n"
	"assert b'\\n' not in raw.replace(b'\\r\\n', b'')\n"
	"rows = list(csv.reader(io.StringIO(raw[3:].decode('utf-8'), newline=''), delimiter=';'))\n"
	"num = re.compile(r'^[0-9]+(,[0-9]+)?$')\n"
	"def nl(x):\n"
	"    assert num.match(x), x\n"
	"    return float(x.replace(',', '.'))\n"
	"head = rows[0]\n"
	"assert len(rows) == 5 and all(len(r) == len(head) for r in rows)\n"
	"assert rows[1][0] == 'café ë', rows[1][0]\n"
	"assert rows[2][0] == 'vso_arbeid, \"oost\"', rows[2][0]\n"
	"seen = 0\n"
	"for r in rows[1:]:\n"
	"    for i, h in enumerate(head):\n"
	"        if h.endswith('_rate') and r[i] and num.match(r[i]):\n"
	"            c, d = nl(r[i - 1]), nl(r[i + 1])\n"
	"            assert abs(nl(r[i]) - c / d) < 0.00005, (h, r[i], c, d)\n"
	"            seen += 1\n"
	"        elif h in ('leavers', 'handed_over', 'started') or h.endswith('_denominator'):\n"
	"            assert r[i] == '' or num.match(r[i]) or r[i] in ('<5', 'x'), (h, r[i])\n"
	"assert seen >= 8, seen\n"
	"assert nl(rows[1][6]) == 0.85 and rows[1][6] == '0,85'\n";

static void t_crlf(const char *out, size_t len, size_t want)
{
	size_t records = 0;

	for (size_t i = 0; i < len; i++)
		if (out[i] == '\n') {
			assert_true(i > 0 && out[i - 1] == '\r');
			records++;
		}
	assert_int_equal(records, want);	/* no key spans lines */
	assert_true(len >= 2 && out[len - 2] == '\r' && out[len - 1] == '\n');
}

/* rfc4180: `,`, a decimal point, no BOM, CRLF. */
static void test_csv(void **state)
{
	size_t len = 0;
	char *out = t_render(t_csv_rfc, t_build(), &len);

	(void)state;
	assert_true(strncmp(out,
			    "program,advice,leavers,leavers_rate,leavers_denominator,handed_over,"
			    "handed_over_rate,handed_over_denominator,started,",
			    100) == 0);
	t_crlf(out, len, 5);	/* header, 3 groups, total */
	/* rates are numbers: the share, at most four decimals */
	assert_non_null(strstr(out, "\r\npro,entree,20,,,17,0.85,20,12,0.7059,17,<5,<25%,12,6,0.6,10,"));
	assert_non_null(strstr(out, "\r\n\"vso_arbeid, \"\"oost\"\"\",mbo_2,"));
	assert_non_null(strstr(out, ",\"'=HYPERLINK(\"\"x\"\")\","));
	assert_non_null(strstr(out, "\r\ntotal,total,60,"));
	/* a rate that cannot be shown is empty, not a lone "-" */
	assert_null(strstr(out, ",-,"));
	t_no_sentinel(out);
	assert_true(t_python(t_csv_check, out));
	free(out);
}

/* excel-nl: `;`, a decimal comma, the BOM, CRLF; read as a Dutch spreadsheet
 * reads it. */
static void test_csv_excel_nl(void **state)
{
	Overstapctl__Report *r = t_build();
	char *key = r->tables[0]->rows[0]->keys[0];
	size_t len = 0;
	char *out;

	(void)state;
	r->tables[0]->rows[0]->keys[0] = "café ë";
	out = t_render(t_csv_nl, r, &len);
	r->tables[0]->rows[0]->keys[0] = key;
	assert_memory_equal(out, "\xEF\xBB\xBF", 3);
	assert_true(strncmp(out + 3, "program;advice;leavers;leavers_rate;leavers_denominator;", 56) == 0);
	t_crlf(out, len, 5);
	assert_non_null(strstr(out, "\r\ncafé ë;entree;20;;;17;0,85;20;12;0,7059;17;<5;<25%;12;6;0,6;10;"));
	/* a comma in a value needs no quotes here, a `;` does */
	assert_non_null(strstr(out, "\r\nvso_arbeid, \"\"oost\"\";mbo_2;") ||
			strstr(out, "\r\n\"vso_arbeid, \"\"oost\"\"\";mbo_2;"));
	assert_null(strstr(out, "0.85"));
	t_no_sentinel(out);
	assert_true(t_python(t_csv_nl_check, out));
	free(out);
}

static void test_csv_field(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "pro", "pro" },	  { "", "" },
		{ "a,b", "\"a,b\"" },	  { "a\"b", "\"a\"\"b\"" },
		{ "a\nb", "\"a\nb\"" },	  { "a\rb", "\"a\rb\"" },
		{ "=1+2", "'=1+2" },	  { "+31", "'+31" },
		{ "-x", "'-x" },	  { "@SUM(A1)", "'@SUM(A1)" },
		{ "\tx", "'\tx" },	  { "=a,b", "\"'=a,b\"" },
		{ "<5", "<5" },		  { "a=b", "a=b" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		assert_non_null(f);
		report_csv_field(f, cases[i].in, 1, ',');
		assert_int_equal(fclose(f), 0);
		assert_string_equal(buf, cases[i].out);
		free(buf);
	}
}

/* --- JSON --- */

/* Checks the document, then validates it against the schema when the
 * jsonschema module is there (exit 0 either way then, saying so). */
static const char t_json_check[] =
	"import json, os, sys\n"
	"d = json.load(sys.stdin)\n"
	"assert d['schema'] == 'overstap-report' and d['schema_version'] == 1\n"
	"assert d['generated_at'] == '2025-10-14T09:30:00Z', d['generated_at']\n"
	"assert [t['name'] for t in d['tables']] == ['main', 'trend', 'program', 'destination']\n"
	"m = d['tables'][0]\n"
	"assert len(m['rows']) == 4 and m['rows'][3]['total'] and m['rows'][3]['keys'] == {}\n"
	"r = m['rows'][0]\n"
	"assert r['keys'] == {'program': 'pro', 'advice': 'entree'}, r['keys']\n"
	"c = r['cells']\n"
	"assert c['handed_over'] == {'count': 17, 'denominator': 'leavers',\n"
	"    'denominator_count': 20, 'rate': 0.85}, c['handed_over']\n"
	"assert c['leavers'] == {'count': 20, 'denominator': None, 'denominator_count': None,\n"
	"    'rate': None}, c['leavers']\n"
	"assert c['bestendig']['count'] == {'suppressed': True, 'display': '<5'}\n"
	"assert c['bestendig']['rate'] == {'suppressed': True, 'display': '<25%'}\n"
	"assert c['left_without_diploma']['denominator_count'] == {'suppressed': True, 'display': '<5'}\n"
	"assert c['left_without_diploma']['rate'] == {'suppressed': True, 'display': '-'}\n"
	"assert m['rows'][2]['keys']['program'] == '<script>alert(1)</script>'\n"
	"try:\n"
	"    import jsonschema\n"
	"except ImportError:\n"
	"    print('test_report_out: jsonschema not installed: schema check skipped')\n"
	"    sys.exit(0)\n"
	"with open(os.environ['T_SCHEMA']) as f:\n"
	"    schema = json.load(f)\n"
	"jsonschema.Draft202012Validator.check_schema(schema)\n"
	"jsonschema.Draft202012Validator(schema).validate(d)\n"
	"bad = json.loads(json.dumps(d))\n"
	"bad['tables'][0]['rows'][0]['cells']['bestendig']['count'] = {'suppressed': True}\n"
	"assert not jsonschema.Draft202012Validator(schema).is_valid(bad)\n"
	"bad['tables'][0]['rows'][0]['cells']['bestendig']['count'] = {'suppressed': True,\n"
	"    'display': '<5', 'value': 4}\n"
	"assert not jsonschema.Draft202012Validator(schema).is_valid(bad)\n";

/* docs/report-schema.json, found from tests/data (ctest sets
 * OVERSTAP_TEST_DATA) or else from this file's place in the tree. */
static void t_schema_path(void)
{
	const char *data = getenv("OVERSTAP_TEST_DATA");
	char path[4096], here[4096];

	if (data) {
		snprintf(path, sizeof(path), "%s/../../docs/report-schema.json", data);
	} else {
		snprintf(here, sizeof(here), "%s", __FILE__);
		snprintf(path, sizeof(path), "%s/../../docs/report-schema.json", dirname(here));
	}
	assert_int_equal(setenv("T_SCHEMA", path, 1), 0);
}

static void test_json(void **state)
{
	char *out = t_render(report_write_json, t_build(), NULL);

	(void)state;
	assert_non_null(strstr(out, "\"schema_version\": 1,"));
	assert_non_null(strstr(out, "\"suppressed\": true"));
	t_no_sentinel(out);
	assert_null(strstr(out, "0.4242"));
	t_schema_path();
	assert_true(t_python_with(t_python_jsonschema(), t_json_check, out));
	free(out);
}

/* --- HTML --- */

/* Every element closed (void ones excepted) and in order; nothing that loads
 * from outside: no script, img, link, iframe, object, embed, no href or src,
 * no URL or "//" in any attribute, and no url( or @import in the CSS. */
static const char t_html_check[] =
	"import os, sys\n"
	"from html.parser import HTMLParser\n"
	"VOID = {'area','base','br','col','embed','hr','img','input','link','meta','source',\n"
	"        'track','wbr'}\n"
	"BANNED = {'script','img','link','iframe','object','embed','base','audio','video',\n"
	"          'source','image','use','foreignobject'}\n"
	"class P(HTMLParser):\n"
	"    def __init__(self):\n"
	"        super().__init__(convert_charrefs=True)\n"
	"        self.stack, self.errors, self.svgs, self.titles = [], [], 0, 0\n"
	"    def attrs(self, tag, attrs):\n"
	"        if tag in BANNED: self.errors.append('banned <%s>' % tag)\n"
	"        if tag == 'svg': self.svgs += 1\n"
	"        for k, v in attrs:\n"
	"            v = (v or '').lower()\n"
	"            if k in ('href', 'src', 'xlink:href', 'srcset', 'action', 'style') or \\\n"
	"               k.startswith('on'):\n"
	"                self.errors.append('attribute %s on <%s>' % (k, tag))\n"
	"            for bad in ('http:', 'https:', '//', 'url(', 'javascript:', 'data:'):\n"
	"                if bad in v and not (tag == 'meta' and k == 'content' and bad == 'data:'):\n"
	"                    self.errors.append('%s in %s=%r' % (bad, k, v))\n"
	"    def handle_starttag(self, tag, attrs):\n"
	"        self.attrs(tag, attrs)\n"
	"        if tag not in VOID: self.stack.append(tag)\n"
	"    def handle_startendtag(self, tag, attrs):\n"
	"        self.attrs(tag, attrs)\n"
	"    def handle_endtag(self, tag):\n"
	"        if not self.stack or self.stack[-1] != tag:\n"
	"            self.errors.append('</%s> closes %r' % (tag, self.stack[-1:]))\n"
	"        else:\n"
	"            self.stack.pop()\n"
	"            if tag == 'title': self.titles += 1\n"
	"    def handle_data(self, data):\n"
	"        if self.stack and self.stack[-1] == 'style':\n"
	"            low = data.lower()\n"
	"            for bad in ('url(', '@import', '//', 'http:', 'https:', '@font-face'):\n"
	"                if bad in low: self.errors.append('%s in CSS' % bad)\n"
	"raw = sys.stdin.read()\n"
	"assert raw.startswith('<!DOCTYPE html>'), raw[:20]\n"
	"p = P(); p.feed(raw); p.close()\n"
	"assert not p.stack, 'unclosed: %r' % p.stack\n"
	"assert not p.errors, p.errors\n"
	"assert p.svgs == int(os.environ['T_SVGS']), p.svgs\n"
	"assert p.titles > p.svgs, p.titles\n";

static void test_html(void **state)
{
	char *out = t_render(report_write_html, t_build(), NULL);

	(void)state;
	assert_true(strncmp(out, "<!DOCTYPE html>\n", 16) == 0);
	assert_non_null(strstr(out, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(out, "<title>Outflow report: Praktijkschool De Brug (12AB00), "
				    "cohorts 2022-2023, 2023-2024, 2024-2025</title>"));
	/* the keys are escaped, in the table and in the charts */
	assert_null(strstr(out, "<script"));
	assert_non_null(strstr(out, "<th scope=\"row\">&lt;script&gt;alert(1)&lt;/script&gt;</th>"));
	assert_non_null(strstr(out, "&lt;script&gt;x&lt;/script&gt;"));
	assert_non_null(strstr(out, "vso_arbeid, &quot;oost&quot;"));
	/* the explanation and the table with its denominators */
	assert_non_null(strstr(out, "<strong>&lt;5</strong> means fewer than 5 pupils"));
	assert_non_null(strstr(out, "Shown as a share of <em>leavers</em>."));
	assert_non_null(strstr(out, "85%</span> <span class=\"of\">of <span>20</span> leavers"));
	assert_non_null(strstr(out, "<span class=\"hidden\" title=\"hidden: too few pupils\">"
				    "&lt;5</span>"));
	/* charts: bars, a trend line with a gap, hidden shares as text */
	assert_non_null(strstr(out, "<svg "));
	assert_non_null(strstr(out, "role=\"img\" aria-labelledby="));
	assert_non_null(strstr(out, "<polyline "));
	assert_non_null(strstr(out, "<text class=\"hid\" x=\"176\""));
	assert_non_null(strstr(out, ">&lt;25%</text>"));
	assert_non_null(strstr(out, "Not drawn (too few pupils"));
	assert_null(strstr(out, "http:"));
	assert_null(strstr(out, "https:"));
	assert_null(strstr(out, "url("));
	t_no_sentinel(out);
	assert_int_equal(setenv("T_SVGS", "3", 1), 0);
	assert_true(t_python(t_html_check, out));
	free(out);
}

/* A hidden point leaves a gap: bestendig has 2022-2023 and 2024-2025 only,
 * so it gets markers but no line; left_without_diploma one line of two. */
static void test_html_trend_gaps(void **state)
{
	char *out = t_render(report_write_html, t_build(), NULL);
	const char *trend = strstr(out, "<g role=\"group\" aria-label=\"bestendig\">");
	const char *next;

	(void)state;
	assert_non_null(trend);
	next = strstr(trend, "</g>");
	assert_non_null(next);
	assert_null(memmem(trend, (size_t)(next - trend), "<polyline", 9));
	trend = strstr(out, "<g role=\"group\" aria-label=\"left without diploma\">");
	assert_non_null(trend);
	next = strstr(trend, "</g>");
	assert_non_null(memmem(trend, (size_t)(next - trend), "<polyline", 9));
	free(out);
}

/* --- edges --- */

/* No tables, no cells: every format still writes a whole document. */
static void test_empty(void **state)
{
	Overstapctl__Report r = OVERSTAPCTL__REPORT__INIT;
	char *out;

	(void)state;
	out = t_render(report_write_text, &r, NULL);
	assert_non_null(strstr(out, "no table in this report"));
	free(out);
	out = t_render(t_csv_nl, &r, NULL);
	assert_string_equal(out, "\xEF\xBB\xBF");
	free(out);
	out = t_render(t_csv_rfc, &r, NULL);
	assert_string_equal(out, "");
	free(out);
	out = t_render(report_write_json, &r, NULL);
	assert_non_null(strstr(out, "\"tables\": []"));
	assert_true(t_python("import json, sys\n"
			     "assert json.load(sys.stdin)['generated_at'] is None\n", out));
	free(out);
	out = t_render(report_write_html, &r, NULL);
	assert_non_null(strstr(out, "There is no table in this report."));
	assert_int_equal(setenv("T_SVGS", "0", 1), 0);
	assert_true(t_python(t_html_check, out));
	free(out);
}

/* A row with missing cells and NULL submessages renders as "-" / null. */
static void test_missing_cells(void **state)
{
	Overstapctl__Report *r = t_build();
	Overstapctl__ReportRow *row = r->tables[0]->rows[0];
	char *out;

	(void)state;
	row->n_cells = 2;			/* only leavers and handed_over */
	row->cells[1]->rate = NULL;
	row->cells[1]->denominator_count = NULL;
	out = t_render(report_write_json, r, NULL);
	assert_true(t_python("import json,sys\n"
			     "c = json.load(sys.stdin)['tables'][0]['rows'][0]['cells']\n"
			     "assert c['started'] is None and c['handed_over']['rate'] is None\n"
			     "assert c['handed_over']['denominator_count'] is None\n", out));
	free(out);
	out = t_render(report_write_text, r, NULL);
	free(out);
	out = t_render(t_csv_rfc, r, NULL);
	assert_non_null(strstr(out, "\r\npro,entree,20,,,17,,,,,,,,,"));
	free(out);
	out = t_render(report_write_html, r, NULL);
	free(out);
}

/* Keys come from other institutions' data: on a terminal an escape sequence
 * is shown, not obeyed; in HTML a control character becomes U+FFFD. */
static void test_control_chars(void **state)
{
	Overstapctl__Report *r = t_build();
	static char *keys[] = { "pro\x1b[2J", "entree" };
	char *out;

	(void)state;
	r->tables[0]->rows[0]->keys = keys;
	out = t_render(report_write_text, r, NULL);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "pro\\x1B[2J"));
	free(out);
	out = t_render(report_write_html, r, NULL);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "pro&#xFFFD;[2J"));
	free(out);
	out = t_render(report_write_json, r, NULL);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strcasestr(out, "\"pro\\u001b[2J\""));
	free(out);
}

/* A hostile peer's bytes in a key, a value and a column name: invalid UTF-8
 * becomes U+FFFD and a control character an escape, and the document still
 * parses with everything else in it. */
static void test_json_bad_utf8(void **state)
{
	Overstapctl__Report *r = t_build();
	static char *keys[] = { "pro\x1b[2J\x01", "entr\xC3(e\xFF" };
	static char *dims[] = { "program", "adv\xE2\x82ice" };
	json_t *doc, *row;
	json_error_t err;
	char *out;

	(void)state;
	r->tables[0]->rows[0]->keys = keys;
	r->tables[0]->dimensions = dims;
	r->institution_name = "Sint-\xC0\xAFJoris";	/* an overlong '/' */
	out = t_render(report_write_json, r, NULL);
	doc = json_loads(out, 0, &err);
	if (!doc)
		fail_msg("not JSON: %s at line %d", err.text, err.line);
	assert_string_equal(json_string_value(json_object_get(doc, "institution_name")),
			    "Sint-\xEF\xBF\xBD\xEF\xBF\xBDJoris");
	row = json_array_get(json_object_get(json_array_get(json_object_get(doc, "tables"), 0),
					     "rows"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(row, "keys"),
							      "program")), "pro\x1b[2J\x01");
	assert_string_equal(json_string_value(json_object_get(json_object_get(row, "keys"),
							      "adv\xEF\xBF\xBD\xEF\xBF\xBDice")),
			    "entr\xEF\xBF\xBD(e\xEF\xBF\xBD");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
				 row, "cells"), "leavers"), "count")), 20);
	json_decref(doc);
	free(out);
}

/* A report without a breakdown: only the total row, under a "group" column. */
static void test_no_dimensions(void **state)
{
	Overstapctl__Report *r = t_build();
	Overstapctl__ReportTable *t = r->tables[0];
	char *out;

	(void)state;
	t->n_dimensions = 0;
	t->rows += 3;	/* the total row only */
	t->n_rows = 1;
	out = t_render(report_write_text, r, NULL);
	assert_non_null(strstr(out, "\nGROUP  LEAVERS  HANDED_OVER"));
	assert_non_null(strstr(out, "\ntotal       60"));
	free(out);
	out = t_render(t_csv_nl, r, NULL);
	assert_non_null(strstr(out, "\xEF\xBB\xBFgroup;leavers;"));
	assert_non_null(strstr(out, "\r\ntotal;60;;;50;0,8333;60;"));
	free(out);
	out = t_render(report_write_json, r, NULL);
	assert_true(t_python("import json,sys\n"
			     "t = json.load(sys.stdin)['tables'][0]\n"
			     "assert t['dimensions'] == [] and len(t['rows']) == 1\n"
			     "assert t['rows'][0]['keys'] == {} and t['rows'][0]['total']\n", out));
	free(out);
	out = t_render(report_write_html, r, NULL);
	assert_non_null(strstr(out, "<th scope=\"row\" colspan=\"1\">total</th>"));
	free(out);
}

/* A full disk is -EIO from every writer. */
static void test_write_error(void **state)
{
	int (*const writers[])(FILE *, const Overstapctl__Report *) = {
		report_write_text, t_csv_nl, t_csv_rfc, report_write_json, report_write_html,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(writers); i++) {
		FILE *f = fopen("/dev/full", "w");
		if (!f)
			skip();
		assert_int_equal(writers[i](f, t_build()), -EIO);
		fclose(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),	     cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_excel_nl), cmocka_unit_test(test_csv_field),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_html),	     cmocka_unit_test(test_html_trend_gaps),
		cmocka_unit_test(test_empty),	     cmocka_unit_test(test_missing_cells),
		cmocka_unit_test(test_control_chars), cmocka_unit_test(test_json_bad_utf8),
		cmocka_unit_test(test_no_dimensions),
		cmocka_unit_test(test_write_error),
	};

	signal(SIGPIPE, SIG_IGN);	/* a python check that fails early fails its test, not all */
	return cmocka_run_group_tests(tests, NULL, NULL);
}

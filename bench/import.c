/* bench_import: parse N leavers (default 100,000) as the CLI does, once as
 * the canonical file (comma, UTF-8, YYYY-MM-DD, English headers and codes)
 * and once as a Dutch school system writes the same pupils (';', CRLF,
 * Windows-1252, dd-mm-yyyy, Dutch headers and codes, a class column and
 * Excel's trailing ";;;"); design.md §8.8 and issue 12's benchmark.
 *
 *   bench_import [-n N] [-r RUNS]
 *
 * Each run is a child process that makes its file and parses it, so that
 * its peak RSS is its own; the run with the least CPU time of RUNS (default
 * 3, alternating) is shown, with records/s (per CPU second), CPU and wall
 * ms, peak RSS and the ratio dialect/plain (the target is at most 1.3). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leavers.h"

static double s_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A deterministic generator: the same pupils in both files. */
static uint64_t s_rng;

static unsigned s_rand(unsigned n)
{
	s_rng ^= s_rng << 13;
	s_rng ^= s_rng >> 7;
	s_rng ^= s_rng << 17;
	return (unsigned)(s_rng % n);
}

/* A 9-digit number that passes the BSN elfproef. */
static void s_bsn(char out[10])
{
	for (;;) {
		int sum = 0;

		for (int i = 0; i < 8; i++) {
			out[i] = (char)('0' + s_rand(10));
			sum += (out[i] - '0') * (9 - i);
		}
		sum %= 11;
		if (sum < 10 && !(out[0] == '1' && out[1] == '0')) {
			out[8] = (char)('0' + sum);
			out[9] = '\0';
			return;
		}
	}
}

/* Each value as the plain file and as the Dutch file writes it. */
struct s_pair {
	const char *plain, *dutch;
};

static const struct s_pair s_given[] = {
	{ "Daan", "Daan" }, { "Zo\xc3\xab", "Zo\xeb" }, { "Chlo\xc3\xa9", "Chlo\xe9" },
	{ "Fran\xc3\xa7ois", "Fran\xe7ois" }, { "Emma", "Emma" }, { "Noah", "Noah" },
};
static const struct s_pair s_tv[] = { { "", "" }, { "de", "de" }, { "van der", "van der" },
				      { "van 't", "van 't" } };
static const struct s_pair s_family[] = {
	{ "Vries", "Vries" }, { "Berg", "Berg" }, { "\xc3\x87""elik", "\xc7""elik" },
	{ "M\xc3\xbcller", "M\xfcller" }, { "Jansen", "Jansen" },
};
static const struct s_pair s_program[] = {
	{ "pro", "PrO" }, { "vmbo_b", "vmbo BB" }, { "vmbo_k", "VMBO-KB" }, { "vmbo_gt", "GL/TL" },
	{ "havo", "Havo" }, { "vso_arbeid", "VSO arbeid" },
};
static const struct s_pair s_dest[] = {
	{ "mbo_entree", "Entree" }, { "mbo_2", "mbo-2" }, { "mbo_3_4", "niveau 3" },
	{ "work", "werk" },
};
static const struct s_pair s_advice[] = {
	{ "entree", "Entree" }, { "mbo_2", "niveau 2" }, { "mbo_3_4", "mbo 3/4" },
};
static const struct s_pair s_yesno[] = { { "yes", "ja" }, { "no", "nee" } };
static const struct s_pair s_level[] = { { "1F", "1f" }, { "2F", "2F" }, { "none", "geen" } };

#define PICK(t, dutch) ((dutch) ? (t)[s_rand(sizeof(t) / sizeof((t)[0]))].dutch \
				: (t)[s_rand(sizeof(t) / sizeof((t)[0]))].plain)

/* The file of n pupils; the caller frees it. */
static char *s_file(size_t n, int dutch, size_t *len)
{
	size_t cap = n * 256 + 1024, at = 0;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	s_rng = 88172645463325252ULL;
	at += (size_t)snprintf(buf, cap, "%s", dutch ?
		"Leerlingnummer;BSN;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Klas;"
		"Opleiding;Schooljaar;Datum uitschrijving;Bestemming;BRIN bestemming;Advies;"
		"Advies opgevolgd;Referentieniveau taal;Referentieniveau rekenen;;;\r\n" :
		"pupil_ref,pgn,given_name,tussenvoegsel,family_name,birth_date,program,cohort,"
		"exit_date,destination_type,destination_institution,advice,advice_followed,"
		"level_taal,level_rekenen\n");
	for (size_t i = 0; i < n; i++) {
		char pgn[10];
		unsigned by = 2007 + s_rand(3), bm = 1 + s_rand(12), bd = 1 + s_rand(28);
		unsigned ed = 1 + s_rand(15);
		const char *given = PICK(s_given, dutch), *tv = PICK(s_tv, dutch);
		const char *family = PICK(s_family, dutch), *prog = PICK(s_program, dutch);
		const char *dest = PICK(s_dest, dutch), *adv = PICK(s_advice, dutch);
		const char *yn = PICK(s_yesno, dutch), *lt = PICK(s_level, dutch);
		const char *lr = PICK(s_level, dutch);

		s_bsn(pgn);
		if (dutch)
			at += (size_t)snprintf(buf + at, cap - at,
				"L%06zu;%s;%s;%s;%s;%02u-%02u-%04u;4B;%s;2024/2025;%02u-07-2025;%s;"
				"25LZ00;%s;%s;%s;%s;;;\r\n", i + 1, pgn, given, tv, family, bd, bm,
				by, prog, ed, dest, adv, yn, lt, lr);
		else
			at += (size_t)snprintf(buf + at, cap - at,
				"L%06zu,%s,%s,%s,%s,%04u-%02u-%02u,%s,2024-2025,2025-07-%02u,%s,"
				"25LZ00,%s,%s,%s,%s\n", i + 1, pgn, given, tv, family, by, bm, bd,
				prog, ed, dest, adv, yn, lt, lr);
	}
	*len = at;
	return buf;
}

/* One measured run in a child: make the file, parse it; the parse's wall
 * time goes up the pipe. */
static int s_child(size_t n, int dutch, int fd)
{
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 }, warnings = { 0 };
	const struct csvfile_opts o = { .warnings = &warnings };
	size_t len = 0, got = 0;
	char *buf = s_file(n, dutch, &len);
	double t0, t1, c0, c1;
	int r;

	if (!buf)
		return 1;
	t0 = s_clock(CLOCK_MONOTONIC);
	c0 = s_clock(CLOCK_PROCESS_CPUTIME_ID);
	r = leavers_import("bench.csv", buf, len, &o, &rows, &got, &errors);
	c1 = s_clock(CLOCK_PROCESS_CPUTIME_ID);
	t1 = s_clock(CLOCK_MONOTONIC);
	if (r != 0 || got != n) {
		fprintf(stderr, "bench_import: parse failed (%d, %zu rows): %s\n", r, got,
			errors.n ? errors.v[0] : "");
		return 1;
	}
	{
		double d[3] = { t1 - t0, (double)len, c1 - c0 };

		if (write(fd, d, sizeof(d)) != (ssize_t)sizeof(d))
			return 1;
	}
	leavers_free(&rows, got);
	strlist_clear(&warnings);
	free(buf);
	return 0;
}

struct s_result {
	double cpu, secs, bytes;	/* the run with the least CPU time: CPU, wall, size */
	long rss_kb;			/* its peak RSS */
};

static int s_run(size_t n, int dutch, struct s_result *res)
{
	int p[2], status;
	struct rusage ru;
	double d[3];
	pid_t pid;

	if (pipe(p) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(p[0]);
		_exit(s_child(n, dutch, p[1]));
	}
	close(p[1]);
	if (read(p[0], d, sizeof(d)) != (ssize_t)sizeof(d))
		d[0] = -1;
	close(p[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) || d[0] < 0)
		return -EIO;
	if (res->cpu == 0 || d[2] < res->cpu) {
		res->cpu = d[2];
		res->secs = d[0];
		res->bytes = d[1];
		res->rss_kb = ru.ru_maxrss;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const what[] = { "plain: ',' UTF-8, YYYY-MM-DD, English names/codes",
					    "dutch: ';' CRLF, Windows-1252, dd-mm-yyyy, Dutch" };
	struct s_result res[2] = { { 0 } };
	size_t n = 100000;
	int runs = 3, c;

	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		if (c == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (c == 'r')
			runs = atoi(optarg);
		else
			return 2;
	}
	for (int i = 0; i < runs; i++)
		for (int k = 0; k < 2; k++)
			if (s_run(n, k, &res[k]) < 0) {
				fprintf(stderr, "bench_import: run failed\n");
				return 1;
			}
	printf("bench_import: %zu leavers, best of %d runs each (parse only, as the CLI; CPU\n"
	       "time, which a busy machine disturbs less than the wall time beside it)\n", n, runs);
	printf("%-52s %6s %8s %8s %11s %10s\n", "file", "MB", "CPU ms", "wall ms", "records/s",
	       "peak RSS");
	for (int k = 0; k < 2; k++)
		printf("%-52s %6.1f %8.1f %8.1f %11.0f %7.1f MB\n", what[k], res[k].bytes / 1e6,
		       res[k].cpu * 1e3, res[k].secs * 1e3, (double)n / res[k].cpu,
		       (double)res[k].rss_kb / 1024);
	printf("ratio dutch/plain: %.2f CPU, %.2f wall (target at most 1.30)\n",
	       res[1].cpu / res[0].cpu, res[1].secs / res[0].secs);
	printf("rerun: bench/import -n %zu -r %d\n", n, runs);
	return 0;
}

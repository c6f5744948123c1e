/* spool: files dropped in [import] spool imported by the daemon (design.md §8.6). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consents_csv.h"
#include "import.h"
#include "jdetail.h"
#include "leavers.h"
#include "log.h"

#define S_ACTOR "daemon"
#define S_MAX_FILE ((size_t)256 << 20)	/* the leavers import's own cap */

/* What one file's import says: 0 done, -EINVAL the file is refused (log
 * says why), another -errno: not the file's fault, left for the next look. */
typedef int (*s_import_fn)(struct hctx *h, const char *name, int fd,
			   const struct csvdialect_map *map, struct strlist *log, char *summary,
			   size_t slen);

static int s_read(int fd, char **data, size_t *len);

static void s_lines(struct strlist *log, const struct strlist *from)
{
	for (size_t i = 0; i < from->n; i++)
		strlist_addf(log, "%s", from->v[i]);
}

/* A spool file streamed as the CLI sends one (design.md §8.5): read a block
 * at a time, its rows checked and staged in an import session, the whole
 * file applied at the end or nothing; memory stays bounded whatever its size. */
struct s_stream {
	struct hctx *h;
	const char *name;
	struct import_stage *st;
};

static int s_leavers_sink(void *arg, void *rows, size_t n)
{
	struct s_stream *s = arg;
	Overstapctl__Leaver **v = rows;
	int r = 0;

	if (!s->st)
		r = import_stage_open(s->h->store, s->name, S_ACTOR, 0, &s->st);
	if (r == 0)
		r = import_stage_add(s->st, s->h->cfg, v, n);
	leavers_free(&v, n);
	return r;
}

static int s_leavers(struct hctx *h, const char *name, int fd, const struct csvdialect_map *map,
		     struct strlist *log, char *summary, size_t slen)
{
	struct import_result res = { 0 };
	struct s_stream s = { h, name, NULL };
	/* what the school's system writes: separator, encoding, dates and Dutch
	 * names found as the CLI finds them (design.md §8.8), and the school's
	 * map ([import] spool_map); unknown columns go to the log as the
	 * warning they are */
	const struct csvfile_opts o = { .warnings = &res.warnings, .sink = s_leavers_sink,
					.sink_arg = &s, .sink_rows = 5000, .map = map };
	int r = leavers_stream_fd(name, fd, &o, &res.errors);

	if (r == 0 && !s.st) {
		strlist_addf(&res.errors, "%s: no leavers in the file", name);
		r = -EINVAL;
	}
	if (r == -EFBIG)
		strlist_addf(&res.errors, "%s: file too large", name);
	if (r == 0)
		r = import_stage_finish(s.st, S_ACTOR, &res);
	else if (r == -EINVAL && s.st && import_stage_errors(s.st, &res) < 0)
		r = -ENOMEM;	/* duplicates among the rows that passed, after the parse's */
	import_stage_free(&s.st);
	s_lines(log, &res.errors);
	s_lines(log, &res.notes);
	s_lines(log, &res.warnings);
	if (r == 0)
		snprintf(summary, slen, "%u added, %u updated, %u unchanged, %u unchanged (already"
			 " sent), %u refused, %zu warning%s", res.added, res.updated, res.unchanged,
			 res.unchanged_sent, res.refused, res.warnings.n,
			 res.warnings.n == 1 ? "" : "s");
	else if (r == -EINVAL || r == -EFBIG)
		snprintf(summary, slen, "%zu error%s, nothing imported", res.errors.n,
			 res.errors.n == 1 ? "" : "s");
	import_result_clear(&res);
	return r == -EFBIG ? -EINVAL : r;
}

static int s_consents(struct hctx *h, const char *name, int fd, const struct csvdialect_map *map,
		      struct strlist *log, char *summary, size_t slen)
{
	struct consents_csv_row *rows = NULL;
	Overstapctl__ConsentGrant *g = NULL, **gp = NULL;
	struct import_result res = { 0 };
	size_t n = 0, len = 0;
	const struct csvfile_opts o = { .warnings = &res.warnings, .map = map };
	char *data = NULL;
	int r = s_read(fd, &data, &len);

	if (r < 0)
		return r;
	r = consents_csv_import(name, data, len, &o, &rows, &n, &res.errors);
	free(data);

	if (r == 0 && n == 0) {
		strlist_addf(&res.errors, "%s: no consents in the file", name);
		r = -EINVAL;
	}
	if (r == -EFBIG)
		strlist_addf(&res.errors, "%s: file too large", name);
	if (r == 0)
		r = consents_csv_grants(rows, n, &g, &gp);
	if (r == 0)
		r = import_consents(h, name, gp, n, S_ACTOR, 0, &res);
	s_lines(log, &res.errors);
	if (r == 0)
		snprintf(summary, slen, "%u consents added, %u unchanged", res.added, res.unchanged);
	else if (r == -EINVAL || r == -EFBIG)
		snprintf(summary, slen, "%zu error%s, nothing imported", res.errors.n,
			 res.errors.n == 1 ? "" : "s");
	free(g);
	free(gp);
	consents_csv_free(&rows);
	import_result_clear(&res);
	return r == -EFBIG ? -EINVAL : r;
}

/* The kinds of file, by the start of their name. */
static const struct {
	const char *prefix;
	s_import_fn fn;
} s_kinds[] = {
	{ "leavers", s_leavers },
	{ "consents", s_consents },
};

/* Names the spool looks at: NAME.csv, .tsv or .txt in any case (what school
 * systems call their exports: Eduarte writes .tsv), printable ASCII, no
 * leading dot (a writer's temporary name), short enough for the stamp in
 * front. */
static int s_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 5 || n > 200 || name[0] == '.' ||
	    (strcasecmp(name + n - 4, ".csv") != 0 && strcasecmp(name + n - 4, ".tsv") != 0 &&
	     strcasecmp(name + n - 4, ".txt") != 0))
		return 0;
	for (const char *p = name; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '/')
			return 0;
	return 1;
}

int spool_dir_check(const char *dir, char *why, size_t len)
{
	struct stat st;

	if (dir[0] != '/') {
		snprintf(why, len, "%s is not an absolute path", dir);
		return -EINVAL;
	}
	if (stat(dir, &st) < 0) {
		int e = errno;

		snprintf(why, len, "%s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	/* The files are pupils' data: nobody outside the daemon's user and group. */
	if (st.st_mode & S_IRWXO) {
		snprintf(why, len, "%s is open to others (mode %04o): chmod o-rwx it", dir,
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(why, len, "%s is not writable: %s", dir, strerror(errno));
		return -EACCES;
	}
	return 0;
}

/* The file's .log, written and synced before the file moves beside it. */
static int s_write_log(int subfd, const char *target, const struct strlist *log)
{
	char path[320];
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s.log", target) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = openat(subfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < log->n && r == 0; i++) {
		size_t n = strlen(log->v[i]);

		if (write(fd, log->v[i], n) != (ssize_t)n || write(fd, "\n", 1) != 1)
			r = -EIO;
	}
	if (r == 0 && (fchmod(fd, 0640) < 0 || fsync(fd) < 0))
		r = -errno;
	close(fd);
	return r;
}

/* Move name into sub/ (done or failed) as STAMP-name, with its .log. */
static int s_move(int dirfd, const char *name, const char *sub, const struct strlist *log,
		  char *target, size_t tlen)
{
	char stamp[21], compact[17];
	int subfd, r = 0;

	if (mkdirat(dirfd, sub, 0750) < 0 && errno != EEXIST)
		return -errno;
	subfd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (subfd < 0)
		return -errno;
	/* "2026-12-05T01:23:45Z" -> "20261205T012345Z": sorts by when */
	time_format_utc(time_now_ms(), stamp);
	snprintf(compact, sizeof(compact), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", stamp, stamp + 5,
		 stamp + 8, stamp + 11, stamp + 14, stamp + 17);
	for (int i = 1; r == 0; i++) {
		if (i == 1)
			snprintf(target, tlen, "%s-%s", compact, name);
		else
			snprintf(target, tlen, "%s-%d-%s", compact, i, name);
		if ((r = s_write_log(subfd, target, log)) < 0)
			break;
		if (renameat2(dirfd, name, subfd, target, RENAME_NOREPLACE) == 0)
			break;
		r = errno == EEXIST && i < 100 ? 0 : -errno;
	}
	if (r == 0 && (fsync(subfd) < 0 || fsync(dirfd) < 0))
		r = -errno;
	close(subfd);
	return r;
}

/* Open a settled file; a reason in *why when it is not one we take. */
static int s_open(int dirfd, const char *name, int *fdp, const char **why)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	*why = NULL;
	*fdp = -1;
	if (fd < 0) {
		*why = errno == ELOOP ? "a symbolic link: not followed" : NULL;
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_nlink != 1)
		*why = "has more than one name (a hard link): not taken";
	else if (st.st_mode & S_IWOTH)
		*why = "writable by others: not taken";
	else if ((size_t)st.st_size > S_MAX_FILE)
		*why = "file too large";
	if (*why) {
		close(fd);
		return -EPERM;
	}
	*fdp = fd;
	return 0;
}

/* The opened file whole (a kind that is not streamed). */
static int s_read(int fd, char **data, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf;

	if (fstat(fd, &st) < 0)
		return -errno;
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (!buf)
		return -ENOMEM;
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

static void s_done(struct spool *sp, const char *name, const char *outcome, const char *summary)
{
	sp->last_at = time_now_ms();
	str_copy(sp->last_file, sizeof(sp->last_file), name);
	str_copy(sp->last_outcome, sizeof(sp->last_outcome), outcome);
	str_copy(sp->last_summary, sizeof(sp->last_summary), summary);
	if (outcome[0] == 'd')
		sp->done++;
	else
		sp->failed++;
}

/* [import] spool_map: the school's map file (design.md §8.8), read for every
 * file so that an edit applies at once. One that cannot be used leaves the
 * file in the spool, the reason in status: that is not the file's fault. */
static int s_map(struct spool *sp, const char *path, struct csvdialect_map **map)
{
	struct strlist errors = { 0 };
	int r = csvdialect_map_load(path, map, &errors);

	if (r < 0) {
		char why[sizeof(sp->problem)];

		snprintf(why, sizeof(why), "cannot use the map file (spool_map): %.200s",
			 errors.n ? errors.v[0] : strerror(-r));
		if (strcmp(why, sp->problem) != 0)
			log_err("spool: %s", str_visbuf(why).s);
		str_copy(sp->problem, sizeof(sp->problem), why);
	}
	strlist_clear(&errors);
	return r;
}

/* Import one file and move it; -errno (not the file's fault) leaves it. */
static int s_take(struct spool *sp, struct hctx *h, int dirfd, const char *name)
{
	struct strlist log = { 0 };
	char summary[256] = "", target[300], stamp[21];
	const char *why = NULL, *outcome;
	struct csvdialect_map *map = NULL;
	s_import_fn fn = NULL;
	int r, fd = -1;

	if (h->cfg->import_spool_map[0] && (r = s_map(sp, h->cfg->import_spool_map, &map)) < 0)
		return r;

	for (size_t i = 0; i < ARRAY_SIZE(s_kinds) && !fn; i++)
		if (strncasecmp(name, s_kinds[i].prefix, strlen(s_kinds[i].prefix)) == 0)
			fn = s_kinds[i].fn;
	time_format_utc(time_now_ms(), stamp);
	log_info("spool: taking %s", str_visbuf(name).s);
	strlist_addf(&log, "overstapd: spool import of %s at %s", name, stamp);
	r = s_open(dirfd, name, &fd, &why);
	if (r == 0 && !fn) {
		why = "unknown kind of file: its name must start with leavers or consents";
		r = -EPERM;
	}
	if (r == 0)
		r = fn(h, name, fd, map, &log, summary, sizeof(summary));
	if (fd >= 0)
		close(fd);
	csvdialect_map_free(&map);
	if (why) {
		strlist_addf(&log, "%s: %s", name, why);
		snprintf(summary, sizeof(summary), "%s", why);
		r = -EINVAL;
	}
	if (r < 0 && r != -EINVAL) {
		char why2[sizeof(sp->problem)];

		/* once per problem, not at every look: the store may be broken for hours */
		snprintf(why2, sizeof(why2), "cannot import %.100s (left in the spool, retried): %s",
			 name, strerror(-r));
		if (strcmp(why2, sp->problem) != 0)
			log_err("spool: %s", str_visbuf(why2).s);
		str_copy(sp->problem, sizeof(sp->problem), why2);
		strlist_clear(&log);
		return r;
	}
	strlist_addf(&log, "%s: %s: %s", name, r == 0 ? "done" : "failed", summary);
	if (r < 0 && store_auditf(h->store, S_ACTOR, "import.spool_failed", "", "", "{s:o, s:o}",
				  "file", jdetail_text(name), "reason", jdetail_text(summary)) < 0)
		log_warn("spool: cannot audit the refusal of %s", str_visbuf(name).s);
	outcome = r == 0 ? "done" : "failed";
	/* after the commit: killed before this, the next start imports the
	 * file again, and the cumulative import finds every row unchanged */
	r = s_move(dirfd, name, outcome, &log, target, sizeof(target));
	strlist_clear(&log);
	if (r < 0) {
		log_err("spool: cannot move %s out of the spool: %s", str_visbuf(name).s, strerror(-r));
		return r;
	}
	s_done(sp, name, outcome, summary);
	sp->problem[0] = '\0';
	log_notice("spool: %s: %s: %s", str_visbuf(name).s, sp->last_outcome, summary);
	return 0;
}

/* The oldest file that has settled, by mtime then name; 1 when found. */
static int s_pick(int dirfd, int settle_s, char *out, size_t outlen, int64_t *soonest)
{
	DIR *d = fdopendir(dup(dirfd));
	struct timespec best = { 0 };
	int64_t now = time_now_ms(), settle = (int64_t)settle_s * 1000;
	struct dirent *e;
	int found = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct stat st;
		int64_t mtime;

		if (!s_name_ok(e->d_name) || fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		mtime = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
		if (now - mtime < settle) {	/* still being written, perhaps */
			if (!*soonest || mtime + settle - now < *soonest)
				*soonest = mtime + settle - now;
			continue;
		}
		if (found && (st.st_mtim.tv_sec > best.tv_sec ||
			      (st.st_mtim.tv_sec == best.tv_sec &&
			       (st.st_mtim.tv_nsec > best.tv_nsec ||
				(st.st_mtim.tv_nsec == best.tv_nsec && strcmp(e->d_name, out) > 0)))))
			continue;
		best = st.st_mtim;
		str_copy(out, outlen, e->d_name);
		found = 1;
	}
	closedir(d);
	return found;
}

void spool_run(struct spool *sp, struct hctx *h, int64_t now, int64_t *wake)
{
	const struct config *cfg = h->cfg;
	char name[256], why[sizeof(sp->problem)];
	int64_t soonest = 0, every = (int64_t)cfg->import_spool_interval_s * 1000;
	int dirfd, found;

	if (!cfg->import_spool[0]) {
		sp->problem[0] = '\0';
		return;
	}
	if (now < sp->next) {
		if (sp->next - now < *wake)
			*wake = sp->next - now;
		return;
	}
	sp->next = now + every;
	if (spool_dir_check(cfg->import_spool, why, sizeof(why)) < 0) {
		if (strcmp(why, sp->problem) != 0)	/* once per problem, not per look */
			log_err("spool: not read: %s", why);
		str_copy(sp->problem, sizeof(sp->problem), why);
		return;
	}
	if (strncmp(sp->problem, "cannot import", 13) != 0)
		sp->problem[0] = '\0';	/* the directory is fine again */
	dirfd = open(cfg->import_spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return;
	found = s_pick(dirfd, cfg->import_spool_settle_s, name, sizeof(name), &soonest);
	if (found == 0)
		sp->problem[0] = '\0';	/* nothing (left) to import */
	/* one file per turn of the loop: the sockets are served in between */
	if (found > 0 && s_take(sp, h, dirfd, name) == 0)
		sp->next = now;
	else if (soonest > 0 && soonest < every)
		sp->next = now + soonest;
	close(dirfd);
	if (sp->next - now < *wake)
		*wake = sp->next - now;
}

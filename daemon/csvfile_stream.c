/* csvfile_stream: a CSV file read a block at a time (design.md §8.5): the
 * rows go to the caller's sink, so no import holds the whole file. */
#include "csvfile_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_BLOCK ((size_t)1 << 20)	/* bytes read at a time */

/* Bytes at the end of buf[0..len) that may be the start of a UTF-8
 * character the next block completes. */
static size_t s_utf8_tail(const unsigned char *b, size_t len)
{
	size_t k = 0;

	while (k < 3 && k < len && (b[len - 1 - k] & 0xC0) == 0x80)
		k++;
	if (k < len) {
		unsigned char c = b[len - 1 - k];
		size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;

		if (need > k + 1)
			return k + 1;
	}
	return 0;
}

/* The whole file (from fd at its start) is valid UTF-8: 1, 0, or -errno.
 * Read once in blocks, so auto-detection costs no memory. */
static int s_utf8_file(int fd, char *buf)
{
	size_t have = 0, bad;
	int ok = 1;

	for (;;) {
		ssize_t got = read(fd, buf + have, S_BLOCK - have);
		size_t tail;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		have += (size_t)got;
		tail = got ? s_utf8_tail((const unsigned char *)buf, have) : 0;
		if (!csvdialect_utf8_valid(buf, have - tail, &bad)) {
			ok = 0;
			break;
		}
		if (got == 0)
			break;
		memmove(buf, buf + have - tail, tail);
		have = tail;
	}
	return lseek(fd, 0, SEEK_SET) < 0 ? -errno : ok;
}

/* The encoding option names UTF-8 (read as it is). */
static int s_is_utf8(const char *e)
{
	return strcasecmp(e, "utf-8") == 0 || strcasecmp(e, "utf8") == 0;
}

/* Feed fd's bytes in blocks that end just after a line feed (a record never
 * ends inside one: csvfile_feed); a longer line grows the buffer. */
static int s_stream(struct csvfile *cf, int fd, char **bufp, size_t size)
{
	struct csv_parser csv;
	char *buf = *bufp;
	size_t cap = S_BLOCK, have = 0, base = 0;
	int first = 1, eof = 0;

	if (!buf)
		return -ENOMEM;
	while (!eof && !cf->stop) {
		size_t cut = 0;
		ssize_t got;

		if (have == cap) {
			char *nb = cap * 2 <= cf->t->max_file + 1 ? realloc(buf, cap * 2) : NULL;

			if (!nb)
				return cap * 2 <= cf->t->max_file + 1 ? -ENOMEM : -EFBIG;
			*bufp = buf = nb;
			cap *= 2;
		}
		got = read(fd, buf + have, cap - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		eof = got == 0;
		have += (size_t)got;
		if (first && (have >= 4096 || eof)) {
			size_t skip = have >= 3 && memcmp(buf, csvfile_bom, 3) == 0 ? 3 : 0;

			cf->delim = cf->o->delimiter ? cf->o->delimiter
						    : csvdialect_delimiter_detect(buf, have);
			if (csvfile_parse_begin(cf, &csv) < 0)
				return -ENOMEM;
			first = 0;
			memmove(buf, buf + skip, have - skip);
			have -= skip;
			base = skip;
		}
		if (first)
			continue;
		if (eof) {
			cut = have;
		} else {
			for (size_t k = have; k > 0 && !cut; k--)
				if (buf[k - 1] == '\n')
					cut = k;
		}
		if (!cut && !eof)
			continue;
		csvfile_feed(cf, &csv, buf, 0, cut, base, eof);
		memmove(buf, buf + cut, have - cut);
		have -= cut;
		base += cut;
	}
	if (first)
		return -EIO;	/* not reached: eof sets first to 0 */
	return csvfile_parse_end(cf, &csv, size);
}

/* The rest of fd whole (a file in another encoding): 0 or -errno. */
static int s_read_fd(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = S_BLOCK, got = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t n;

		if (got == cap) {
			char *nb = cap < max + 1 ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				free(buf);
				return cap < max + 1 ? -ENOMEM : -EFBIG;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (n == 0 && got > max) {
			free(buf);
			return -EFBIG;
		}
		if (n == 0) {
			*out = buf;
			*len = got;
			return 0;
		}
		got += (size_t)n;
	}
	return -ENOMEM;
}

int csvfile_stream_fd(const struct csvfile_table *t, const char *name, int fd,
		      const struct csvfile_opts *o, struct strlist *errors)
{
	struct csvfile cf = { .name = name, .t = t, .o = o, .errors = errors,
			      .errors0 = errors->n, .line = 1 };
	const char *enc = o->encoding && strcasecmp(o->encoding, "auto") != 0 ? o->encoding : NULL;
	char *buf = NULL;
	size_t len = 0;
	struct stat sb;
	int r;

	if (!o->sink)
		return -EINVAL;
	r = fstat(fd, &sb) < 0 ? -errno : 0;
	if (r == 0 && (size_t)sb.st_size > t->max_file)
		r = -EFBIG;
	if (r == 0 && !(buf = malloc(S_BLOCK)))
		r = -ENOMEM;
	if (r == 0 && !enc)
		r = s_utf8_file(fd, buf);	/* 1: read as it is */
	else if (r == 0)
		r = s_is_utf8(enc);
	if (r == 0) {
		/* another encoding: decoded whole (csvdialect_decode), rows still streamed */
		void *none = NULL;
		size_t n = 0;

		free(buf);
		buf = NULL;
		r = s_read_fd(fd, t->max_file, &buf, &len);
		if (r == 0)
			r = csvfile_import(t, name, buf, len, o, &none, &n, errors);
		free(buf);
		return r;
	}
	if (r > 0) {
		cf.total = (size_t)sb.st_size;
		r = csvfile_today(&cf, o->today);
	}
	if (r == 0)
		r = csvfile_state_alloc(&cf);
	if (r == 0)
		r = s_stream(&cf, fd, &buf, (size_t)sb.st_size);
	free(buf);
	csvfile_state_free(&cf);
	return r;
}

int csvfile_stream_file(const struct csvfile_table *t, const char *path,
			const struct csvfile_opts *o, struct strlist *errors)
{
	int fd, r;

	if (!o->sink)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = csvfile_stream_fd(t, path, fd, o, errors);
	close(fd);
	return r;
}

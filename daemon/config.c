/* config: reads and checks overstapd.conf (libinih) into a struct config. */
#include "config_int.h"
#include "i18n.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FILE_MAX (1024 * 1024)	/* a config file this big is a mistake */
#define S_SOCKET_PATH_MAX 107		/* sun_path (108) less the NUL */
#define S_NONE (-1)			/* no section header seen yet */
#define S_SKIP (-2)			/* broken header: ignore keys until the next one */


/* One section header as it appeared in the file. */
struct s_inst {
	const struct s_section *sec;	/* NULL: header in error, its keys are ignored */
	char *name;			/* as written, trimmed; for messages */
	int line;			/* of the header */
	size_t peer;			/* index in config.peers when sec->peer */
	int key_line[S_MAX_KEYS];	/* where each key was set; 0 = not set */
	unsigned key_bad;		/* bit per key whose value was rejected */
};

struct s_err {
	int line;	/* 0 = about the file as a whole */
	size_t seq;	/* keeps the order of errors on one line */
	char *msg;
};

struct s_parse {
	struct config *cfg;
	const char *path;
	const char *buf;	/* the whole file, handed to inih line by line */
	size_t len, pos;
	int line;		/* lines handed to inih so far = the line it is on */
	char prev_key[64];	/* inih's prev_name: an indented line continues it */
	int first_syntax;	/* first syntax error we report on a line inih sees */
	struct s_inst *inst;
	size_t n_inst;
	long cur;		/* index in inst of the current section, or S_NONE/S_SKIP */
	struct s_err *errs;
	size_t n_errs;
	int oom;
};

/* A configuration that does not load is reported by whoever read it: the
 * CLI, which reads it for the socket path, in the administrator's language;
 * the daemon's start and reload, outside any request, in English (its log
 * and status). So fmt is a msgid, translated here (po/xgettext.sh: s_error,
 * s_why), as keys.c's s_key_fail does (design.md §10). */
static void s_error(struct s_parse *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void s_why(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A value parser's reason, the second half of an s_error line. */
static void s_why(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, gettext(fmt), ap);
	va_end(ap);
}

static void s_error(struct s_parse *p, int line, const char *fmt, ...)
{
	struct s_err *e;
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, gettext(fmt), ap);
	va_end(ap);
	e = n < 0 ? NULL : realloc(p->errs, (p->n_errs + 1) * sizeof(*e));
	if (!e) {
		if (n >= 0)
			free(msg);
		p->oom = 1;
		return;
	}
	p->errs = e;
	e[p->n_errs] = (struct s_err){ .line = line, .seq = p->n_errs, .msg = msg };
	p->n_errs++;
}

int config_institution_id_valid(const char *id)
{
	if (!id || strlen(id) != INSTITUTION_ID_LEN)
		return 0;
	for (int i = 0; i < INSTITUTION_ID_LEN; i++) {
		int c = (unsigned char)id[i];
		int digit = c >= '0' && c <= '9';

		if (i == 2 || i == 3) {
			if (!digit && !(c >= 'A' && c <= 'Z'))
				return 0;
		} else if (!digit) {
			return 0;
		}
	}
	return 1;
}

/* ---- value parsers: 0, or -EINVAL with the reason in why --------------------- */

static int s_parse_str(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	if (strlen(v) >= k->size) {
		s_why(why, n, "longer than %zu characters", k->size - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int s_parse_id(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	if (!config_institution_id_valid(v)) {
		s_why(why, n, "'%.32s' is not an institution id "
			 "(2 digits, 2 capitals or digits, 2 digits, e.g. 12AB00)", v);
		return -EINVAL;
	}
	if (strcmp(v, CONFIG_PLACEHOLDER_ID) == 0) {
		s_why(why, n, "%s is the example's placeholder: set it to your own BRIN code "
			 "and location number (e.g. 12AB00); overstapd does not start until "
			 "then", v);
		return -EINVAL;
	}
	return s_parse_str(k, v, dst, why, n);
}

static int s_parse_endpoint(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	const char *rest = v + 6;

	if (!*v)	/* optional endpoints: "" means none */
		return s_parse_str(k, v, dst, why, n);
	if (strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0) {
		s_why(why, n, "'%.64s' must start with tcp:// or ipc://", v);
		return -EINVAL;
	}
	if (v[0] == 't') {
		const char *colon = strrchr(rest, ':');

		char *end = NULL;
		long port;

		if (!colon || colon == rest || !colon[1]) {
			s_why(why, n, "'%.64s' needs host:port after tcp://", v);
			return -EINVAL;
		}
		/* libzmq takes a port modulo 65536 and ignores trailing text: check
		 * it here so that -t and a start agree. "*" = any free port. */
		if (strcmp(colon + 1, "*") != 0) {
			errno = 0;
			port = strtol(colon + 1, &end, 10);
			if (errno || *end || port < 1 || port > 65535 || !isdigit((unsigned char)colon[1])) {
				s_why(why, n, "'%.64s': port must be 1 to 65535 (or * to listen on any)", v);
				return -EINVAL;
			}
		}
	}
	if (v[0] == 'i' && (!*rest || strlen(rest) > S_SOCKET_PATH_MAX)) {
		s_why(why, n, "ipc path must be 1 to %d characters", S_SOCKET_PATH_MAX);
		return -EINVAL;
	}
	return s_parse_str(k, v, dst, why, n);
}

static int s_parse_socket(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	if (v[0] != '/') {
		s_why(why, n, "'%.64s' is not an absolute path", v);
		return -EINVAL;
	}
	/* bind() would fail later with a much less helpful message */
	if (strlen(v) > S_SOCKET_PATH_MAX) {
		s_why(why, n, "longer than %d characters, the limit for a unix socket",
			 S_SOCKET_PATH_MAX);
		return -EINVAL;
	}
	return s_parse_str(k, v, dst, why, n);
}

static int s_parse_level(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	for (size_t i = 0; i < config_n_levels; i++)
		if (strcmp(v, config_levels[i]) == 0)
			return s_parse_str(k, v, dst, why, n);
	s_why(why, n, "'%.32s' is not one of err, warning, notice, info, debug", v);
	return -EINVAL;
}

/* Decimal digits only (strtoll alone would take "12abc", " 12" and "+12"). */
static int s_parse_int(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	const char *d = v[0] == '-' ? v + 1 : v;
	char *end = NULL;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	if (!isdigit((unsigned char)*d) || *end != '\0') {
		s_why(why, n, "'%.32s' is not an integer", v);
		return -EINVAL;
	}
	if (errno == ERANGE || x < k->min || x > k->max) {
		s_why(why, n, "%.32s is out of range (%lld..%lld)", v, k->min, k->max);
		return -EINVAL;
	}
	if (k->type == T_INT)
		*(int *)dst = (int)x;
	else if (k->type == T_UINT)
		*(unsigned *)dst = (unsigned)x;
	else
		*(int64_t *)dst = (int64_t)x;
	return 0;
}

static int s_parse_z85(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	if (!crypto_z85_key_valid(v)) {
		s_why(why, n, "not a CURVE public key (%d characters of Z85)", CRYPTO_Z85_KEY_LEN);
		return -EINVAL;
	}
	return s_parse_str(k, v, dst, why, n);
}

static int s_parse_signkey(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	int r = crypto_b64_decode(v, &raw, &len);

	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		s_why(why, n, "not valid base64");
		return -EINVAL;
	}
	if (len != k->size) {
		s_why(why, n, "decodes to %zu bytes, an Ed25519 public key has %zu", len, k->size);
		r = -EINVAL;
	} else {
		memcpy(dst, raw, len);
	}
	free(raw);
	return r;
}

static int s_parse_time(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	(void)k;
	if (time_parse_utc(v, (int64_t *)dst) < 0) {
		s_why(why, n, "'%.32s' is not a UTC date or moment "
			 "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", v);
		return -EINVAL;
	}
	return 0;
}

static int s_parse_basis(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	const char *fixed = strcmp(k->name, "status") == 0 ? "statute"
			    : strcmp(k->name, "follow_up") == 0 ? "consent" : NULL;

	if (strcmp(v, "statute") != 0 && strcmp(v, "consent") != 0) {
		s_why(why, n, "'%.32s' is not a legal basis (statute or consent)", v);
		return -EINVAL;
	}
	if (fixed && strcmp(v, fixed) != 0) {
		if (*fixed == 's')
			s_why(why, n, "%s is always %s: registration statuses are statutory "
			      "(design.md §3)", k->name, fixed);
		else
			s_why(why, n, "%s is always %s: outcomes go back to the school only with "
			      "consent (design.md §3)", k->name, fixed);
		return -EINVAL;
	}
	return s_parse_str(k, v, dst, why, n);
}

static int s_parse_dialect(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	if (strcmp(v, "excel-nl") != 0 && strcmp(v, "rfc4180") != 0) {
		s_why(why, n, "'%.32s' is not a CSV dialect (excel-nl or rfc4180)", v);
		return -EINVAL;
	}
	return s_parse_str(k, v, dst, why, n);
}

/* Names of Unix groups (T_GROUPS) or users (T_USERS), separated by spaces or
 * commas, each of which must exist: a misspelt group would silently give a
 * right to nobody. Stored with single spaces. */
static int s_parse_names(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	char out[512] = "", name[64];
	size_t o = 0;

	while (*v) {
		size_t len = strcspn(v, " \t,");

		if (len == 0) {
			v++;
			continue;
		}
		if (len >= sizeof(name)) {
			if (k->type == T_GROUPS)
				s_why(why, n, "'%.32s...' is too long for a group name", v);
			else
				s_why(why, n, "'%.32s...' is too long for a user name", v);
			return -EINVAL;
		}
		memcpy(name, v, len);
		name[len] = '\0';
		if (k->type == T_GROUPS ? !getgrnam(name) : !getpwnam(name)) {
			if (k->type == T_GROUPS)
				s_why(why, n, "no group '%s' on this system", name);
			else
				s_why(why, n, "no user '%s' on this system", name);
			return -EINVAL;
		}
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", o ? " " : "", name);
		if (o >= sizeof(out) || o >= k->size) {
			s_why(why, n, "longer than %zu characters", k->size - 1);
			return -EINVAL;
		}
		v += len;
	}
	memcpy(dst, out, o + 1);
	return 0;
}

/* The languages reports are written in (po/LINGUAS, and English). */
static int s_parse_lang(const struct s_key *k, const char *v, void *dst, char *why, size_t n)
{
	if (strcmp(v, "nl") != 0 && strcmp(v, "en") != 0) {
		s_why(why, n, "'%.32s' is not a report language (nl or en)", v);
		return -EINVAL;
	}
	return s_parse_str(k, v, dst, why, n);
}

typedef int (*s_parse_fn)(const struct s_key *, const char *, void *, char *, size_t);

static const s_parse_fn s_parsers[] = {
	[T_STR] = s_parse_str,		[T_ID] = s_parse_id,
	[T_ENDPOINT] = s_parse_endpoint, [T_SOCKET] = s_parse_socket,
	[T_LEVEL] = s_parse_level,	[T_INT] = s_parse_int,
	[T_UINT] = s_parse_int,		[T_I64] = s_parse_int,
	[T_Z85] = s_parse_z85,		[T_SIGNKEY] = s_parse_signkey,
	[T_TIME] = s_parse_time,	[T_BASIS] = s_parse_basis,
	[T_DIALECT] = s_parse_dialect,	[T_GROUPS] = s_parse_names,
	[T_USERS] = s_parse_names,	[T_LANG] = s_parse_lang,
};

/* ---- sections ---------------------------------------------------------------- */

static char *s_base(struct s_parse *p, const struct s_inst *in)
{
	return in->sec->peer ? (char *)&p->cfg->peers[in->peer] : (char *)p->cfg;
}

/* Fill in the defaults of one section through the same parsers as the file. */
static void s_defaults(const struct s_section *sec, char *base)
{
	char why[256];

	for (size_t i = 0; i < sec->n_keys; i++) {
		const struct s_key *k = &sec->keys[i];

		/* a default the parser rejects is a bug in the table above */
		if (k->def && s_parsers[k->type](k, k->def, base + k->off, why, sizeof(why)) < 0)
			abort();
	}
}

static const struct s_section *s_section_find(const char *name)
{
	for (size_t i = 0; i < config_n_sections; i++) {
		const struct s_section *s = &config_sections[i];
		size_t n = strlen(s->name);

		if (s->peer ? strncmp(name, s->name, n) == 0 &&
			      (name[n] == '\0' || isspace((unsigned char)name[n]))
			    : strcmp(name, s->name) == 0)
			return s;
	}
	return NULL;
}

/* A header's peer id, checked, into in->peer as a new entry of cfg->peers. */
static int s_peer_open(struct s_parse *p, struct s_inst *in)
{
	const char *id = in->name + strlen("peer");
	struct peer_cfg *v;

	while (isspace((unsigned char)*id))
		id++;
	if (!*id) {
		s_error(p, p->line, "[%s] needs the peer's institution id, e.g. [peer 25LZ00]",
			in->name);
		return -EINVAL;
	}
	if (!config_institution_id_valid(id)) {
		s_error(p, p->line, "[%s]: '%.32s' is not an institution id "
			"(2 digits, 2 capitals or digits, 2 digits, e.g. 25LZ00)", in->name, id);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->cfg->n_peers; i++) {
		if (strcmp(p->cfg->peers[i].id, id) == 0) {
			s_error(p, p->line, "[%s] duplicates the section on line %d", in->name,
				p->cfg->peers[i].line);
			return -EINVAL;
		}
	}
	v = realloc(p->cfg->peers, (p->cfg->n_peers + 1) * sizeof(*v));
	if (!v) {
		p->oom = 1;
		return -ENOMEM;
	}
	p->cfg->peers = v;
	in->peer = p->cfg->n_peers++;
	v = &v[in->peer];
	memset(v, 0, sizeof(*v));
	memcpy(v->id, id, INSTITUTION_ID_LEN + 1);
	v->line = p->line;
	return 0;
}

/* Header [b..e) on the current line: becomes the section keys go to. Every
 * header gets an s_inst, also a bad one, so that its keys are skipped rather
 * than reported against the previous section. */
static void s_section_open(struct s_parse *p, const char *b, const char *e)
{
	const struct s_section *sec;
	struct s_inst *in;

	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	in = realloc(p->inst, (p->n_inst + 1) * sizeof(*in));
	if (!in) {
		p->oom = 1;
		p->cur = S_SKIP;
		return;
	}
	p->inst = in;
	in = &in[p->n_inst];
	memset(in, 0, sizeof(*in));
	in->line = p->line;
	if (!(in->name = strndup(b, (size_t)(e - b))))
		p->oom = 1;
	p->cur = (long)p->n_inst++;
	if (!in->name)
		return;
	if (!(sec = s_section_find(in->name))) {
		s_error(p, p->line, "unknown section [%s]", in->name);
		return;
	}
	for (size_t i = 0; !sec->peer && i + 1 < p->n_inst; i++) {
		if (p->inst[i].sec == sec) {
			s_error(p, p->line, "[%s] duplicates the section on line %d", in->name,
				p->inst[i].line);
			return;
		}
	}
	if (sec->peer && s_peer_open(p, in) < 0)
		return;
	in->sec = sec;
	if (sec->peer)	/* the others got theirs in config_load */
		s_defaults(sec, s_base(p, in));
}

/* ---- reading: inih gets the lines from us so that we know the line number -- */

/* inih's ini_find_chars_or_comment on [s, end): the first of chars, or the
 * start of an inline comment (';' after whitespace), or end. */
static const char *s_find(const char *s, const char *end, const char *chars)
{
	int was_space = 0;

	for (; s < end; s++) {
		if (chars && strchr(chars, *s))
			break;
		if (INI_ALLOW_INLINE_COMMENTS && was_space && strchr(INI_INLINE_COMMENT_PREFIXES, *s))
			break;
		was_space = isspace((unsigned char)*s);
	}
	return s;
}

/* Classify a line the way inih's ini_parse_stream does. inih does not tell the
 * handler about section headers and reports only its first syntax error, so
 * we follow along. Returns 1 when inih must see an empty line instead. */
static int s_scan(struct s_parse *p, const char *line, size_t n)
{
	const char *start = line, *end = line + n, *sep;

	if (INI_ALLOW_BOM && p->line == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
		start += 3;
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	if (start == end || strchr(INI_START_COMMENT_PREFIXES, *start))
		return 0;
	if (INI_ALLOW_MULTILINE && p->prev_key[0] && start > line) {
		/* inih would append it to the previous value: "listen" would
		 * silently become "tcp://host:7470 heartbeat_ivl_ms = 100" */
		s_error(p, p->line, "syntax error: indented line continues the value of '%s'",
			p->prev_key);
		return 1;
	}
	if (*start == '[') {
		sep = s_find(start + 1, end, "]");
		if (sep < end && *sep == ']') {
			p->prev_key[0] = '\0';
			s_section_open(p, start + 1, sep);
			return 0;
		}
		s_error(p, p->line, "syntax error: missing ']' in section header");
		p->cur = S_SKIP;
	} else {
		sep = s_find(start, end, "=:");
		if (sep < end && (*sep == '=' || *sep == ':')) {
			while (sep > start && isspace((unsigned char)sep[-1]))
				sep--;
			snprintf(p->prev_key, sizeof(p->prev_key), "%.*s", (int)(sep - start), start);
			return 0;
		}
		s_error(p, p->line, "syntax error: expected 'key = value'");
	}
	if (!p->first_syntax)
		p->first_syntax = p->line;
	return 0;
}

/* fgets-like reader over the file buffer, one whole line per call. */
static char *s_reader(char *str, int num, void *stream)
{
	struct s_parse *p = stream;
	const char *b = p->buf + p->pos, *nl;
	size_t rest = p->len - p->pos, n, text;
	int blank;

	if (rest == 0 || num < 2)
		return NULL;
	nl = memchr(b, '\n', rest);
	n = nl ? (size_t)(nl - b) + 1 : rest;
	text = nl ? n - 1 : n;
	p->pos += n;
	p->line++;
	if (memchr(b, '\0', text)) {
		s_error(p, p->line, "line contains a NUL byte");
		blank = 1;
	} else if (text > (size_t)num - 2) {
		/* inih would cut it and read the rest as the next line */
		s_error(p, p->line, "line longer than %d characters", num - 2);
		blank = 1;
		for (size_t i = 0; i < text; i++) {
			/* a header we cannot read: its keys must not land in the
			 * section before it */
			if (b[i] == '[')
				p->cur = S_SKIP;
			if (!isspace((unsigned char)b[i]))
				break;
		}
	} else {
		blank = s_scan(p, b, text);
	}
	if (blank) {
		n = 1;
		b = "\n";
	}
	memcpy(str, b, n);
	str[n] = '\0';
	return str;
}

static const struct s_key *s_key_find(const struct s_section *sec, const char *name)
{
	for (size_t i = 0; i < sec->n_keys; i++)
		if (strcmp(sec->keys[i].name, name) == 0)
			return &sec->keys[i];
	return NULL;
}

/* Always returns 1: a 0 would make inih count the line as its own (syntax)
 * error, and we report a more precise message ourselves. The section is ours,
 * not inih's argument: inih truncates long names. */
static int s_handler(void *user, const char *section, const char *name, const char *value)
{
	struct s_parse *p = user;
	const struct s_key *k;
	struct s_inst *in;
	char why[256];
	size_t i;
	int r;

	(void)section;
	if (p->cur == S_NONE) {
		s_error(p, p->line, "key '%s' is outside any section", name);
		return 1;
	}
	if (p->cur == S_SKIP)
		return 1;	/* the header has been reported */
	in = &p->inst[p->cur];
	if (!in->sec)
		return 1;
	if (!(k = s_key_find(in->sec, name))) {
		s_error(p, p->line, "unknown key '%s' in [%s]", name, in->name);
		return 1;
	}
	i = (size_t)(k - in->sec->keys);
	if (in->key_line[i]) {
		s_error(p, p->line, "%s: duplicate key (first set on line %d)", name, in->key_line[i]);
		return 1;
	}
	in->key_line[i] = p->line;
	if (k->required && !*value) {
		s_why(why, sizeof(why), "must not be empty");
		r = -EINVAL;
	} else {
		r = s_parsers[k->type](k, value, s_base(p, in) + k->off, why, sizeof(why));
	}
	if (r == -ENOMEM)
		p->oom = 1;
	else if (r < 0)
		s_error(p, p->line, "%s: %s", name, why);
	if (r < 0)
		in->key_bad |= 1u << i;
	return 1;
}

/* ---- checks once the whole file is read -------------------------------------- */

static void s_check_required(struct s_parse *p)
{
	for (size_t s = 0; s < config_n_sections; s++) {
		const struct s_section *sec = &config_sections[s];
		int found = 0;

		for (size_t i = 0; i < p->n_inst; i++) {
			const struct s_inst *in = &p->inst[i];

			if (in->sec != sec)
				continue;
			found = 1;
			for (size_t k = 0; k < sec->n_keys; k++)
				if (sec->keys[k].required && !in->key_line[k])
					s_error(p, in->line, "[%s] %s is required", in->name,
						sec->keys[k].name);
		}
		for (size_t k = 0; !found && !sec->peer && k < sec->n_keys; k++)
			if (sec->keys[k].required)
				s_error(p, 0, "[%s] %s is required", sec->name, sec->keys[k].name);
	}
}

static long long s_int_at(const char *base, const struct s_key *k)
{
	if (k->type == T_INT)
		return *(const int *)(base + k->off);
	if (k->type == T_UINT)
		return *(const unsigned *)(base + k->off);
	return *(const int64_t *)(base + k->off);
}

static void s_check_order(struct s_parse *p, const struct s_order *o)
{
	const struct s_section *sec = s_section_find(o->section);
	const struct s_key *a = s_key_find(sec, o->key), *b = s_key_find(sec, o->than);
	size_t ia = (size_t)(a - sec->keys), ib = (size_t)(b - sec->keys);
	long long va = s_int_at((char *)p->cfg, a), vb = s_int_at((char *)p->cfg, b);
	const struct s_inst *in = NULL;

	for (size_t i = 0; !in && i < p->n_inst; i++)
		if (p->inst[i].sec == sec)
			in = &p->inst[i];
	if (!in || (in->key_bad & ((1u << ia) | (1u << ib))))
		return;	/* no section: reported; a bad value: reported */
	if (o->strict ? va > vb : va >= vb)
		return;
	if (o->strict)
		s_error(p, in->key_line[ia] ? in->key_line[ia] : in->key_line[ib],
			"%s: must be greater than %s (%lld <= %lld)", o->key, o->than, va, vb);
	else
		s_error(p, in->key_line[ia] ? in->key_line[ia] : in->key_line[ib],
			"%s: must be at least %s (%lld < %lld)", o->key, o->than, va, vb);
}

/* A rollover needs both new keys and the moment the old ones stop. */
static void s_check_rollover(struct s_parse *p, struct peer_cfg *a)
{
	static const uint8_t zero[CRYPTO_SIGN_KEY_LEN];
	int curve = a->curve_next[0] != '\0';

	a->has_sign_next = memcmp(a->sign_next, zero, sizeof(zero)) != 0;
	if (curve != a->has_sign_next)
		s_error(p, a->line, "[peer %s]: a key rollover needs both curve_public_key_next "
			"and sign_public_key_next", a->id);
	if ((curve || a->has_sign_next) && !a->rollover_until)
		s_error(p, a->line, "[peer %s]: a key rollover needs rollover_until "
			"(when the old keys stop being accepted)", a->id);
	if (!curve && !a->has_sign_next && a->rollover_until)
		s_error(p, a->line, "[peer %s]: rollover_until without the peer's next keys", a->id);
	if (curve && strcmp(a->curve_next, a->curve_public) == 0)
		s_error(p, a->line, "[peer %s]: curve_public_key_next is the current key", a->id);
}

/* Does any key of peer b equal `key`? */
static int s_curve_taken(const struct peer_cfg *b, const char *key)
{
	return key[0] && (strcmp(key, b->curve_public) == 0 || strcmp(key, b->curve_next) == 0);
}

static void s_check_peers(struct s_parse *p)
{
	struct config *c = p->cfg;

	for (size_t i = 0; i < c->n_peers; i++) {
		struct peer_cfg *a = &c->peers[i];

		if (strcmp(a->id, c->institution_id) == 0)
			s_error(p, a->line, "[peer %s]: a peer cannot have our own institution id",
				a->id);
		s_check_rollover(p, a);
		/* ZAP tells peers apart by their CURVE key alone */
		for (size_t j = 0; j < i; j++)
			if (s_curve_taken(&c->peers[j], a->curve_public) ||
			    s_curve_taken(&c->peers[j], a->curve_next))
				s_error(p, a->line, "[peer %s]: a CURVE key of [peer %s] on line %d "
					"is used again", a->id, c->peers[j].id, c->peers[j].line);
	}
}

/* ---- loading ------------------------------------------------------------------ */

static int s_err_cmp(const void *a, const void *b)
{
	const struct s_err *x = a, *y = b;
	/* line 0 (the file as a whole) after the numbered lines */
	unsigned lx = (unsigned)x->line - 1, ly = (unsigned)y->line - 1;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the errors over in line order as "FILE:LINE: message". */
static int s_emit(struct s_parse *p, struct strlist *errors)
{
	int r = 0;

	if (p->n_errs)
		qsort(p->errs, p->n_errs, sizeof(*p->errs), s_err_cmp);
	for (size_t i = 0; errors && r == 0 && i < p->n_errs; i++) {
		const struct s_err *e = &p->errs[i];

		if (e->line)
			r = strlist_addf(errors, "%s:%d: %s", p->path, e->line, e->msg);
		else
			r = strlist_addf(errors, "%s: %s", p->path, e->msg);
	}
	return r;
}

static void s_parse_clear(struct s_parse *p)
{
	for (size_t i = 0; i < p->n_inst; i++)
		free(p->inst[i].name);
	free(p->inst);
	for (size_t i = 0; i < p->n_errs; i++)
		free(p->errs[i].msg);
	free(p->errs);
	config_free(&p->cfg);
}

/* Feed the file through inih, then the checks that need the whole file. */
static void s_parse_all(struct s_parse *p)
{
	int r = ini_parse_stream(s_reader, p, s_handler, p);

	/* Our scanner mirrors inih's, so this names a line already reported;
	 * should the two ever disagree, inih's verdict is still shown. */
	if (r > 0 && r != p->first_syntax)
		s_error(p, r, "syntax error");
	else if (r == -2)
		p->oom = 1;
	else if (r < 0)
		s_error(p, 0, "cannot parse (inih error %d)", r);
	s_check_required(p);
	for (size_t i = 0; i < config_n_orders; i++)
		s_check_order(p, &config_orders[i]);
	s_check_peers(p);
}

int config_load(const char *path, struct config **out, struct strlist *errors)
{
	struct s_parse p = { .path = path, .cur = S_NONE };
	char *buf = NULL;
	int r;

	*out = NULL;
	if (!(p.cfg = calloc(1, sizeof(*p.cfg))))
		return -ENOMEM;
	r = file_read_all(path, S_FILE_MAX, &buf, &p.len);
	if (r < 0) {
		if (r == -EFBIG)
			s_error(&p, 0, "cannot read: file too large");
		else
			s_error(&p, 0, "cannot read: %s", strerror(-r));
		goto out;
	}
	if (str_copy(p.cfg->path, sizeof(p.cfg->path), path) < 0)
		s_error(&p, 0, "path too long");
	for (size_t i = 0; i < config_n_sections; i++)
		if (!config_sections[i].peer)
			s_defaults(&config_sections[i], (char *)p.cfg);
	p.buf = buf;
	s_parse_all(&p);
	r = p.oom ? -ENOMEM : p.n_errs ? -EINVAL : 0;
out:
	if (s_emit(&p, errors) < 0 && r == 0)
		r = -ENOMEM;
	if (r == 0) {
		*out = p.cfg;
		p.cfg = NULL;	/* transferred */
	}
	s_parse_clear(&p);
	free(buf);
	return r;
}

int config_control_socket(const char *path, char *buf, size_t len)
{
	struct s_parse p = { .path = path, .cur = S_NONE };
	char *data = NULL;
	int from_file = 0;

	str_copy(buf, len, CONFIG_DEFAULT_SOCKET);
	if (!(p.cfg = calloc(1, sizeof(*p.cfg))))
		return 0;
	if (file_read_all(path, S_FILE_MAX, &data, &p.len) == 0) {
		p.buf = data;
		s_parse_all(&p);	/* errors elsewhere do not matter here */
		if (p.cfg->control_socket[0] && str_copy(buf, len, p.cfg->control_socket) == 0)
			from_file = 1;
		else
			str_copy(buf, len, CONFIG_DEFAULT_SOCKET);
	}
	s_parse_clear(&p);
	free(data);
	return from_file;
}

void config_free(struct config **c)
{
	if (!c || !*c)
		return;
	free((*c)->peers);
	free(*c);
	*c = NULL;
}

int config_peer_old_keys_ok(const struct peer_cfg *p, int64_t now_ms)
{
	return !p->curve_next[0] || now_ms < p->rollover_until;
}

const struct peer_cfg *config_peer_find(const struct config *c, const char *id)
{
	if (!c || !id)
		return NULL;
	for (size_t i = 0; i < c->n_peers; i++)
		if (strcmp(c->peers[i].id, id) == 0)
			return &c->peers[i];
	return NULL;
}

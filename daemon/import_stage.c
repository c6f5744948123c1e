/* import_stage: an import session, a leavers file sent in chunks (design.md
 * §8.5). Every row is checked as it arrives (its errors kept, capped) and
 * staged in the store's TEMP table sealed with the session's own key; the
 * last request finds the pupil_refs given twice (one sort) and applies the
 * rows in one transaction, or checks them. Nothing of a
 * session is in the store's file before that: a killed client or daemon
 * leaves nothing half imported. */
#include "import_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "leavers.h"
#include "log.h"
#include "i18n.h"

/* The store's page cache while a session's rows are applied. */
#define S_APPLY_CACHE_KIB (24 * 1024)

/* Destinations that are not configured peers, told once each. */
#define S_MAX_UNKNOWN 256

struct s_unknown {
	char inst[16];
	unsigned line, count;
};

struct import_stage {
	uint64_t id;
	char user[64];
	char *file;
	int check;
	int64_t last_ms;		/* monotonic ms of the last request */
	uint8_t key[CRYPTO_KEY_LEN];	/* seals the staged rows; never stored */
	struct store *s;
	struct store_stage *g;
	unsigned staged, refused, last_line;
	struct strlist errors;		/* at most IMPORT_MAX_NOTES */
	size_t errors_dropped;
	struct s_unknown unknown[S_MAX_UNKNOWN];
	size_t n_unknown;
	uint64_t adds_at_open;		/* store_leaver_adds before the first check */
};

int import_stage_open(struct store *s, const char *file, const char *user, int check,
		      struct import_stage **out)
{
	struct import_stage *st = calloc(1, sizeof(*st));
	int r = -ENOMEM;

	*out = NULL;
	if (!st)
		return -ENOMEM;
	st->s = s;
	st->check = check;
	st->last_ms = time_mono_ms();
	st->adds_at_open = store_leaver_adds(s);
	str_copy(st->user, sizeof(st->user), user);
	if (!(st->file = strdup(file)))
		goto fail;
	if ((r = crypto_random(&st->id, sizeof(st->id))) < 0 ||
	    (r = crypto_random(st->key, sizeof(st->key))) < 0)
		goto fail;
	st->id |= 1;	/* never 0: 0 asks for a new session */
	if ((r = store_stage_open(s, st->id, &st->g)) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	import_stage_free(&st);
	return r;
}

uint64_t import_stage_id(const struct import_stage *st) { return st->id; }
const char *import_stage_user(const struct import_stage *st) { return st->user; }
int64_t import_stage_last(const struct import_stage *st) { return st->last_ms; }
unsigned import_stage_staged(const struct import_stage *st) { return st->staged; }
int import_stage_check(const struct import_stage *st) { return st->check; }

static int s_error_take(struct import_stage *st, struct strlist *l)
{
	int r = 0;

	for (size_t i = 0; i < l->n && r == 0; i++) {
		if (st->errors.n >= IMPORT_MAX_NOTES)
			st->errors_dropped++;
		else
			r = strlist_addf(&st->errors, "%s", l->v[i]);
	}
	strlist_clear(l);
	return r;
}

static void s_unknown_count(struct import_stage *st, const struct config *cfg,
			    const Overstapctl__Leaver *row)
{
	const char *inst = row->destination_institution;
	size_t i;

	if (!inst[0] || config_peer_find(cfg, inst))
		return;
	for (i = 0; i < st->n_unknown; i++)
		if (strcmp(st->unknown[i].inst, inst) == 0)
			break;
	if (i == st->n_unknown) {
		if (i == S_MAX_UNKNOWN)
			return;
		st->n_unknown++;
		str_copy(st->unknown[i].inst, sizeof(st->unknown[i].inst), inst);
		st->unknown[i].line = row->line;
	}
	st->unknown[i].count++;
}

/* The row's line as the seal's aad: a staged row cannot move to another. */
static void s_aad(unsigned line, uint8_t aad[4])
{
	aad[0] = (uint8_t)(line >> 24);
	aad[1] = (uint8_t)(line >> 16);
	aad[2] = (uint8_t)(line >> 8);
	aad[3] = (uint8_t)line;
}

static void s_put32(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t s_get32(const uint8_t *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

/* A staged row, sealed under the session's key: u32 length, the packed
 * Leaver, and for a pupil prepared as new its store ref_hash, pseudonym,
 * u32 length, wrapped key and sealed part. The prepared part is sealed too:
 * the TEMP table's pages may reach a temporary file, and a wrapped pupil key
 * or a ref_hash left there would outlive that pupil's erasure (§3.9); sealed
 * under a key that dies with the session, nothing staged does. */
static int s_seal_row(const struct import_stage *st, const Overstapctl__Leaver *row,
		      const struct store_leaver_prep *p, uint8_t **sealed, size_t *slen)
{
	size_t rlen = overstapctl__leaver__get_packed_size(row);
	size_t len = 4 + rlen + (p ? 32 + 32 + 4 + p->wrapped_len + p->pii_len : 0);
	uint8_t aad[4], *buf = malloc(len), *at;
	int r;

	if (!buf)
		return -ENOMEM;
	s_put32(buf, rlen);
	overstapctl__leaver__pack(row, buf + 4);
	if (p) {
		at = buf + 4 + rlen;
		memcpy(at, p->ref_hash, 32);
		memcpy(at + 32, p->pseudonym, 32);
		s_put32(at + 64, p->wrapped_len);
		memcpy(at + 68, p->wrapped, p->wrapped_len);
		memcpy(at + 68 + p->wrapped_len, p->pii, p->pii_len);
	}
	s_aad(row->line, aad);
	r = crypto_seal(st->key, aad, sizeof(aad), buf, len, sealed, slen);
	crypto_wipe(buf, len);
	free(buf);
	return r;
}

static int s_stage_row(struct import_stage *st, const struct config *cfg,
		       const Overstapctl__Leaver *row)
{
	struct strlist why = { 0 };
	struct store_leaver_prep prep = { 0 };
	uint8_t ref[32], refh[32], *sealed = NULL;
	size_t slen = 0;
	int bad, prepared = 0, r;

	/* Never trust the client's validation: check every row again here. */
	bad = leaver_validate(st->file, row, &why) > 0;
	if ((r = s_error_take(st, &why)) < 0)
		return r;
	if (st->staged && row->line <= st->last_line) {	/* rows come in the file's order */
		bad = 1;
		if ((r = strlist_addf(&why, _("%s:%u: line out of order"), st->file, row->line)) < 0 ||
		    (r = s_error_take(st, &why)) < 0)
			return r;
	}
	st->last_line = row->line > st->last_line ? row->line : st->last_line;
	st->staged++;
	if (!row->pupil_ref[0]) {	/* no key, no duplicate: reported as missing */
		st->refused++;
		return 0;
	}
	/* The staged key for duplicates: the ref under the session's key, so
	 * that the TEMP table holds nothing that outlives the session. */
	if ((r = crypto_hmac_sha256(st->key, sizeof(st->key), row->pupil_ref,
				    strlen(row->pupil_ref), ref)) < 0)
		return r;
	/* A pupil new to the store now is made ready here, off the apply's
	 * transaction: its key, pseudonyms and sealed part (§8.5). A check
	 * stores nothing; a pupil the store holds is compared at the apply. */
	if (!bad && !st->check) {
		if ((r = store_leaver_ref_hash(st->s, row->pupil_ref, refh)) < 0 ||
		    (r = store_stage_known(st->g, refh)) < 0)
			return r;
		if (r == 0 && (r = store_leaver_prepare(st->s, row, refh, &prep)) < 0)
			return r;
		prepared = r == 0;
	}
	if (!bad && (r = s_seal_row(st, row, prepared ? &prep : NULL, &sealed, &slen)) < 0) {
		store_leaver_prep_clear(&prep);
		return r;
	}
	r = store_stage_put(st->g, row->line, ref, bad, sealed, slen);
	store_leaver_prep_clear(&prep);
	free(sealed);
	if (bad)
		st->refused++;
	else
		s_unknown_count(st, cfg, row);
	return r;
}

int import_stage_add(struct import_stage *st, const struct config *cfg,
		     Overstapctl__Leaver *const *rows, size_t n)
{
	int r = 0;

	st->last_ms = time_mono_ms();
	if ((r = store_stage_begin(st->g)) < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		r = s_stage_row(st, cfg, rows[i]);
	return store_stage_end(st->g, r);
}

static int s_dup(void *arg, unsigned line, unsigned prev)
{
	struct import_stage *st = arg;
	struct strlist why = { 0 };

	if (strlist_addf(&why, _("%s:%u: pupil_ref: duplicate of line %u"), st->file, line,
			 prev) < 0)
		return -ENOMEM;
	return s_error_take(st, &why);
}

/* The errors (and how many more) into res, duplicates after the rows' own
 * (as import_leavers says them); the session keeps none. */
static int s_errors(struct import_stage *st, struct import_result *res)
{
	unsigned marked = 0;
	int r = store_stage_duplicates(st->g, s_dup, st, &marked);

	st->refused += marked;

	for (size_t i = 0; i < st->errors.n && r == 0; i++)
		r = strlist_addf(&res->errors, "%s", st->errors.v[i]);
	if (r == 0 && st->errors_dropped)
		r = strlist_addf(&res->errors, _("%s: and %zu more errors"), st->file,
				 st->errors_dropped);
	strlist_clear(&st->errors);
	st->errors_dropped = 0;
	res->refused = st->refused;
	return r;
}

int import_stage_errors(struct import_stage *st, struct import_result *res)
{
	return s_errors(st, res);
}

struct s_apply {
	struct import_run *run;
	const struct import_stage *st;
};

/* One staged row opened (s_seal_row's layout) and imported. */
static int s_each_staged(void *arg, unsigned line, const void *row, size_t len)
{
	const struct s_apply *a = arg;
	const struct import_stage *st = a->st;
	struct store_leaver_prep prep, *p = NULL;
	uint8_t aad[4], *pt = NULL;
	size_t plen = 0, rlen, rest;
	Overstapctl__Leaver *l = NULL;
	int r = -EBADMSG;

	s_aad(line, aad);
	if ((r = crypto_open(st->key, aad, sizeof(aad), row, len, &pt, &plen)) < 0)
		return r;
	r = -EBADMSG;
	if (plen < 4 || (rlen = s_get32(pt)) > plen - 4)
		goto out;
	rest = plen - 4 - rlen;
	if (rest) {
		const uint8_t *at = pt + 4 + rlen;

		memset(&prep, 0, sizeof(prep));
		if (rest < 68 || (prep.wrapped_len = s_get32(at + 64)) > rest - 68)
			goto out;
		memcpy(prep.ref_hash, at, 32);
		memcpy(prep.pseudonym, at + 32, 32);
		prep.wrapped = at + 68;
		prep.pii = at + 68 + prep.wrapped_len;
		prep.pii_len = rest - 68 - prep.wrapped_len;
		p = &prep;
	}
	if (!(l = overstapctl__leaver__unpack(NULL, rlen, pt + 4)))
		goto out;
	r = import_row(a->run, l, p);
out:
	if (l)
		overstapctl__leaver__free_unpacked(l, NULL);
	crypto_wipe(pt, plen);
	free(pt);
	return r;
}

static int s_each(struct import_run *run, void *arg)
{
	struct import_stage *st = arg;
	struct s_apply a = { run, st };

	return store_stage_each(st->g, s_each_staged, &a);
}

int import_stage_finish(struct import_stage *st, const char *user, struct import_result *res)
{
	struct import_run run = { st->s, st->file, user, st->check, res, 0, st->staged, 0,
				  /* nobody added a leaver since the session
				   * began: what was new when staged still is,
				   * and its lookup (a random key, 9-15 % of
				   * the apply) is skipped */
				  store_leaver_adds(st->s) == st->adds_at_open };
	int r;

	st->last_ms = time_mono_ms();
	if ((r = s_errors(st, res)) < 0)
		return r;
	for (size_t i = 0; i < st->n_unknown; i++)
		if ((r = import_warn_unknown(res, st->file, st->unknown[i].line, st->unknown[i].inst,
					     st->unknown[i].count, st->check)) < 0)
			return r;
	if (res->refused && !st->check)
		return -EINVAL;
	/* a bigger page cache while the rows go in (their index keys are random):
	 * within the daemon's budget of 64 MiB, given back afterwards */
	store_cache_kib(st->s, S_APPLY_CACHE_KIB);
	r = import_apply(&run, s_each, st);
	store_cache_kib(st->s, 0);
	return r;
}

void import_stage_free(struct import_stage **stp)
{
	struct import_stage *st = *stp;

	if (!st)
		return;
	store_stage_drop(&st->g);
	strlist_clear(&st->errors);
	free(st->file);
	crypto_wipe(st, sizeof(*st));
	free(st);
	*stp = NULL;
}

void import_sessions_clear(struct hctx *h)
{
	for (size_t i = 0; i < IMPORT_SESSIONS; i++)
		import_stage_free(&h->imports[i]);
}

void import_sessions_expire(struct hctx *h, int64_t now)
{
	for (size_t i = 0; i < IMPORT_SESSIONS; i++)
		if (h->imports[i] && now - import_stage_last(h->imports[i]) > IMPORT_SESSION_IDLE_MS) {
			log_notice("import session of %s dropped after %d minutes without a request: "
				   "nothing of it was stored", import_stage_user(h->imports[i]),
				   IMPORT_SESSION_IDLE_MS / 60000);
			import_stage_free(&h->imports[i]);
		}
}

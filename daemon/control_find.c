/* control_find: `overstap inbox find` (design.md §3.9, §8.2): the MBO's staff
 * know a student by PGN or name, not by our record id. By PGN through the
 * pseudonym index of received dossiers; by name by opening every dossier not
 * erased in turn (names are sealed and there is no name index: why in
 * design.md §3.9). Every search is audited with the record ids it found as
 * subjects, never the PGN or the name searched for. */
#include "control_int.h"
#include "envelope.h"
#include "pgn.h"
#include "i18n.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of a name search: a part of a given or family name. */
#define S_NAME_MIN 2
#define S_NAME_MAX 128

/* ASCII case-insensitive substring (names are UTF-8: other bytes compare
 * exactly, so "é" finds "é" but not "É"). */
static int s_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* 1 when the dossier of record_id names a pupil matching needle (given name,
 * family name, or "given family" as written), 0 when not or when it cannot
 * be opened (erased), or a store error. */
static int s_name_matches(struct store *s, const char *record_id, const char *needle)
{
	struct inbox_row row;
	Overstap__Envelope *e = NULL;
	Overstap__Handover *h = NULL;
	uint8_t *packed = NULL;
	size_t len = 0;
	const char *bad = NULL;
	char full[2 * S_NAME_MAX + 2];
	int r = store_inbox_get(s, record_id, &row, &packed, &len);

	if (r == -ENOKEY || r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	e = overstap__envelope__unpack(NULL, len, packed);
	OPENSSL_cleanse(packed, len);
	free(packed);
	if (!e || envelope_handover_unpack(envelope_body(e), &h, &bad) < 0) {
		r = 0;
		goto out;
	}
	snprintf(full, sizeof(full), "%s %s", h->given_name, h->family_name);
	r = s_contains(h->given_name, needle) || s_contains(h->family_name, needle) ||
	    s_contains(full, needle);
	OPENSSL_cleanse(full, sizeof(full));
out:
	if (h)
		overstap__handover__free_unpacked(h, NULL);
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	return r;
}

static int s_id_cb(const struct inbox_row *r, void *arg)
{
	if (r->erased_at)
		return 0;	/* nothing left to match */
	return strlist_addf(arg, "%s", r->record_id) < 0 ? -ENOMEM : 0;
}

/* Record ids whose dossier matches needle: one pass over the inbox, bounded
 * by its size (what the peers' quotas let in, §4.5). */
static int s_by_name(struct store *s, const char *needle, struct strlist *found)
{
	struct strlist all = { 0 };
	int r = store_inbox_each(s, NULL, 0, s_id_cb, &all);

	for (size_t i = 0; r >= 0 && i < all.n; i++)
		if ((r = s_name_matches(s, all.v[i], needle)) > 0)
			r = strlist_addf(found, "%s", all.v[i]) < 0 ? -ENOMEM : 0;
	strlist_clear(&all);
	return r < 0 ? r : 0;
}

/* One audit entry per dossier found (subject its record id), or one with no
 * subject when none was: a search is a look at personal data either way. */
static int s_audit(struct req_ctx *c, const char *by, const struct strlist *found,
		   const Overstapctl__InboxList *il)
{
	int r = 0;

	if (found->n == 0)
		return store_auditf(c->h->store, c->user, "inbox.searched", "", "",
				    "{s:s, s:i}", "by", by, "found", 0);
	for (size_t i = 0; i < found->n && r == 0; i++)
		r = store_auditf(c->h->store, c->user, "inbox.searched", found->v[i],
				 i < il->n_rows ? il->rows[i]->sender : "", "{s:s, s:i}", "by", by,
				 "found", (int)found->n);
	return r;
}

static int s_row_cb(const struct inbox_row *r, void *arg)
{
	struct ctl_list *a = arg;

	return ctl_list_push(a, ctl_inbox_row(&a->c->pool, r));
}

int ctl_inbox_find(struct req_ctx *c)
{
	const Overstapctl__InboxFind *q = c->req->inbox_find;
	Overstapctl__InboxList *il = ctl_keep(&c->pool, calloc(1, sizeof(*il)));
	struct ctl_list a = { .c = c };
	struct strlist found = { 0 };
	const char *by = q->pgn[0] ? "pgn" : "name", *why = NULL;
	size_t nlen = strlen(q->name);
	int r;

	if (!il)
		return -ENOMEM;
	overstapctl__inbox_list__init(il);
	if (!q->pgn[0] == !q->name[0])
		return ctl_fail(c, -EINVAL, "give a PGN or --name TEXT (one of the two)");
	if (q->pgn[0] && pgn_check(q->pgn, &why) < 0)
		return ctl_fail(c, -EINVAL, "pgn: %s", _(why));	/* never echoed */
	if (q->name[0] && (nlen < S_NAME_MIN || nlen > S_NAME_MAX))
		return ctl_fail(c, -EINVAL, "--name: give 2 to %d bytes of a name", S_NAME_MAX);
	if (q->name[0] && (why = text_reason(text_check(q->name, S_NAME_MAX, 0))))
		return ctl_fail(c, -EINVAL, "--name: %s", why);
	/* one transaction: what was found and its audit entries are one snapshot */
	if ((r = store_begin(c->h->store)) < 0)
		return ctl_fail(c, r, "cannot read the store: %s", strerror(-r));
	r = q->pgn[0] ? store_inbox_by_pgn(c->h->store, q->pgn, &found)
		      : s_by_name(c->h->store, q->name, &found);
	for (size_t i = 0; r == 0 && i < found.n; i++) {
		struct inbox_row row;
		uint8_t *packed = NULL;
		size_t len = 0;

		r = store_inbox_get(c->h->store, found.v[i], &row, &packed, &len);
		if (packed) {
			OPENSSL_cleanse(packed, len);
			free(packed);
		}
		if (r == 0 || r == -ENOKEY)
			r = s_row_cb(&row, &a);
	}
	if ((r = ctl_list_finish(&a, r, "cannot search the inbox")) < 0) {
		store_rollback(c->h->store);
		strlist_clear(&found);
		return r;
	}
	il->rows = (Overstapctl__InboxRow **)a.rows;
	il->n_rows = a.n;
	r = s_audit(c, by, &found, il);
	strlist_clear(&found);
	if (r == 0)
		r = store_commit(c->h->store);
	if (r < 0) {
		store_rollback(c->h->store);
		return ctl_fail(c, r, "cannot write the audit log: %s", strerror(-r));
	}
	log_notice("user %s searched the inbox by %s: %zu found", c->user, by, il->n_rows);
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_INBOX_LIST;
	c->rep->inbox_list = il;
	return 0;
}

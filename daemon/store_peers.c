/* store_peers: what each peer said in its last Hello (design.md §4.5 "Limits
 * both sides know"), and what it has stored here (its quota). */
#include "store_int.h"

#include <errno.h>
#include <string.h>

int store_peer_info_put(struct store *s, const char *peer, const struct peer_info *pi)
{
	sqlite3_stmt *st = store_st(s, ST_PEER_PUT);
	int r;

	if ((r = STORE_BIND(st, STORE_T(peer), STORE_T(pi->software), STORE_I(pi->max_protocol),
			    STORE_I(pi->max_message_size), STORE_I(pi->max_messages_per_hour),
			    STORE_I(pi->max_stored_bytes), STORE_I(pi->at))) < 0)
		return r;
	return sqlerr_exec(st);
}

int store_peer_info_get(struct store *s, const char *peer, struct peer_info *pi)
{
	sqlite3_stmt *st = store_st(s, ST_PEER_GET);
	int rc, r;

	memset(pi, 0, sizeof(*pi));
	if ((r = STORE_BIND(st, STORE_T(peer))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_text(st, 0, pi->software, sizeof(pi->software));
		pi->max_protocol = (unsigned)sqlite3_column_int(st, 1);
		pi->max_message_size = sqlite3_column_int64(st, 2);
		pi->max_messages_per_hour = sqlite3_column_int64(st, 3);
		pi->max_stored_bytes = sqlite3_column_int64(st, 4);
		pi->at = sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sqlerr_errno(rc);
}

int store_inbox_bytes(struct store *s, const char *peer, int64_t *bytes)
{
	return store_int_query(s, ST_INBOX_BYTES, peer, bytes);
}

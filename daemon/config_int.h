/* config_int: what config.c (the parser) shares with config_keys.c (the
 * table of sections and keys it reads). Not for use outside config*.c. */
#ifndef OVERSTAP_CONFIG_INT_H
#define OVERSTAP_CONFIG_INT_H

#include "config.h"

#define S_MAX_KEYS 16			/* keys per section; checked by the tables */
_Static_assert(S_MAX_KEYS <= 32, "key_bad is a 32-bit mask");

enum s_type {
	T_STR,		/* any text that fits */
	T_ID,		/* institution id */
	T_ENDPOINT,	/* "" or tcp://host:port or ipc://path */
	T_SOCKET,	/* absolute filesystem path of a unix socket */
	T_LEVEL,	/* log level name */
	T_INT,		/* int, unsigned and int64_t fields, with a range */
	T_UINT,
	T_I64,
	T_Z85,		/* CURVE public key */
	T_SIGNKEY,	/* base64 Ed25519 public key */
	T_TIME,		/* UTC date or moment, into int64 unix ms */
	T_BASIS,	/* a legal basis: statute or consent */
	T_DIALECT,	/* a CSV dialect: excel-nl or rfc4180 */
	T_GROUPS,	/* Unix group names, space or comma separated, each existing */
	T_USERS,	/* Unix user names, likewise */
	T_LANG,		/* a report language with a catalog: nl or en */
};

struct s_key {
	const char *name;
	enum s_type type;
	size_t off;		/* of the field in struct config or struct peer_cfg */
	size_t size;		/* of the field */
	long long min, max;	/* for the integer types */
	const char *def;	/* default as it would be written in the file, or NULL */
	int required;
};

struct s_section {
	const char *name;
	int peer;		/* [peer ID]: fields live in a struct peer_cfg */
	const struct s_key *keys;
	size_t n_keys;
};

/* Integer keys that must be ordered: key > than (strict) or key >= than. */
struct s_order {
	const char *section, *key, *than;
	int strict;
};

/* config_keys.c: every section with its keys, the ordered pairs, the log
 * level names. */
extern const struct s_section config_sections[];
extern const size_t config_n_sections;
extern const struct s_order config_orders[];
extern const size_t config_n_orders;
extern const char *const config_levels[];
extern const size_t config_n_levels;

#endif

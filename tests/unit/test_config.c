/* test_config: config_load on good and bad files, down to the exact FILE:LINE messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "util.h"

/* Syntactically valid public keys (random bytes, no private half anywhere). */
#define Z85_A "Vjx/3:*6TiPrwr&Tp{dth(u@0P04Yc=!j8[ZD@>k"
#define B64_A "F3Pr2yHDKlQ6cOcBDi9oLO6mjCfc1rhrnpM9EU9t7aQ="
#define Z85_B "wICZiduR*I}&9a91/Z3(8uE$HG$3><orE3Q-*]t@"
#define B64_B "ytuI0Ii489BrA/ZmVaEY0RZR3LYMPNmUGFAAjsK0E6U="

/* A minimal valid file of 9 lines; [network] comes last so that a test can
 * append keys to it, starting at line 10. */
#define BASE \
	"[institution]\n"				/* 1 */ \
	"id = 12AB00\n"					/* 2 */ \
	"keys_dir = /var/lib/overstap/keys\n"		/* 3 */ \
	"[store]\n"					/* 4 */ \
	"path = /var/lib/overstap/overstap.db\n"	/* 5 */ \
	"[control]\n"					/* 6 */ \
	"socket = /run/overstap/control.sock\n"		/* 7 */ \
	"[network]\n"					/* 8 */ \
	"listen = tcp://0.0.0.0:7470\n"			/* 9 */

/* Three lines: a complete peer section. */
#define PEER(id, z85, b64) \
	"[peer " id "]\n" \
	"curve_public_key = " z85 "\n" \
	"sign_public_key = " b64 "\n"

struct fx {
	char dir[64];
	char path[128];
	struct config *cfg;
	struct strlist errs;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/overstapd.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	config_free(&f->cfg);
	strlist_clear(&f->errs);
	free(f);
	return 0;
}

static int load_n(struct fx *f, const char *text, size_t len)
{
	FILE *fp = fopen(f->path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	config_free(&f->cfg);
	strlist_clear(&f->errs);
	return config_load(f->path, &f->cfg, &f->errs);
}

static int load(struct fx *f, const char *text)
{
	return load_n(f, text, strlen(text));
}

static void dump_errors(const struct fx *f)
{
	for (size_t i = 0; i < f->errs.n; i++)
		print_message("  error: %s\n", f->errs.v[i]);
}

/* The file's errors are exactly want[], each given without the file name in
 * front (":10: ..." or ": [store] path is required"). */
static void expect_errors(const struct fx *f, const char *const *want, size_t n)
{
	size_t plen = strlen(f->path);

	if (f->errs.n != n)
		dump_errors(f);
	assert_int_equal(f->errs.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_memory_equal(f->errs.v[i], f->path, plen);
		assert_string_equal(f->errs.v[i] + plen, want[i]);
	}
}

#define EXPECT_ERRORS(f, ...) do { \
	static const char *const want_[] = { __VA_ARGS__ }; \
	expect_errors((f), want_, ARRAY_SIZE(want_)); \
} while (0)

/* Loading text fails with exactly one error, want. */
static void fails_with(struct fx *f, const char *text, const char *want)
{
	assert_int_equal(load(f, text), -EINVAL);
	assert_null(f->cfg);
	expect_errors(f, &want, 1);
}

static void ok(struct fx *f, const char *text)
{
	int r = load(f, text);

	if (r != 0)
		dump_errors(f);
	assert_int_equal(r, 0);
	assert_int_equal(f->errs.n, 0);
	assert_non_null(f->cfg);
}

static void assert_key_equal(const uint8_t key[CRYPTO_SIGN_KEY_LEN], const char *b64)
{
	uint8_t *raw = NULL;
	size_t len = 0;

	assert_int_equal(crypto_b64_decode(b64, &raw, &len), 0);
	assert_int_equal(len, CRYPTO_SIGN_KEY_LEN);
	assert_memory_equal(key, raw, len);
	free(raw);
}

/* ---- valid files ------------------------------------------------------------ */

static void test_full(void **state)
{
	struct fx *f = *state;
	const struct config *c;

	ok(f, "; every key set\n"
	      "[institution]\nid = 12AB00\nname = Praktijkschool De Overstap\n"
	      "keys_dir = /srv/keys\n"
	      "[network]\nlisten = ipc:///run/overstap/peer.sock\n"
	      "heartbeat_ivl_ms = 1000\nheartbeat_timeout_ms = 3000\n"
	      "max_message_size = 67108864\nmax_in_flight = 65536\n"
	      "retry_initial_ms = 10\nretry_max_ms = 10\n"
	      "[store]\npath = /srv/overstap.db\n"
	      "[control]\nsocket = /run/overstap/ctl.sock\ngroup = staff\n"
	      "[log]\nlevel = debug\n"
	      "[peer 25LZ00]\nname = MBO Lauwerszee\nendpoint = tcp://mbo.example:7470\n"
	      "curve_public_key = " Z85_A "\nsign_public_key = " B64_A "\n"
	      "[peer 30XY01]\ncurve_public_key = " Z85_B "\nsign_public_key = " B64_B "\n");
	c = f->cfg;
	assert_string_equal(c->path, f->path);
	assert_string_equal(c->institution_id, "12AB00");
	assert_string_equal(c->institution_name, "Praktijkschool De Overstap");
	assert_string_equal(c->keys_dir, "/srv/keys");
	assert_string_equal(c->listen, "ipc:///run/overstap/peer.sock");
	assert_int_equal(c->heartbeat_ivl_ms, 1000);
	assert_int_equal(c->heartbeat_timeout_ms, 3000);
	assert_int_equal(c->max_message_size, 64 * 1024 * 1024);
	assert_int_equal(c->max_in_flight, 65536);
	assert_int_equal(c->retry_initial_ms, 10);
	assert_int_equal(c->retry_max_ms, 10);
	assert_string_equal(c->store_path, "/srv/overstap.db");
	assert_string_equal(c->control_socket, "/run/overstap/ctl.sock");
	assert_string_equal(c->control_group, "staff");
	assert_string_equal(c->log_level, "debug");
	assert_int_equal(c->n_peers, 2);
	assert_string_equal(c->peers[0].id, "25LZ00");
	assert_string_equal(c->peers[0].name, "MBO Lauwerszee");
	assert_string_equal(c->peers[0].endpoint, "tcp://mbo.example:7470");
	assert_string_equal(c->peers[0].curve_public, Z85_A);
	assert_key_equal(c->peers[0].sign_public, B64_A);
	assert_int_equal(c->peers[0].line, 21);
	assert_string_equal(c->peers[1].id, "30XY01");
	assert_string_equal(c->peers[1].curve_public, Z85_B);
	assert_key_equal(c->peers[1].sign_public, B64_B);
	assert_int_equal(c->peers[1].line, 26);
}

static void test_defaults(void **state)
{
	struct fx *f = *state;
	const struct config *c;

	ok(f, BASE PEER("25LZ00", Z85_A, B64_A));
	c = f->cfg;
	assert_string_equal(c->institution_name, "");
	assert_int_equal(c->heartbeat_ivl_ms, 5000);
	assert_int_equal(c->heartbeat_timeout_ms, 15000);
	assert_int_equal(c->max_message_size, 1048576);
	assert_int_equal(c->max_in_flight, 2048);
	assert_int_equal(c->max_refused_registrations, 100);
	/* minutes, not an hour: a truncated log is found while it matters
	 * (issue 16 item 2) */
	assert_int_equal(c->checkpoint_interval_s, 300);
	assert_int_equal(c->retry_initial_ms, 1000);
	assert_int_equal(c->retry_max_ms, 60000);
	assert_int_equal(c->max_clock_skew_s, 86400);
	assert_int_equal(c->handshake_timeout_ms, 5000);
	assert_int_equal(c->max_connections, 1024);
	assert_int_equal(c->max_connections_per_source, 32);
	assert_string_equal(c->control_group, "");
	assert_string_equal(c->log_level, "info");
	assert_int_equal(c->n_peers, 1);
	assert_string_equal(c->peers[0].name, "");
	assert_string_equal(c->peers[0].endpoint, "");
	assert_int_equal(c->peers[0].line, 10);

	/* no peers at all is a valid (if lonely) daemon */
	ok(f, BASE);
	assert_int_equal(f->cfg->n_peers, 0);
	assert_null(f->cfg->peers);
}

/* What libinih itself allows: comments, inline comments, ':' for '=', CRLF,
 * a UTF-8 BOM, whitespace around keys and values, empty optional values. */
static void test_ini_forms(void **state)
{
	struct fx *f = *state;

	ok(f, "\xEF\xBB\xBF# comment\r\n; comment\r\n" BASE
	      "max_in_flight : 7 ; seven\r\n"
	      "[ log ]\r\n  level   =   warning  \r\n"
	      "[peer   25LZ00]\nendpoint =\nname=\n"
	      "curve_public_key = " Z85_A "\nsign_public_key = " B64_A "\n");
	assert_int_equal(f->cfg->max_in_flight, 7);
	assert_string_equal(f->cfg->log_level, "warning");
	assert_string_equal(f->cfg->peers[0].endpoint, "");
	assert_string_equal(f->cfg->peers[0].id, "25LZ00");
}

static void example_path(char *buf, size_t n)
{
	const char *data = getenv("OVERSTAP_TEST_DATA");
	char base[PATH_MAX];
	int up = 2;	/* tests/data -> the source tree */

	if (!data || !*data) {
		data = __FILE__;
		up = 3;	/* tests/unit/test_config.c */
	}
	/* textually, not with "..": tests/data need not exist */
	snprintf(base, sizeof(base), "%s", data);
	for (int i = 0; i < up; i++) {
		char *slash;
		size_t len = strlen(base);

		while (len > 1 && base[len - 1] == '/')
			base[--len] = '\0';
		slash = strrchr(base, '/');
		if (!slash)
			snprintf(base, sizeof(base), ".");
		else
			slash[slash == base] = '\0';
	}
	snprintf(buf, n, "%s/config/overstapd.conf", base);
}

/* The example configuration's text, the line of its placeholder id in *line. */
static char *example_text(int *line)
{
	char path[PATH_MAX + 32];
	char *text = NULL, *at;
	size_t cap = 0;
	FILE *fp;

	example_path(path, sizeof(path));
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_true(getdelim(&text, &cap, '\0', fp) > 0);
	fclose(fp);
	at = strstr(text, "\nid = " CONFIG_PLACEHOLDER_ID "\n");
	assert_non_null(at);
	*line = 2;
	for (const char *c = text; c < at; c++)
		*line += *c == '\n';
	return text;
}

static void test_example(void **state)
{
	struct fx *f = *state;
	char want[256];
	char *text, *id;
	int line;

	/* As installed by the package: refused until the administrator sets the
	 * id, with the line and what to do (issue 15). */
	text = example_text(&line);
	snprintf(want, sizeof(want), ":%d: id: 99XX00 is the example's placeholder: set it to "
		 "your own BRIN code and location number (e.g. 12AB00); overstapd does not "
		 "start until then", line);
	assert_int_equal(load(f, text), -EINVAL);
	assert_null(f->cfg);
	expect_errors(f, (const char *const[]){ want }, 1);
	/* With an id, valid as it is: the FHS paths of the systemd unit, no
	 * active peer (the [peer] example is commented; the install_tree test
	 * switches it on and checks it). */
	id = strstr(text, "\nid = " CONFIG_PLACEHOLDER_ID "\n");
	memcpy(id + strlen("\nid = "), "12AB00", 6);
	if (load(f, text) != 0)
		dump_errors(f);
	free(text);
	assert_int_equal(f->errs.n, 0);
	assert_non_null(f->cfg);
	assert_string_equal(f->cfg->institution_id, "12AB00");
	assert_int_equal(f->cfg->n_peers, 0);
	assert_string_equal(f->cfg->keys_dir, "/var/lib/overstap/keys");
	assert_string_equal(f->cfg->store_path, "/var/lib/overstap/store.db");
	assert_string_equal(f->cfg->control_group, "overstap");
	/* the defaults it documents are the defaults */
	assert_int_equal(f->cfg->heartbeat_ivl_ms, 5000);
	assert_int_equal(f->cfg->max_message_size, 1048576);
	assert_string_equal(f->cfg->log_level, "info");
}

static void test_peer_find(void **state)
{
	struct fx *f = *state;

	ok(f, BASE PEER("25LZ00", Z85_A, B64_A) PEER("30XY01", Z85_B, B64_B));
	assert_ptr_equal(config_peer_find(f->cfg, "25LZ00"), &f->cfg->peers[0]);
	assert_ptr_equal(config_peer_find(f->cfg, "30XY01"), &f->cfg->peers[1]);
	assert_string_equal(config_peer_find(f->cfg, "30XY01")->curve_public, Z85_B);
	assert_null(config_peer_find(f->cfg, "12AB00"));	/* ourselves */
	assert_null(config_peer_find(f->cfg, "25lz00"));
	assert_null(config_peer_find(f->cfg, ""));
	assert_null(config_peer_find(f->cfg, NULL));
	assert_null(config_peer_find(NULL, "25LZ00"));
}

static void test_institution_id(void **state)
{
	static const char *const good[] = { "12AB00", "25LZ00", "001234", "99ZZ99", "00A900" };
	static const char *const bad[] = { "", "12AB0", "12AB000", "12ab00", "1AAB00",
					   "12AB0A", "A2AB00", "12A-00", "12AB 0", " 12AB00" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_true(config_institution_id_valid(good[i]));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(config_institution_id_valid(bad[i]));
	assert_false(config_institution_id_valid(NULL));
}

static void test_free_null(void **state)
{
	struct config *c = NULL;

	(void)state;
	config_free(NULL);
	config_free(&c);
	assert_null(c);
}

/* ---- one test per kind of error ---------------------------------------------- */

static void test_unknown_key(void **state)
{
	struct fx *f = *state;

	fails_with(f, BASE "hartbeat_ivl_ms = 100\n", ":10: unknown key 'hartbeat_ivl_ms' in [network]");
	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) "listen = tcp://a:1\n",
		   ":13: unknown key 'listen' in [peer 25LZ00]");
	fails_with(f, "id = 12AB00\n" BASE, ":1: key 'id' is outside any section");
}

static void test_unknown_section(void **state)
{
	struct fx *f = *state;

	/* its keys are not reported one by one */
	fails_with(f, BASE "[logging]\nlevel = debug\n", ":10: unknown section [logging]");
	fails_with(f, BASE "[peers 25LZ00]\n", ":10: unknown section [peers 25LZ00]");
}

static void test_bad_int(void **state)
{
	struct fx *f = *state;

	fails_with(f, BASE "heartbeat_ivl_ms = 5s\n", ":10: heartbeat_ivl_ms: '5s' is not an integer");
	fails_with(f, BASE "heartbeat_ivl_ms = +500\n", ":10: heartbeat_ivl_ms: '+500' is not an integer");
	fails_with(f, BASE "heartbeat_ivl_ms = 0x100\n", ":10: heartbeat_ivl_ms: '0x100' is not an integer");
	fails_with(f, BASE "heartbeat_ivl_ms =\n", ":10: heartbeat_ivl_ms: '' is not an integer");
	fails_with(f, BASE "max_in_flight = 0\n", ":10: max_in_flight: 0 is out of range (1..65536)");
	fails_with(f, BASE "max_refused_registrations_per_hour = 0\n",
		   ":10: max_refused_registrations_per_hour: 0 is out of range (1..1000000)");
	fails_with(f, BASE "max_in_flight = -1\n", ":10: max_in_flight: -1 is out of range (1..65536)");
	fails_with(f, BASE "max_clock_skew_s = 59\n",
		   ":10: max_clock_skew_s: 59 is out of range (60..2592000)");
	fails_with(f, BASE "max_message_size = 67108865\n",
		   ":10: max_message_size: 67108865 is out of range (1024..67108864)");
	fails_with(f, BASE "max_message_size = 99999999999999999999\n",
		   ":10: max_message_size: 99999999999999999999 is out of range (1024..67108864)");
	fails_with(f, BASE "retry_initial_ms = 9\n", ":10: retry_initial_ms: 9 is out of range (10..600000)");
	fails_with(f, BASE "handshake_timeout_ms = 99\n",
		   ":10: handshake_timeout_ms: 99 is out of range (100..120000)");
	fails_with(f, BASE "max_connections = 0\n", ":10: max_connections: 0 is out of range (1..65536)");
	fails_with(f, BASE "max_connections_per_source = 65537\n",
		   ":10: max_connections_per_source: 65537 is out of range (1..65536)");
}

static void test_bad_order(void **state)
{
	struct fx *f = *state;

	fails_with(f, BASE "heartbeat_ivl_ms = 20000\n",
		   ":10: heartbeat_timeout_ms: must be greater than heartbeat_ivl_ms (15000 <= 20000)");
	fails_with(f, BASE "heartbeat_timeout_ms = 1000\nheartbeat_ivl_ms = 1000\n",
		   ":10: heartbeat_timeout_ms: must be greater than heartbeat_ivl_ms (1000 <= 1000)");
	fails_with(f, BASE "retry_initial_ms = 5000\nretry_max_ms = 2000\n",
		   ":11: retry_max_ms: must be at least retry_initial_ms (2000 < 5000)");
	/* a source may not be allowed more than everyone together */
	fails_with(f, BASE "max_connections = 10\n",
		   ":10: max_connections: must be at least max_connections_per_source (10 < 32)");
	/* a bad value is reported once, not again as out of order */
	fails_with(f, BASE "retry_max_ms = soon\n", ":10: retry_max_ms: 'soon' is not an integer");
}

static void test_bad_id(void **state)
{
	struct fx *f = *state;

	fails_with(f, "[institution]\nid = 12ab00\nkeys_dir = /k\n" "[store]\npath = /s\n"
		      "[control]\nsocket = /c\n[network]\nlisten = tcp://*:1\n",
		   ":2: id: '12ab00' is not an institution id "
		   "(2 digits, 2 capitals or digits, 2 digits, e.g. 12AB00)");
	fails_with(f, BASE PEER("25LZ0", Z85_A, B64_A),
		   ":10: [peer 25LZ0]: '25LZ0' is not an institution id "
		   "(2 digits, 2 capitals or digits, 2 digits, e.g. 25LZ00)");
	fails_with(f, BASE "[peer]\n",
		   ":10: [peer] needs the peer's institution id, e.g. [peer 25LZ00]");
	/* the example's placeholder: a valid id, refused as our own */
	fails_with(f, "[institution]\nkeys_dir = /k\nid = 99XX00\n" "[store]\npath = /s\n"
		      "[control]\nsocket = /c\n[network]\nlisten = tcp://*:1\n",
		   ":3: id: 99XX00 is the example's placeholder: set it to your own BRIN code "
		   "and location number (e.g. 12AB00); overstapd does not start until then");
	/* but not as a peer's (nor anywhere else: it is a valid id) */
	ok(f, BASE PEER("99XX00", Z85_A, B64_A));
}

static void test_bad_z85(void **state)
{
	struct fx *f = *state;
	const char *want = ":11: curve_public_key: not a CURVE public key (40 characters of Z85)";

	fails_with(f, BASE PEER("25LZ00", "tooshort", B64_A), want);
	fails_with(f, BASE PEER("25LZ00", Z85_A "x", B64_A), want);
	/* right length, a character outside the alphabet */
	fails_with(f, BASE PEER("25LZ00", "Vjx/3:*6TiPrwr&Tp{dth(u@0P04Yc=!j8[ZD@>~", B64_A), want);
	/* a group above 2^32 - 1 */
	fails_with(f, BASE PEER("25LZ00", "#####:*6TiPrwr&Tp{dth(u@0P04Yc=!j8[ZD@>k", B64_A), want);
}

static void test_bad_b64(void **state)
{
	struct fx *f = *state;

	fails_with(f, BASE PEER("25LZ00", Z85_A, "not base64!"),
		   ":12: sign_public_key: not valid base64");
	fails_with(f, BASE PEER("25LZ00", Z85_A, "AAAAAAAAAAAAAAAAAAAAAA=="),
		   ":12: sign_public_key: decodes to 16 bytes, an Ed25519 public key has 32");
	fails_with(f, BASE PEER("25LZ00", Z85_A, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		   ":12: sign_public_key: decodes to 36 bytes, an Ed25519 public key has 32");
}

static void test_bad_values(void **state)
{
	struct fx *f = *state;

	fails_with(f, "[institution]\nid = 12AB00\nkeys_dir = /k\n" "[store]\npath = /s\n"
		      "[control]\nsocket = /c\n[network]\nlisten = http://x:1\n",
		   ":9: listen: 'http://x:1' must start with tcp:// or ipc://");
	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) "endpoint = tcp://mbo.example\n",
		   ":13: endpoint: 'tcp://mbo.example' needs host:port after tcp://");
	fails_with(f, BASE "[log]\nlevel = loud\n",
		   ":11: level: 'loud' is not one of err, warning, notice, info, debug");
	fails_with(f, BASE "[control]\n", ":10: [control] duplicates the section on line 6");
	fails_with(f, "[control]\nsocket = run/ctl.sock\n" "[institution]\nid = 12AB00\n"
		      "keys_dir = /k\n[store]\npath = /s\n[network]\nlisten = tcp://*:1\n",
		   ":2: socket: 'run/ctl.sock' is not an absolute path");
	fails_with(f, "[store]\npath =\n" "[institution]\nid = 12AB00\nkeys_dir = /k\n"
		      "[control]\nsocket = /c\n[network]\nlisten = tcp://*:1\n",
		   ":2: path: must not be empty");
}

static void test_missing_required(void **state)
{
	struct fx *f = *state;

	/* section present: its header line */
	fails_with(f, "[institution]\nid = 12AB00\n[store]\npath = /s\n"
		      "[control]\nsocket = /c\n[network]\nlisten = tcp://*:1\n",
		   ":1: [institution] keys_dir is required");
	fails_with(f, BASE "[peer 25LZ00]\ncurve_public_key = " Z85_A "\n",
		   ":10: [peer 25LZ00] sign_public_key is required");
	/* section absent: no line */
	fails_with(f, "[institution]\nid = 12AB00\nkeys_dir = /k\n"
		      "[control]\nsocket = /c\n[network]\nlisten = tcp://*:1\n",
		   ": [store] path is required");
	assert_int_equal(load(f, ""), -EINVAL);
	EXPECT_ERRORS(f, ": [institution] id is required", ": [institution] keys_dir is required",
		      ": [network] listen is required", ": [store] path is required",
		      ": [control] socket is required");
}

static void test_duplicate_peer(void **state)
{
	struct fx *f = *state;

	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) "\n" PEER("25LZ00", Z85_B, B64_B),
		   ":14: [peer 25LZ00] duplicates the section on line 10");
	/* two ids, one CURVE key: ZAP could not tell them apart */
	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) PEER("30XY01", Z85_A, B64_B),
		   ":13: [peer 30XY01]: a CURVE key of [peer 25LZ00] on line 10 is used again");
}

/* Key rollover: the peer's next keys and the end of the window go together. */
static void test_rollover(void **state)
{
	struct fx *f = *state;
	const struct peer_cfg *pc;

	assert_int_equal(load(f, BASE PEER("25LZ00", Z85_A, B64_A)
			     "curve_public_key_next = " Z85_B "\n"
			     "sign_public_key_next = " B64_B "\n"
			     "rollover_until = 2026-12-07T12:00:00Z\n"), 0);
	pc = config_peer_find(f->cfg, "25LZ00");
	assert_non_null(pc);
	assert_string_equal(pc->curve_next, Z85_B);
	assert_true(pc->has_sign_next);
	assert_int_equal(pc->rollover_until, 1796644800000LL);	/* date -u -d ... +%s */
	assert_true(config_peer_old_keys_ok(pc, pc->rollover_until - 1));
	assert_false(config_peer_old_keys_ok(pc, pc->rollover_until));
	config_free(&f->cfg);
	/* no rollover: the old (only) keys are always fine */
	assert_int_equal(load(f, BASE PEER("25LZ00", Z85_A, B64_A)), 0);
	assert_true(config_peer_old_keys_ok(config_peer_find(f->cfg, "25LZ00"), INT64_MAX));
	config_free(&f->cfg);

	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) "curve_public_key_next = " Z85_B "\n"
		      "rollover_until = 2026-12-07\n",
		   ":10: [peer 25LZ00]: a key rollover needs both curve_public_key_next and "
		   "sign_public_key_next");
	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) "curve_public_key_next = " Z85_B "\n"
		      "sign_public_key_next = " B64_B "\n",
		   ":10: [peer 25LZ00]: a key rollover needs rollover_until (when the old keys "
		   "stop being accepted)");
	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) "rollover_until = 2026-12-07\n",
		   ":10: [peer 25LZ00]: rollover_until without the peer's next keys");
	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) "curve_public_key_next = " Z85_A "\n"
		      "sign_public_key_next = " B64_B "\nrollover_until = 2026-12-07\n",
		   ":10: [peer 25LZ00]: curve_public_key_next is the current key");
	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) "rollover_until = next week\n",
		   ":13: rollover_until: 'next week' is not a UTC date or moment "
		   "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
	/* another peer's next key is as taken as its current one */
	fails_with(f, BASE PEER("25LZ00", Z85_A, B64_A) "curve_public_key_next = " Z85_B "\n"
		      "sign_public_key_next = " B64_B "\nrollover_until = 2026-12-07\n"
		      PEER("30XY01", Z85_B, B64_A),
		   ":16: [peer 30XY01]: a CURVE key of [peer 25LZ00] on line 10 is used again");
}

/* [policy]: only the handover basis can be chosen (design.md §3). */
static void test_policy(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, BASE), 0);
	assert_string_equal(f->cfg->policy_handover, "statute");
	assert_string_equal(f->cfg->policy_follow_up, "consent");
	config_free(&f->cfg);
	assert_int_equal(load(f, BASE "[policy]\nhandover = consent\nstatus = statute\n"
			     "follow_up = consent\n"), 0);
	assert_string_equal(f->cfg->policy_handover, "consent");
	config_free(&f->cfg);
	fails_with(f, BASE "[policy]\nhandover = maybe\n",
		   ":11: handover: 'maybe' is not a legal basis (statute or consent)");
	fails_with(f, BASE "[policy]\nfollow_up = statute\n",
		   ":11: follow_up: follow_up is always consent: outcomes go back to the school only "
		   "with consent (design.md §3)");
	fails_with(f, BASE "[policy]\nstatus = consent\n",
		   ":11: status: status is always statute: registration statuses are statutory "
		   "(design.md §3)");
}

/* [report] csv_dialect (design.md §6.5): excel-nl unless rfc4180 is chosen. */
static void test_csv_dialect(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, BASE), 0);
	assert_string_equal(f->cfg->report_csv_dialect, "excel-nl");
	config_free(&f->cfg);
	assert_int_equal(load(f, BASE "[report]\ncsv_dialect = rfc4180\n"), 0);
	assert_string_equal(f->cfg->report_csv_dialect, "rfc4180");
	config_free(&f->cfg);
	fails_with(f, BASE "[report]\ncsv_dialect = excel\n",
		   ":11: csv_dialect: 'excel' is not a CSV dialect (excel-nl or rfc4180)");
}

/* [control] rights (design.md §4.9): groups and users that exist, kept with
 * single spaces; a misspelt one is an error rather than a right given to
 * nobody. */
static void test_control_rights(void **state)
{
#define CTL_BASE \
	"[institution]\nid = 12AB00\nkeys_dir = /var/lib/overstap/keys\n"		/* 1-3 */ \
	"[store]\npath = /var/lib/overstap/overstap.db\n"			/* 4-5 */ \
	"[network]\nlisten = tcp://0.0.0.0:7470\n"				/* 6-7 */ \
	"[control]\nsocket = /run/overstap/control.sock\n"			/* 8-9 */
	struct fx *f = *state;

	if (load(f, CTL_BASE "mentor = audio,  video\nprivacy = video\ndelegate = nobody\n") != 0) {
		dump_errors(f);
		fail();
	}
	assert_string_equal(f->cfg->control_mentor, "audio video");
	assert_string_equal(f->cfg->control_privacy, "video");
	assert_string_equal(f->cfg->control_delegate, "nobody");
	assert_string_equal(f->cfg->control_read, "");		/* falls back to [control] group */
	assert_string_equal(f->cfg->control_admin, "");
	config_free(&f->cfg);
	fails_with(f, CTL_BASE "mentor = audio mentorren-ovt\n",
		   ":10: mentor: no group 'mentorren-ovt' on this system");
	fails_with(f, CTL_BASE "delegate = overstap-web-ovt\n",
		   ":10: delegate: no user 'overstap-web-ovt' on this system");
#undef CTL_BASE
}

/* [report] language (design.md §10): Dutch unless English is chosen; a
 * language without a catalog is refused, not silently English. */
static void test_report_language(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, BASE), 0);
	assert_string_equal(f->cfg->report_language, "nl");
	config_free(&f->cfg);
	assert_int_equal(load(f, BASE "[report]\nlanguage = en\n"), 0);
	assert_string_equal(f->cfg->report_language, "en");
	config_free(&f->cfg);
	fails_with(f, BASE "[report]\nlanguage = de\n",
		   ":11: language: 'de' is not a report language (nl or en)");
	fails_with(f, BASE "[report]\nlanguage = NL\n",
		   ":11: language: 'NL' is not a report language (nl or en)");
}

static void test_peer_own_id(void **state)
{
	struct fx *f = *state;

	fails_with(f, BASE PEER("12AB00", Z85_A, B64_A),
		   ":10: [peer 12AB00]: a peer cannot have our own institution id");
	/* also when the peer comes before our own id */
	fails_with(f, PEER("12AB00", Z85_A, B64_A) BASE,
		   ":1: [peer 12AB00]: a peer cannot have our own institution id");
}

static void test_duplicate_key(void **state)
{
	struct fx *f = *state;

	fails_with(f, BASE "listen = tcp://*:7471\n", ":10: listen: duplicate key (first set on line 9)");
}

static void test_syntax_error(void **state)
{
	struct fx *f = *state;

	fails_with(f, BASE "max_in_flight 5\n", ":10: syntax error: expected 'key = value'");
	/* the keys under a broken header are not blamed on [network] */
	fails_with(f, BASE "[log\nlevel = debug\n", ":10: syntax error: missing ']' in section header");
	/* inih would quietly append it to listen's value */
	fails_with(f, BASE "  max_in_flight = 5\n",
		   ":10: syntax error: indented line continues the value of 'listen'");
}

static int count_handler(void *user, const char *section, const char *name, const char *value)
{
	(void)user;
	(void)section;
	(void)name;
	(void)value;
	return 1;
}

/* config.c follows inih's reading of a line (inih reports only its first
 * syntax error); both must agree on which lines are syntax errors. */
static void test_syntax_agrees_with_inih(void **state)
{
	static const char *const lines[] = {
		"no separator", "[unterminated", "[a ;]", "[a;]", "k ; = v", "k;= v", "=v",
		": v", "[]", "[a]]", "[a] ; c", "k=v;x", "k = v ; c", "#c", ";c", "k:v",
		"[a ]x", "k v", "   ", "[peer 25LZ00 ; x]",
	};
	struct fx *f = *state;
	char text[512], prefix[160];

	snprintf(prefix, sizeof(prefix), "%s:10: syntax error", f->path);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		int inih, ours = 0;

		snprintf(text, sizeof(text), "%s%s\n", BASE, lines[i]);
		inih = ini_parse_string(text, count_handler, NULL);
		load(f, text);
		for (size_t e = 0; e < f->errs.n; e++)
			ours |= strncmp(f->errs.v[e], prefix, strlen(prefix)) == 0;
		print_message("line '%s': inih %d, ours %d\n", lines[i], inih, ours);
		assert_true(inih == 0 || inih == 10);
		assert_int_equal(inih == 10, ours);
	}
}

static void test_long_line(void **state)
{
	struct fx *f = *state;
	char text[1024];

	/* line numbers after the long line are still right */
	snprintf(text, sizeof(text), "%sname = %0250d\nbogus = 1\n", BASE, 0);
	assert_int_equal(load(f, text), -EINVAL);
	EXPECT_ERRORS(f, ":10: line longer than 198 characters",
		      ":11: unknown key 'bogus' in [network]");
	/* a header too long to read: its keys are skipped, not put in [network] */
	snprintf(text, sizeof(text), "%s[peer %0250d]\nbogus = 1\n", BASE, 0);
	fails_with(f, text, ":10: line longer than 198 characters");
}

static void test_nul_byte(void **state)
{
	struct fx *f = *state;
	static const char text[] = BASE "max_in\0flight = 5\nbogus = 1\n";

	assert_int_equal(load_n(f, text, sizeof(text) - 1), -EINVAL);
	EXPECT_ERRORS(f, ":10: line contains a NUL byte", ":11: unknown key 'bogus' in [network]");
}

/* An administrator sees every problem at once, in line order. */
static void test_many_errors(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, "[institution]\n"			/* 1 */
				 "id = 12ab00\n"			/* 2 */
				 "keys_dir = /k\n"			/* 3 */
				 "[network]\n"				/* 4 */
				 "listen = tcp://*:1\n"			/* 5 */
				 "heartbeat_ivl_ms = fast\n"		/* 6 */
				 "colour = blue\n"			/* 7 */
				 "oops\n"				/* 8 */
				 "[control]\n"				/* 9 */
				 "socket = ctl.sock\n"			/* 10 */
				 "[peer 25LZ00]\n"			/* 11 */
				 "curve_public_key = short\n"		/* 12 */
				 "sign_public_key = ???\n"		/* 13 */
				 "[peer 25LZ00]\n"			/* 14 */
				 "[peer 30XY01]\n"			/* 15 */
				 "curve_public_key = " Z85_B "\n"	/* 16 */
				 "[log]\n"				/* 17 */
				 "level = verbose\n"			/* 18 */
				 "level = debug\n"),			/* 19 */
			 -EINVAL);
	assert_null(f->cfg);
	EXPECT_ERRORS(f,
		":2: id: '12ab00' is not an institution id "
		"(2 digits, 2 capitals or digits, 2 digits, e.g. 12AB00)",
		":6: heartbeat_ivl_ms: 'fast' is not an integer",
		":7: unknown key 'colour' in [network]",
		":8: syntax error: expected 'key = value'",
		":10: socket: 'ctl.sock' is not an absolute path",
		":12: curve_public_key: not a CURVE public key (40 characters of Z85)",
		":13: sign_public_key: not valid base64",
		":14: [peer 25LZ00] duplicates the section on line 11",
		":15: [peer 30XY01] sign_public_key is required",
		":18: level: 'verbose' is not one of err, warning, notice, info, debug",
		":19: level: duplicate key (first set on line 18)",
		": [store] path is required");
}

static void test_unreadable(void **state)
{
	struct fx *f = *state;
	static struct config sentinel;
	struct config *c = &sentinel;	/* must be overwritten with NULL */

	assert_int_equal(config_load(f->path, &c, &f->errs), -ENOENT);
	assert_null(c);
	EXPECT_ERRORS(f, ": cannot read: No such file or directory");
}

static void test_no_error_list(void **state)
{
	struct fx *f = *state;
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fputs(BASE "bogus = 1\n", fp);
	fclose(fp);
	assert_int_equal(config_load(f->path, &f->cfg, NULL), -EINVAL);
	assert_null(f->cfg);
}

/* The CLI's way in when the file does not load (issue 15, as chronyc works
 * without chrony.conf): the socket the file names, whatever else is wrong in
 * it, else the default one. */
static void test_control_socket_of_a_broken_file(void **state)
{
	struct fx *f = *state;
	char buf[108];

	/* missing file: the default */
	assert_int_equal(config_control_socket(f->path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, CONFIG_DEFAULT_SOCKET);
	/* a file that does not load names its socket all the same */
	assert_int_equal(load(f, "[institution]\nid = 12ab00\ncolour = blue\n[control]\n"
			      "socket = /srv/o/control.sock\nthis line has no equals sign\n"), -EINVAL);
	assert_int_equal(config_control_socket(f->path, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/srv/o/control.sock");
	/* the socket line itself wrong, or absent: the default, said to be so */
	assert_int_equal(load(f, "[institution]\nid = 12AB00\n[control]\n"
			      "socket = relative/control.sock\n"), -EINVAL);
	assert_int_equal(config_control_socket(f->path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, CONFIG_DEFAULT_SOCKET);
	assert_int_equal(load(f, "[institution]\nid = 12AB00\n"), -EINVAL);
	assert_int_equal(config_control_socket(f->path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, CONFIG_DEFAULT_SOCKET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ini_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_find, setup, teardown),
		cmocka_unit_test(test_institution_id),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_int, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_z85, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_b64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_own_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_agrees_with_inih, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_rights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_dialect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_language, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_error_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_socket_of_a_broken_file, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* bench_sig: the signature cost per message, v1 (one Ed25519 each) against
 * batch signatures (design.md §4.3: one per group of 512, a path each), for
 * the sender (sign and pack) and the receiver (unpack and verify, on one
 * core and on the receive worker pool as net_rx.c runs it). Issue 14: signing
 * was 46 % of a sending daemon, verifying 76 % of a receiving one.
 *
 *   bench_sig [-n N] [-b BODY_BYTES]
 *
 * N messages (default 51200) with bodies of BODY_BYTES (default 600, about a
 * dossier). Prints messages/s per phase; wall time, so on a shared machine
 * run it twice. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"
#include "workpool.h"

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct msgs {
	size_t n;
	uint8_t **packed;
	size_t *len;
	crypto_sigkey *verify;
	_Atomic int bad;
};

static void s_verify(void *ctx, size_t i)
{
	struct msgs *m = ctx;
	Overstap__Envelope *e = NULL;
	const char *why = NULL;

	if (envelope_unpack(m->packed[i], m->len[i], 1 << 20, &e, &why) < 0 ||
	    envelope_verify(e, m->verify) < 0)
		m->bad = 1;
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
}

static void s_report(const char *what, size_t n, double t)
{
	printf("%-44s %10.0f msg/s  (%zu in %.3f s)\n", what, (double)n / t, n, t);
}

int main(int argc, char **argv)
{
	size_t n = 51200, blen = 600;
	uint8_t seed[32], pub[32], *body;
	crypto_sigkey *signer, *verify;
	Overstap__Envelope *env, **ep;
	char (*ids)[CRYPTO_UUID_STR_LEN + 1];
	struct msgs m = { 0 };
	struct workpool *wp;
	double t;
	int c;

	while ((c = getopt(argc, argv, "n:b:")) != -1) {
		if (c == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (c == 'b')
			blen = strtoul(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: bench_sig [-n N] [-b BODY_BYTES]\n");
			return 2;
		}
	}
	if (n == 0)
		return 2;
	if (crypto_sign_keygen(seed, pub) < 0)
		return 1;
	signer = crypto_sigkey_new_private(seed);
	verify = crypto_sigkey_new_public(pub);
	body = calloc(1, blen + 1);
	env = calloc(n, sizeof(*env));
	ep = calloc(n, sizeof(*ep));
	ids = calloc(n, sizeof(*ids));
	m.packed = calloc(n, sizeof(*m.packed));
	m.len = calloc(n, sizeof(*m.len));
	m.n = n;
	m.verify = verify;
	if (!signer || !verify || !body || !env || !ep || !ids || !m.packed || !m.len)
		return 1;
	memset(body, 'x', blen);
	for (size_t i = 0; i < n; i++) {
		if (envelope_init(&env[i], "12AB00", "25LZ00", OVERSTAP__ENVELOPE__BODY_HANDOVER, body,
				  blen, ids[i]) < 0)
			return 1;
		ep[i] = &env[i];
	}
	wp = workpool_new(workpool_helpers_for_cpus());
	printf("%zu messages of %zu body bytes; %u receive worker(s) besides the loop\n", n, blen,
	       workpool_helpers_for_cpus());

	for (int batch = 0; batch < 2; batch++) {
		const char *kind = batch ? "batch (groups of 512)" : "v1 (one signature each)";
		char what[64];

		t = s_now();
		for (size_t i = 0; i < n;) {
			size_t k = batch ? (n - i < ENVELOPE_GROUP_MAX ? n - i : ENVELOPE_GROUP_MAX) : 1;

			if (envelope_sign_pack_group(ep + i, k, signer, m.packed + i, m.len + i) < 0)
				return 1;
			i += k;
		}
		snprintf(what, sizeof(what), "sign+pack, %s", kind);
		s_report(what, n, s_now() - t);
		for (int pool = 0; pool < 2; pool++) {
			envelope_root_cache_clear();
			t = s_now();
			workpool_for(pool ? wp : NULL, n, s_verify, &m);
			snprintf(what, sizeof(what), "unpack+verify, %s, %s", batch ? "batch" : "v1",
				 pool ? "pool" : "1 core");
			s_report(what, n, s_now() - t);
		}
		if (m.bad) {
			fprintf(stderr, "a message did not verify\n");
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			free(m.packed[i]);
	}
	workpool_free(&wp);
	crypto_sigkey_free(&signer);
	crypto_sigkey_free(&verify);
	free(body);
	free(env);
	free(ep);
	free(ids);
	free(m.packed);
	free(m.len);
	return 0;
}

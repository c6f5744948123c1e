/* idmap: message id -> array index (idmap.h). */
#include "idmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t s_home(const struct idmap *m, const char *id)
{
	uint32_t h = 2166136261u;	/* FNV-1a: UUIDs are random enough already */

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h & m->mask;
}

/* The slot holding id, or the empty one where it would go. */
static size_t s_slot(const struct idmap *m, const char *id)
{
	size_t i = s_home(m, id);

	while (m->slots[i] && strcmp(m->key(m->ctx, m->slots[i] - 1), id) != 0)
		i = (i + 1) & m->mask;
	return i;
}

int idmap_init(struct idmap *m, size_t n, idmap_key_fn key, const void *ctx)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	m->slots = calloc(cap, sizeof(*m->slots));
	m->mask = cap - 1;
	m->key = key;
	m->ctx = ctx;
	return m->slots ? 0 : -ENOMEM;
}

void idmap_free(struct idmap *m)
{
	free(m->slots);
	m->slots = NULL;
}

void idmap_clear(struct idmap *m)
{
	if (m->slots)
		memset(m->slots, 0, (m->mask + 1) * sizeof(*m->slots));
}

long idmap_find(const struct idmap *m, const char *id)
{
	uint32_t v = m->slots[s_slot(m, id)];

	return v ? (long)v - 1 : -1;
}

void idmap_put(struct idmap *m, uint32_t i)
{
	m->slots[s_slot(m, m->key(m->ctx, i))] = i + 1;
}

void idmap_del(struct idmap *m, const char *id)
{
	size_t i = s_slot(m, id), j = i;

	if (!m->slots[i])
		return;
	m->slots[i] = 0;
	for (;;) {
		size_t k;

		j = (j + 1) & m->mask;
		if (!m->slots[j])
			return;
		k = s_home(m, m->key(m->ctx, m->slots[j] - 1));
		/* the entry at j stays when its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		m->slots[i] = m->slots[j];
		m->slots[j] = 0;
		i = j;
	}
}

void idmap_move(struct idmap *m, const char *id, uint32_t to)
{
	size_t i = s_slot(m, id);

	if (m->slots[i])
		m->slots[i] = to + 1;
}

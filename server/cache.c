/*
 * cache: direct-mapped answer cache; see cache.h.
 */
#include <stdlib.h>
#include <string.h>

#include "server/cache.h"

static uint64_t hash(const uint8_t *p, size_t n, bool keep_alive)
{
	/* A word at a time, multiply and fold: requests are short and a
	 * collision only costs a miss (the content is compared in full). */
	uint64_t h = 0x9e3779b97f4a7c15ULL * (n + 1) ^ (keep_alive ? 0x5bd1e995ULL : 0);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	uint64_t tail = 0;
	memcpy(&tail, p + i, n - i);
	h = (h ^ tail) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

int srv_cache_init(srv_cache *c)
{
	memset(c, 0, sizeof *c);
	c->slots = calloc(SRV_CACHE_SLOTS, sizeof *c->slots);
	return c->slots ? 0 : -1;
}

void srv_cache_free(srv_cache *c)
{
	if (c->slots)
		for (size_t i = 0; i < SRV_CACHE_SLOTS; i++)
			jm_buf_free(&c->slots[i].response);
	free(c->slots);
	c->slots = NULL;
}

const jm_buf *srv_cache_get(srv_cache *c, const uint8_t *content, size_t len, bool keep_alive)
{
	if (!c->slots || len > SRV_CACHE_MAX_CONTENT)
		return NULL;
	uint64_t h = hash(content, len, keep_alive);
	srv_cache_slot *s = &c->slots[h % SRV_CACHE_SLOTS];
	if (s->used && s->hash == h && s->keep_alive == keep_alive && s->content_len == len &&
	    !memcmp(s->content, content, len)) {
		c->hits++;
		return &s->response;
	}
	c->misses++;
	return NULL;
}

void srv_cache_put(srv_cache *c, const uint8_t *content, size_t len, bool keep_alive,
		   const uint8_t *response, size_t rlen)
{
	if (!c->slots || len > SRV_CACHE_MAX_CONTENT)
		return;
	uint64_t h = hash(content, len, keep_alive);
	srv_cache_slot *s = &c->slots[h % SRV_CACHE_SLOTS];
	s->used = false;
	s->response.len = s->response.off = 0;
	if (jm_buf_append(&s->response, response, rlen) < 0)
		return;
	s->hash = h;
	s->keep_alive = keep_alive;
	memcpy(s->content, content, len);
	s->content_len = len;
	s->used = true;
}

/*
 * cache: remembered answers to text/json requests.
 *
 * A search response is a pure function of the request content bytes and
 * whether the request asked for keep-alive (the table does not change while
 * the server runs, nor does the byte order), so a server under load that
 * sees the same request again can copy the bytes it sent last time instead
 * of parsing JSON, searching and encoding again.  Direct-mapped, fixed
 * size, small contents only: a miss costs one hash and one compare, and
 * memory is bounded by SRV_CACHE_SLOTS * (SRV_CACHE_MAX_CONTENT + the
 * response).  Only answers are cached, never error responses.
 */
#ifndef JM_SERVER_CACHE_H
#define JM_SERVER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jmsg.h"

#define SRV_CACHE_SLOTS 256
#define SRV_CACHE_MAX_CONTENT 256

typedef struct srv_cache_slot {
	uint64_t hash;
	bool used, keep_alive;
	uint8_t content[SRV_CACHE_MAX_CONTENT];
	size_t content_len;
	jm_buf response;
} srv_cache_slot;

typedef struct srv_cache {
	srv_cache_slot *slots;  /* NULL: caching off */
	uint64_t hits, misses;
} srv_cache;

int srv_cache_init(srv_cache *c);
void srv_cache_free(srv_cache *c);
/* The remembered response, or NULL. */
const jm_buf *srv_cache_get(srv_cache *c, const uint8_t *content, size_t len, bool keep_alive);
/* Remember `response` (a complete message) for this request. */
void srv_cache_put(srv_cache *c, const uint8_t *content, size_t len, bool keep_alive,
		   const uint8_t *response, size_t rlen);

#endif

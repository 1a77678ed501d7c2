/*
 * flow: hash table of TCP streams with an activity list.  See flow.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "tcp/flow.h"

_Static_assert(sizeof(flow_key) == 36, "flow_key must have no padding: it is hashed and compared as bytes");

#define MAX_EXT 8

struct ext_reg {
	size_t off;
	flow_fini_fn fini;
	void *user;
};

/* A slot keeps the flow's hash beside its pointer, so a probe that meets
 * another flow does not touch that flow's record (a cache miss). */
struct slot {
	uint32_t hash;
	flow *f;
};

struct flow_table {
	struct slot *slots;       /* open addressing, linear probing */
	size_t nslots;            /* a power of two, at least twice count */
	size_t count, peak;
	uint64_t created;
	uint64_t probes;          /* slots visited by lookups (flow_table_probes) */
	uint64_t id_first, id_step; /* flow ids: id_first + n * id_step */
	flow *oldest, *newest;
	flow *free_list;          /* recycled records (linked through hnext) */
	size_t records;           /* records allocated, live or free */
	size_t rec_size;
	struct ext_reg ext[MAX_EXT];
	int next_ext;
	size_t ext_size;
};

flow_table *flow_table_new(size_t expected_flows)
{
	flow_table *ft = calloc(1, sizeof *ft);
	if (!ft)
		return NULL;
	size_t n = 1024;
	while (n < 2 * expected_flows)
		n <<= 1;
	ft->slots = calloc(n, sizeof *ft->slots);
	if (!ft->slots) {
		free(ft);
		return NULL;
	}
	ft->nslots = n;
	ft->rec_size = sizeof(flow);
	flow_hash_init();
	ft->id_step = 1;
	return ft;
}

void flow_table_number(flow_table *ft, uint64_t first, uint64_t step)
{
	ft->id_first = first;
	ft->id_step = step ? step : 1;
}

int flow_table_add_ext(flow_table *ft, size_t size, flow_fini_fn fini, void *user)
{
	if (ft->created || ft->next_ext >= MAX_EXT)
		return -1;
	int id = ft->next_ext++;
	ft->ext[id].off = ft->ext_size;
	ft->ext[id].fini = fini;
	ft->ext[id].user = user;
	ft->ext_size += (size + 15) & ~(size_t)15;
	ft->rec_size = sizeof(flow) + ft->ext_size;
	return id;
}

void *flow_ext(const flow_table *ft, flow *f, int id)
{
	return f->ext + ft->ext[id].off;
}

size_t flow_table_ext_offset(const flow_table *ft, int id)
{
	return ft->ext[id].off;
}

/* An address's two halves as numbers that order as memcmp() orders the
 * bytes. */
static inline uint64_t addr_half(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
	w = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
	    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | p[7];
#endif
	return w;
}

void flow_key_make(flow_key *k, const flow_ep *a, const flow_ep *b, bool *a_is_lo)
{
	uint64_t a0 = addr_half(a->addr), b0 = addr_half(b->addr);
	uint64_t a1 = addr_half(a->addr + 8), b1 = addr_half(b->addr + 8);
	int c = a0 != b0 ? (a0 < b0 ? -1 : 1) : a1 != b1 ? (a1 < b1 ? -1 : 1) : 0;
	bool lo = c < 0 || (c == 0 && a->port <= b->port);
	if (lo) {
		k->lo = *a;
		k->hi = *b;
	} else {
		k->lo = *b;
		k->hi = *a;
	}
	if (a_is_lo)
		*a_is_lo = lo;
}

/* The key as five words, read field by field: a key just built is in
 * the store buffer as its fields were written, and a word read across
 * two of those stores cannot be forwarded from it (it would wait for
 * them to reach the cache). */
struct key_words {
	uint64_t w[5];
};

static inline struct key_words key_words(const flow_key *k)
{
	struct key_words kw;
	memcpy(&kw.w[0], k->lo.addr, 8);
	memcpy(&kw.w[1], k->lo.addr + 8, 8);
	memcpy(&kw.w[2], k->hi.addr, 8);
	memcpy(&kw.w[3], k->hi.addr + 8, 8);
	kw.w[4] = (uint64_t)k->lo.port << 16 | k->hi.port;
	return kw;
}

/* ---------------------------------------------------------------- seeded hash
 *
 * XXH3 under a secret drawn from getrandom() once per process: the slot a
 * flow lands in cannot be predicted from outside, so traffic crafted to
 * share one probe sequence (every insert and lookup walking all the
 * others) needs the secret first.  The key is canonical (flow_key_make),
 * so both directions of a stream hash alike. */
static unsigned char hash_secret[XXH3_SECRET_SIZE_MIN];
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

/* The fallback when getrandom() fails (an old kernel, a seccomp filter):
 * clock and pid through splitmix64, weaker than the kernel's bytes. */
static void hash_secret_weak(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	uint64_t x = (uint64_t)t.tv_nsec ^ (uint64_t)t.tv_sec << 30 ^ (uint64_t)getpid() << 48;
	for (size_t i = 0; i < sizeof hash_secret; i += 8) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
		z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ z >> 27) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(hash_secret + i, &z, sizeof hash_secret - i < 8 ? sizeof hash_secret - i : 8);
	}
}

static void hash_init(void)
{
	size_t got = 0;
	while (got < sizeof hash_secret) {
		ssize_t n = getrandom(hash_secret + got, sizeof hash_secret - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof hash_secret)
		hash_secret_weak();
}

void flow_hash_init(void)
{
	pthread_once(&hash_once, hash_init);
}

uint64_t flow_key_hash(const flow_key *k)
{
	return XXH3_64bits_withSecret(k, sizeof *k, hash_secret, sizeof hash_secret);
}

/* (key_hash) in parentheses: bench/bench_flow.c builds this file a second
 * time with key_hash() defined as a macro, the old unseeded hash, to
 * measure both in one run. */
static inline uint32_t (key_hash)(const flow_key *k)
{
	uint64_t h = flow_key_hash(k);
	return (uint32_t)(h ^ h >> 32);
}

static bool key_eq(const flow_key *a, const flow_key *b)
{
	struct key_words x = key_words(a), y = key_words(b);
	return !((x.w[0] ^ y.w[0]) | (x.w[1] ^ y.w[1]) | (x.w[2] ^ y.w[2]) | (x.w[3] ^ y.w[3]) |
		 (x.w[4] ^ y.w[4]));
}

static void grow(flow_table *ft)
{
	size_t n = ft->nslots * 2, mask = n - 1;
	struct slot *b = calloc(n, sizeof *b);
	if (!b)
		return; /* keep working, with longer probes */
	for (size_t i = 0; i < ft->nslots; i++) {
		if (!ft->slots[i].f)
			continue;
		size_t j = ft->slots[i].hash & mask;
		while (b[j].f)
			j = (j + 1) & mask;
		b[j] = ft->slots[i];
	}
	free(ft->slots);
	ft->slots = b;
	ft->nslots = n;
}

static void list_unlink(flow_table *ft, flow *f)
{
	if (f->older)
		f->older->newer = f->newer;
	else
		ft->oldest = f->newer;
	if (f->newer)
		f->newer->older = f->older;
	else
		ft->newest = f->older;
	f->older = f->newer = NULL;
}

static void list_push_newest(flow_table *ft, flow *f)
{
	f->older = ft->newest;
	f->newer = NULL;
	if (ft->newest)
		ft->newest->newer = f;
	else
		ft->oldest = f;
	ft->newest = f;
}

flow *flow_table_get(flow_table *ft, const flow_key *k, bool create, double ts, bool *created)
{
	uint32_t h = key_hash(k);
	size_t mask = ft->nslots - 1, i = h & mask;
	if (created)
		*created = false;
	for (; ft->slots[i].f; i = (i + 1) & mask) {
		ft->probes++;
		if (ft->slots[i].hash == h && key_eq(&ft->slots[i].f->key, k))
			return ft->slots[i].f;
	}
	if (!create)
		return NULL;
	if (2 * (ft->count + 1) > ft->nslots && ft->count + 1 < ft->nslots) {
		grow(ft);
		mask = ft->nslots - 1;
		for (i = h & mask; ft->slots[i].f; i = (i + 1) & mask)
			;
	}
	if (ft->count + 1 >= ft->nslots)
		return NULL; /* full and could not grow */

	flow *f = ft->free_list;
	if (f) {
		ft->free_list = f->hnext;
	} else {
		f = malloc(ft->rec_size);
		if (!f)
			return NULL;
		ft->records++;
	}
	memset(f, 0, ft->rec_size);
	f->key = *k;
	f->hash = h;
	f->id = ft->id_first + ft->created++ * ft->id_step;
	f->first_ts = f->last_ts = ts;
	ft->slots[i].hash = h;
	ft->slots[i].f = f;
	list_push_newest(ft, f);
	if (++ft->count > ft->peak)
		ft->peak = ft->count;
	if (created)
		*created = true;
	return f;
}

void flow_touch(flow_table *ft, flow *f, double ts)
{
	if (ts > f->last_ts)
		f->last_ts = ts;
	if (ft->newest != f) {
		list_unlink(ft, f);
		list_push_newest(ft, f);
	}
}

void flow_table_remove(flow_table *ft, flow *f)
{
	for (int e = 0; e < ft->next_ext; e++)
		if (ft->ext[e].fini)
			ft->ext[e].fini(f, f->ext + ft->ext[e].off, ft->ext[e].user);
	/* Backward-shift deletion keeps every probe sequence unbroken. */
	size_t mask = ft->nslots - 1, j = f->hash & mask;
	while (ft->slots[j].f && ft->slots[j].f != f)
		j = (j + 1) & mask;
	if (ft->slots[j].f) {
		ft->slots[j].f = NULL;
		for (size_t i = (j + 1) & mask; ft->slots[i].f; i = (i + 1) & mask) {
			size_t home = ft->slots[i].hash & mask;
			/* The entry may stay if its home is cyclically in (j, i]. */
			bool stays = j < i ? (home > j && home <= i) : (home > j || home <= i);
			if (stays)
				continue;
			ft->slots[j] = ft->slots[i];
			ft->slots[i].f = NULL;
			j = i;
		}
	}
	list_unlink(ft, f);
	ft->count--;
	f->hnext = ft->free_list;
	ft->free_list = f;
}

flow *flow_table_oldest(const flow_table *ft)
{
	return ft->oldest;
}

size_t flow_table_count(const flow_table *ft) { return ft->count; }
uint64_t flow_table_created(const flow_table *ft) { return ft->created; }
size_t flow_table_peak(const flow_table *ft) { return ft->peak; }
uint64_t flow_table_probes(const flow_table *ft) { return ft->probes; }

size_t flow_table_mem(const flow_table *ft)
{
	return ft->nslots * sizeof(struct slot) + ft->records * ft->rec_size;
}

void flow_table_free(flow_table *ft)
{
	if (!ft)
		return;
	while (ft->oldest)
		flow_table_remove(ft, ft->oldest);
	flow *f = ft->free_list, *n;
	for (; f; f = n) {
		n = f->hnext;
		free(f);
	}
	free(ft->slots);
	free(ft);
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

size_t flow_ep_format(const flow_ep *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;
	if (!memcmp(e->addr, v4mapped, 12)) {
		inet_ntop(AF_INET, e->addr + 12, a, sizeof a);
		n = snprintf(buf, len, "%s:%u", a, e->port);
	} else {
		inet_ntop(AF_INET6, e->addr, a, sizeof a);
		n = snprintf(buf, len, "[%s]:%u", a, e->port);
	}
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

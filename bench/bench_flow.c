/*
 * The flow table's rate, seeded hash (XXH3 under a per-process secret)
 * against the unseeded multiply-xorshift it replaced, in one run: this
 * file builds tcp/flow.c a second time, renamed, with the old hash.
 *
 *   bench_flow [FLOWS...]    default 1000 100000 1000000
 *
 * For each size: N creates (a key made with flow_key_make from two
 * endpoints, as the analyzer does per segment), then 8 N lookups of live
 * flows in a scrambled order, then N removes; each phase's rate in
 * millions per second, the best of 5 rounds, the two hashes alternating.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the table with the old hash, every public name prefixed old_ */
#define flow_table_new old_flow_table_new
#define flow_table_free old_flow_table_free
#define flow_table_number old_flow_table_number
#define flow_table_add_ext old_flow_table_add_ext
#define flow_ext old_flow_ext
#define flow_table_ext_offset old_flow_table_ext_offset
#define flow_key_make old_flow_key_make
#define flow_hash_init old_flow_hash_init
#define flow_key_hash old_flow_key_hash
#define flow_table_get old_flow_table_get
#define flow_touch old_flow_touch
#define flow_table_remove old_flow_table_remove
#define flow_table_oldest old_flow_table_oldest
#define flow_table_count old_flow_table_count
#define flow_table_created old_flow_table_created
#define flow_table_peak old_flow_table_peak
#define flow_table_probes old_flow_table_probes
#define flow_table_mem old_flow_table_mem
#define flow_ep_format old_flow_ep_format
#include "tcp/flow.h"
static uint32_t old_key_hash(const flow_key *k);
#define key_hash(k) old_key_hash(k)
#include "tcp/flow.c"
#undef key_hash

/* The hash as it was: multiply-xorshift over the key's words. */
static uint32_t old_key_hash(const flow_key *k)
{
	struct key_words kw = key_words(k);
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 4; i++) {
		h = (h ^ kw.w[i]) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
	}
	h = (h ^ kw.w[4]) * 0x94d049bb133111ebULL;
	h ^= h >> 32;
	return (uint32_t)h;
}

#undef flow_table_new
#undef flow_table_free
#undef flow_key_make
#undef flow_table_get
#undef flow_table_remove

/* ---- the table as built (libjmsg.a), seeded hash */
flow_table *flow_table_new(size_t expected_flows);
void flow_table_free(flow_table *ft);
void flow_key_make(flow_key *k, const flow_ep *a, const flow_ep *b, bool *a_is_lo);
flow *flow_table_get(flow_table *ft, const flow_key *k, bool create, double ts, bool *created);
void flow_table_remove(flow_table *ft, flow *f);

struct impl {
	const char *name;
	flow_table *(*new_)(size_t);
	void (*free_)(flow_table *);
	void (*make)(flow_key *, const flow_ep *, const flow_ep *, bool *);
	flow *(*get)(flow_table *, const flow_key *, bool, double, bool *);
	void (*remove)(flow_table *, flow *);
};

static const struct impl impls[2] = {
	{"old (unseeded)", old_flow_table_new, old_flow_table_free, old_flow_key_make, old_flow_table_get,
	 old_flow_table_remove},
	{"seeded XXH3", flow_table_new, flow_table_free, flow_key_make, flow_table_get, flow_table_remove},
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Client i: 10.x.y.z:port talking to one of 16 servers on port 80, as a
 * capture of many clients looks. */
static void endpoints(uint32_t i, flow_ep *c, flow_ep *s)
{
	memset(c, 0, sizeof *c);
	memset(s, 0, sizeof *s);
	c->addr[10] = c->addr[11] = s->addr[10] = s->addr[11] = 0xff;
	uint32_t ip = 0x0a000000 | (i >> 6);
	c->addr[12] = (uint8_t)(ip >> 24), c->addr[13] = (uint8_t)(ip >> 16);
	c->addr[14] = (uint8_t)(ip >> 8), c->addr[15] = (uint8_t)ip;
	c->port = (uint16_t)(32768 + (i & 63) * 7);
	s->addr[12] = 192, s->addr[13] = 168, s->addr[14] = 1, s->addr[15] = (uint8_t)(i & 15);
	s->port = 80;
}

struct rates {
	double create, lookup, remove;
};

static struct rates round_(const struct impl *m, uint32_t n, const uint32_t *order, flow **fl)
{
	struct rates r;
	flow_table *ft = m->new_(0);
	flow_ep c, s;
	flow_key k;
	double t0 = now();
	for (uint32_t i = 0; i < n; i++) {
		endpoints(i, &c, &s);
		m->make(&k, &c, &s, NULL);
		fl[i] = m->get(ft, &k, true, 0, NULL);
	}
	double t1 = now();
	uintptr_t sink = 0;
	for (uint32_t j = 0; j < 8 * n; j++) {
		endpoints(order[j], &s, &c); /* either direction */
		m->make(&k, &c, &s, NULL);
		sink += (uintptr_t)m->get(ft, &k, false, 0, NULL);
	}
	double t2 = now();
	for (uint32_t i = 0; i < n; i++)
		m->remove(ft, fl[i]); /* oldest first, as expiry removes */
	double t3 = now();
	m->free_(ft);
	if (sink == 1)
		puts("");
	r.create = n / (t1 - t0) / 1e6;
	r.lookup = 8.0 * n / (t2 - t1) / 1e6;
	r.remove = n / (t3 - t2) / 1e6;
	return r;
}

static void bench(uint32_t n)
{
	uint32_t *order = malloc(8 * (size_t)n * sizeof *order);
	flow **fl = malloc(n * sizeof *fl);
	if (!order || !fl)
		exit(1);
	uint64_t x = 88172645463325252ULL;
	for (size_t j = 0; j < 8 * (size_t)n; j++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		order[j] = (uint32_t)(x % n);
	}
	struct rates best[2] = {{0, 0, 0}, {0, 0, 0}};
	for (int round = 0; round < 5; round++)
		for (int m = 0; m < 2; m++) {
			struct rates r = round_(&impls[m], n, order, fl);
			best[m].create = r.create > best[m].create ? r.create : best[m].create;
			best[m].lookup = r.lookup > best[m].lookup ? r.lookup : best[m].lookup;
			best[m].remove = r.remove > best[m].remove ? r.remove : best[m].remove;
		}
	for (int m = 0; m < 2; m++)
		printf("%8u flows  %-15s create %7.2f M/s  lookup %7.2f M/s  remove %7.2f M/s\n", n,
		       impls[m].name, best[m].create, best[m].lookup, best[m].remove);
	printf("%8u flows  seeded/old      create %6.1f %%     lookup %6.1f %%     remove %6.1f %%\n", n,
	       100 * best[1].create / best[0].create, 100 * best[1].lookup / best[0].lookup,
	       100 * best[1].remove / best[0].remove);
	free(order);
	free(fl);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		bench(1000);
		bench(100000);
		bench(1000000);
	}
	for (int i = 1; i < argc; i++)
		bench((uint32_t)strtoul(argv[i], NULL, 10));
	return 0;
}

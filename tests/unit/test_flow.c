/*
 * Unit tests of tcp/flow: canonical keys, lookups across growth,
 * extensions (zeroed, finalized in order), the activity list, recycling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/flow.h"

static flow_ep ep4(uint32_t ip, uint16_t port)
{
	flow_ep e;
	memset(&e, 0, sizeof e);
	e.addr[10] = e.addr[11] = 0xff;
	e.addr[12] = (uint8_t)(ip >> 24);
	e.addr[13] = (uint8_t)(ip >> 16);
	e.addr[14] = (uint8_t)(ip >> 8);
	e.addr[15] = (uint8_t)ip;
	e.port = port;
	return e;
}

static void test_key_is_canonical(void **state)
{
	flow_ep a = ep4(0x0a000001, 40000), b = ep4(0x0a000002, 65432);
	flow_key k1, k2;
	bool a_lo, b_lo;
	flow_key_make(&k1, &a, &b, &a_lo);
	flow_key_make(&k2, &b, &a, &b_lo);
	assert_memory_equal(&k1, &k2, sizeof k1);
	assert_true(a_lo != b_lo);
	/* Same address, ports decide. */
	flow_ep c = ep4(0x7f000001, 5), d = ep4(0x7f000001, 4);
	flow_key_make(&k1, &c, &d, &a_lo);
	assert_false(a_lo);
	assert_int_equal(k1.lo.port, 4);
}

/* The lower endpoint is the one whose address bytes compare lower
 * (memcmp), then the lower port: for addresses that differ in any byte,
 * IPv6 and IPv4-mapped alike. */
static void test_key_order_is_bytewise(void **state)
{
	uint32_t x = 7;
	for (int i = 0; i < 20000; i++) {
		flow_ep a, b;
		memset(&a, 0, sizeof a);
		memset(&b, 0, sizeof b);
		for (int k = 0; k < 16; k++) {
			x = x * 1103515245u + 12345u;
			a.addr[k] = (uint8_t)(x >> 16);
			/* mostly equal bytes, so the first difference falls anywhere */
			b.addr[k] = (x >> 28) < 3 ? (uint8_t)(x >> 8) : a.addr[k];
		}
		x = x * 1103515245u + 12345u;
		a.port = (uint16_t)(x >> 4);
		b.port = (x >> 30) ? (uint16_t)(x >> 12) : a.port;
		int c = memcmp(a.addr, b.addr, 16);
		bool want = c < 0 || (c == 0 && a.port <= b.port), a_lo;
		flow_key k;
		flow_key_make(&k, &a, &b, &a_lo);
		if (a_lo != want)
			fail_msg("case %d: a_is_lo %d, memcmp %d, ports %u %u", i, a_lo, c, a.port, b.port);
		assert_memory_equal(&k.lo, want ? &a : &b, sizeof a);
		assert_memory_equal(&k.hi, want ? &b : &a, sizeof a);
	}
}

struct ext_a { int x; int fini_order; };
struct ext_b { char s[40]; };
static int fini_calls;

static void fini_a(flow *f, void *ext, void *user)
{
	struct ext_a *a = ext;
	a->fini_order = ++fini_calls;
	(*(int *)user)++;
}

static void fini_b(flow *f, void *ext, void *user)
{
	++fini_calls;
	(*(int *)user) += 10;
}

static void test_many_flows_and_extensions(void **state)
{
	flow_table *ft = flow_table_new(16);
	assert_non_null(ft);
	int ca = 0, cb = 0;
	int ia = flow_table_add_ext(ft, sizeof(struct ext_a), fini_a, &ca);
	int ib = flow_table_add_ext(ft, sizeof(struct ext_b), fini_b, &cb);
	assert_true(ia >= 0 && ib >= 0 && ia != ib);

	enum { N = 50000 };
	for (uint32_t i = 0; i < N; i++) {
		flow_ep a = ep4(0x0a000000 + i / 1000, (uint16_t)(30000 + i % 1000));
		flow_ep b = ep4(0x0a800001, 65432);
		flow_key k;
		flow_key_make(&k, &a, &b, NULL);
		bool created;
		flow *f = flow_table_get(ft, &k, true, (double)i, &created);
		assert_non_null(f);
		assert_true(created);
		assert_int_equal(f->id, i);
		struct ext_a *x = flow_ext(ft, f, ia);
		struct ext_b *y = flow_ext(ft, f, ib);
		assert_int_equal(x->x, 0);
		assert_int_equal(y->s[0], 0);
		x->x = (int)i;
		memset(y->s, 'z', sizeof y->s);
	}
	/* Extensions cannot be added once flows exist. */
	assert_int_equal(flow_table_add_ext(ft, 8, NULL, NULL), -1);
	assert_int_equal(flow_table_count(ft), N);
	/* Every flow is found again, from either side, across table growth. */
	for (uint32_t i = 0; i < N; i += 7) {
		flow_ep a = ep4(0x0a000000 + i / 1000, (uint16_t)(30000 + i % 1000));
		flow_ep b = ep4(0x0a800001, 65432);
		flow_key k;
		flow_key_make(&k, &b, &a, NULL);
		bool created;
		flow *f = flow_table_get(ft, &k, false, 0, &created);
		assert_non_null(f);
		assert_false(created);
		assert_int_equal(((struct ext_a *)flow_ext(ft, f, ia))->x, (int)i);
	}
	/* Removing runs every fini, in registration order. */
	flow *old = flow_table_oldest(ft);
	assert_int_equal(old->id, 0);
	fini_calls = 0;
	struct ext_a *x = flow_ext(ft, old, ia);
	flow_table_remove(ft, old);
	assert_int_equal(x->fini_order, 1);
	assert_int_equal(fini_calls, 2);
	assert_int_equal(ca, 1);
	assert_int_equal(cb, 10);
	assert_int_equal(flow_table_count(ft), N - 1);
	assert_int_equal(flow_table_peak(ft), N);
	/* A recycled record comes back zeroed. */
	flow_ep a = ep4(0x01020304, 1), b = ep4(0x01020305, 2);
	flow_key k;
	flow_key_make(&k, &a, &b, NULL);
	flow *f = flow_table_get(ft, &k, true, 0, NULL);
	assert_ptr_equal(f, old);
	assert_int_equal(((struct ext_a *)flow_ext(ft, f, ia))->x, 0);
	assert_int_equal(f->id, N);
	flow_table_free(ft);
	assert_int_equal(ca, N + 1);
}

/* Random creates and removes against a reference set: after every step
 * each live flow is found and each removed one is not (this is what keeps
 * the open-addressing deletion honest). */
static void test_random_churn(void **state)
{
	enum { KEYS = 3000, STEPS = 20000 };
	flow_table *ft = flow_table_new(0);
	flow *live[KEYS] = {0};
	unsigned seed = 7;
	for (int step = 0; step < STEPS; step++) {
		int k = rand_r(&seed) % KEYS;
		/* few distinct addresses: many keys share hash bits and probe runs */
		flow_ep a = ep4(0x0a000001 + (uint32_t)(k % 3), (uint16_t)(k / 3)), b = ep4(0x0a000009, 80);
		flow_key key;
		flow_key_make(&key, &a, &b, NULL);
		if (live[k]) {
			assert_ptr_equal(flow_table_get(ft, &key, false, 0, NULL), live[k]);
			flow_table_remove(ft, live[k]);
			live[k] = NULL;
			assert_null(flow_table_get(ft, &key, false, 0, NULL));
		} else {
			live[k] = flow_table_get(ft, &key, true, 0, NULL);
			assert_non_null(live[k]);
		}
		if (step % 1000 == 999) {
			size_t n = 0;
			for (int j = 0; j < KEYS; j++) {
				flow_ep c = ep4(0x0a000001 + (uint32_t)(j % 3), (uint16_t)(j / 3));
				flow_key kj;
				flow_key_make(&kj, &c, &b, NULL);
				assert_ptr_equal(flow_table_get(ft, &kj, false, 0, NULL), live[j]);
				n += live[j] != NULL;
			}
			assert_int_equal(flow_table_count(ft), n);
		}
	}
	flow_table_free(ft);
}

static void test_activity_order(void **state)
{
	flow_table *ft = flow_table_new(0);
	flow *f[3];
	for (int i = 0; i < 3; i++) {
		flow_ep a = ep4(0x0a000001, (uint16_t)(1000 + i)), b = ep4(0x0a000002, 80);
		flow_key k;
		flow_key_make(&k, &a, &b, NULL);
		f[i] = flow_table_get(ft, &k, true, i, NULL);
	}
	assert_ptr_equal(flow_table_oldest(ft), f[0]);
	flow_touch(ft, f[0], 10);
	assert_ptr_equal(flow_table_oldest(ft), f[1]);
	assert_ptr_equal(flow_newer(f[1]), f[2]);
	assert_ptr_equal(flow_newer(f[2]), f[0]);
	assert_null(flow_newer(f[0]));
	assert_true(f[0]->last_ts == 10);
	flow_table_remove(ft, f[2]);
	assert_ptr_equal(flow_newer(f[1]), f[0]);
	flow_table_free(ft);
}

static void test_format(void **state)
{
	char b[80];
	flow_ep a = ep4(0x7f000001, 65432);
	flow_ep_format(&a, b, sizeof b);
	assert_string_equal(b, "127.0.0.1:65432");
	flow_ep v6;
	memset(&v6, 0, sizeof v6);
	v6.addr[0] = 0x20;
	v6.addr[1] = 0x01;
	v6.addr[2] = 0x0d;
	v6.addr[3] = 0xb8;
	v6.addr[15] = 1;
	v6.port = 80;
	flow_ep_format(&v6, b, sizeof b);
	assert_string_equal(b, "[2001:db8::1]:80");
}

static void test_counters(void **state)
{
	/* created counts every flow ever made; records are recycled, so
	 * memory grows only with the peak number of flows. */
	flow_table *ft = flow_table_new(0);
	size_t empty = flow_table_mem(ft);
	flow *f[4];
	for (int i = 0; i < 3; i++) {
		flow_ep a = ep4(0x0a000001, (uint16_t)(1000 + i)), b = ep4(0x0a000002, 80);
		flow_key k;
		flow_key_make(&k, &a, &b, NULL);
		f[i] = flow_table_get(ft, &k, true, i, NULL);
	}
	size_t three = flow_table_mem(ft);
	assert_int_equal(three - empty, 3 * sizeof(flow));
	flow_table_remove(ft, f[1]);
	flow_ep a = ep4(0x0a000001, 2000), b = ep4(0x0a000002, 80);
	flow_key k;
	flow_key_make(&k, &a, &b, NULL);
	bool created = false;
	f[3] = flow_table_get(ft, &k, true, 5, &created);
	assert_true(created);
	assert_ptr_equal(f[3], f[1]);             /* the freed record, reused */
	assert_int_equal(flow_table_mem(ft), three);
	assert_int_equal(flow_table_created(ft), 4);
	assert_int_equal(flow_table_count(ft), 3);
	assert_int_equal(flow_table_peak(ft), 3);
	flow_table_free(ft);
	flow_table_free(NULL);

	/* A buffer too small: cut, and the length says so. */
	char buf[8];
	flow_ep e = ep4(0x7f000001, 65432);
	assert_int_equal(flow_ep_format(&e, buf, sizeof buf), 7);
	assert_string_equal(buf, "127.0.0");
}

/* The table's hash before it was seeded (multiply-xorshift over the key's
 * words, tcp/flow.c until the secret came): anyone could compute it, and
 * invert it.  Kept here to craft keys that all share one hash under it. */
static uint64_t old_words_hash(const uint64_t w[5])
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 4; i++) {
		h = (h ^ w[i]) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
	}
	h = (h ^ w[4]) * 0x94d049bb133111ebULL;
	h ^= h >> 32;
	return h;
}

static void key_to_words(const flow_key *k, uint64_t w[5])
{
	memcpy(&w[0], k->lo.addr, 8);
	memcpy(&w[1], k->lo.addr + 8, 8);
	memcpy(&w[2], k->hi.addr, 8);
	memcpy(&w[3], k->hi.addr + 8, 8);
	w[4] = (uint64_t)k->lo.port << 16 | k->hi.port;
}

static uint64_t unxorshift(uint64_t y, int s)
{
	uint64_t x = y;
	for (int i = 0; i < 64 / s + 1; i++)
		x = y ^ x >> s;
	return x;
}

static uint64_t mul_inverse(uint64_t c)
{
	uint64_t v = c;
	for (int i = 0; i < 6; i++)
		v *= 2 - c * v;
	return v;
}

/* Key number i of a family whose old hash is the same 64-bit value: lo is
 * 2001:db8::<i>, hi is 3001:db8:<w3>, where w3 (the last 8 bytes of hi)
 * undoes the last rounds of the old hash. */
static flow_key crafted_key(uint64_t i)
{
	flow_key k;
	memset(&k, 0, sizeof k);
	k.lo.addr[0] = 0x20, k.lo.addr[1] = 0x01, k.lo.addr[2] = 0x0d, k.lo.addr[3] = 0xb8;
	memcpy(k.lo.addr + 8, &i, 8);
	k.hi.addr[0] = 0x30, k.hi.addr[1] = 0x01, k.hi.addr[2] = 0x0d, k.hi.addr[3] = 0xb8;
	k.lo.port = 40000;
	k.hi.port = 80;
	uint64_t w[5];
	key_to_words(&k, w);
	uint64_t h = 0x9e3779b97f4a7c15ULL; /* the old hash over w0..w2 */
	for (int j = 0; j < 3; j++) {
		h = (h ^ w[j]) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
	}
	const uint64_t target = 0x0123456789abcdefULL;
	uint64_t h3 = unxorshift(target, 32) * mul_inverse(0x94d049bb133111ebULL) ^ w[4];
	uint64_t w3 = unxorshift(h3, 29) * mul_inverse(0xbf58476d1ce4e5b9ULL) ^ h;
	memcpy(k.hi.addr + 8, &w3, 8);
	return k;
}

/* Flows crafted so that every one had the same hash before the table was
 * seeded: then each insert and lookup walked every earlier flow's slot
 * (N * N / 2 probes a pass).  Now the lookups stay near one probe each. */
static void test_crafted_collisions_stay_fast(void **state)
{
	enum { N = 4000 };
	uint64_t w[5], first = 0;
	flow_table *ft = flow_table_new(0);
	for (uint64_t i = 0; i < N; i++) {
		flow_key k = crafted_key(i), made;
		flow_key_make(&made, &k.hi, &k.lo, NULL); /* canonical as crafted */
		assert_memory_equal(&made, &k, sizeof k);
		key_to_words(&k, w);
		uint64_t old = old_words_hash(w);
		if (i == 0)
			first = old;
		assert_true(old == first); /* the family collides under the old hash */
		assert_non_null(flow_table_get(ft, &k, true, 0, NULL));
	}
	for (uint64_t i = 0; i < N; i++) {
		flow_key k = crafted_key(i), back;
		flow *f = flow_table_get(ft, &k, false, 0, NULL);
		assert_non_null(f);
		flow_key_make(&back, &k.hi, &k.lo, NULL); /* the other direction */
		assert_ptr_equal(flow_table_get(ft, &back, false, 0, NULL), f);
	}
	/* 3 N lookups (create, and both directions); with a well spread hash
	 * and the table at most half full, a lookup meets ~1.5 slots on
	 * average.  Under the old hash it was ~N / 2 = 2000. */
	uint64_t probes = flow_table_probes(ft);
	if (probes > 4 * 3 * (uint64_t)N)
		fail_msg("%llu probes for %d lookups", (unsigned long long)probes, 3 * N);
	assert_int_equal(flow_table_count(ft), N);
	flow_table_free(ft);
}

/* Two tables in one process hash alike (one secret per process), and a
 * key hashes the same from either direction. */
static void test_hash_is_per_process_and_symmetric(void **state)
{
	flow_ep a = ep4(0x0a000001, 40000), b = ep4(0x0a000002, 80);
	flow_key k1, k2;
	flow_key_make(&k1, &a, &b, NULL);
	flow_key_make(&k2, &b, &a, NULL);
	flow_hash_init();
	assert_true(flow_key_hash(&k1) == flow_key_hash(&k2));
	flow_key k3 = k1;
	k3.hi.port = 81;
	assert_true(flow_key_hash(&k1) != flow_key_hash(&k3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_is_canonical),
		cmocka_unit_test(test_key_order_is_bytewise),
		cmocka_unit_test(test_many_flows_and_extensions),
		cmocka_unit_test(test_random_churn),
		cmocka_unit_test(test_activity_order),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_crafted_collisions_stay_fast),
		cmocka_unit_test(test_hash_is_per_process_and_symmetric),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

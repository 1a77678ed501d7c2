/*
 * Unit tests of the pieces of jmsg analyze --workers: the SPSC ring
 * (analyzer/ring.h) alone and between two threads, the ordered merge of
 * chunk queues (analyzer/merge.h), the worker choice (symmetric, in range,
 * spread) and flow numbering with a stride (flow.h).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/flow.h"
#include "analyzer/merge.h"
#include "analyzer/ring.h"
#include "analyzer/workers.h"

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Record i: its number, its length, then bytes derived from both. */
static size_t rec_len(uint64_t i, size_t max)
{
	uint64_t s = i * 0x9e3779b97f4a7c15ull + 1;
	size_t n = (size_t)(rng(&s) % max);
	return n < 16 ? 16 : n;
}

static void rec_fill(uint8_t *p, uint64_t i, size_t n)
{
	memcpy(p, &i, 8);
	memcpy(p + 8, &n, 8);
	for (size_t j = 16; j < n; j++)
		p[j] = (uint8_t)(i * 31 + j);
}

static int rec_check(const uint8_t *p, uint64_t i, size_t n)
{
	uint64_t gi;
	size_t gn;
	memcpy(&gi, p, 8);
	memcpy(&gn, p + 8, 8);
	if (gi != i || gn != n)
		return -1;
	for (size_t j = 16; j < n; j++)
		if (p[j] != (uint8_t)(i * 31 + j))
			return -1;
	return 0;
}

static void test_ring_one_thread(void **state)
{
	ring r;
	assert_int_equal(ring_init(&r, 100000), 0);
	assert_int_equal(r.cap, 131072);
	assert_int_equal(ring_max_record(&r), 131072 / 4 - 8);
	assert_null(ring_try_reserve(&r, ring_max_record(&r) + 1));
	size_t size;
	assert_null(ring_peek(&r, &size));
	/* Fill until full, drain, many times over: every record comes back
	 * whole and in order, across the wrap. */
	uint64_t next_w = 0, next_r = 0;
	for (int round = 0; round < 50; round++) {
		uint8_t *p;
		size_t n;
		while (n = rec_len(next_w, 9000), (p = ring_try_reserve(&r, n))) {
			rec_fill(p, next_w, n);
			ring_commit(&r);
			next_w++;
		}
		/* Full: what is free is less than the next record needs.  The
		 * consumer sees records once they are published: past
		 * RING_PUBLISH bytes, or at a flush. */
		assert_true(next_w > next_r + 10);
		ring_flush(&r);
		size_t keep = round % 3; /* leave some behind sometimes */
		while (next_r + keep < next_w) {
			uint8_t *q = ring_peek(&r, &size);
			assert_non_null(q);
			assert_true(size >= rec_len(next_r, 9000) && size < rec_len(next_r, 9000) + 8);
			assert_int_equal(rec_check(q, next_r, rec_len(next_r, 9000)), 0);
			ring_release(&r);
			next_r++;
		}
	}
	ring_free(&r);
}

struct pc {
	ring r;
	uint64_t count;
	int bad;
};

static void *consumer(void *arg)
{
	struct pc *pc = arg;
	for (uint64_t i = 0; i < pc->count; i++) {
		size_t size;
		uint8_t *q = ring_wait(&pc->r, &size);
		if (rec_check(q, i, rec_len(i, 3000)))
			pc->bad++;
		ring_release(&pc->r);
	}
	return NULL;
}

/* Producer and consumer on two threads, a small ring: both sides wait
 * (full, empty) many times; nothing is lost, reordered or torn. */
static void test_ring_two_threads(void **state)
{
	struct pc pc = {.count = 300000};
	assert_int_equal(ring_init(&pc.r, RING_MIN), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, consumer, &pc), 0);
	uint64_t s = 7;
	for (uint64_t i = 0; i < pc.count; i++) {
		size_t n = rec_len(i, 3000);
		uint8_t *p = ring_reserve(&pc.r, n);
		assert_non_null(p);
		rec_fill(p, i, n);
		ring_commit(&pc.r);
		/* Now and then a pause, so the consumer finds it empty and
		 * sleeps; flush so it is not left asleep on a short batch. */
		if (rng(&s) % 5000 == 0) {
			ring_flush(&pc.r);
			nanosleep(&(struct timespec){0, 200000}, NULL);
		}
	}
	ring_flush(&pc.r);
	pthread_join(th, NULL);
	assert_int_equal(pc.bad, 0);
	ring_free(&pc.r);
}

static merge_chunk *mk(uint64_t seq, uint64_t sub, const char *text, int delta, int rise)
{
	merge_chunk *c = merge_chunk_new(seq, sub, 1);
	assert_non_null(c);
	assert_int_equal(merge_chunk_append(&c, text, strlen(text)), 0);
	c->delta = delta;
	c->rise = rise;
	return c;
}

static void test_merge_order(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	merger m;
	assert_int_equal(merger_init(&m, 3, out), 0);
	/* seq 1 and 4 on source 0, 2 on source 1, 3 on source 2 (the
	 * reader's own), then a record all share (seq 5), ordered by sub
	 * and, on equal sub, by source. */
	merge_push(&m.q[0], mk(1, 0, "a1 ", 1, 1));
	merge_push(&m.q[1], mk(2, 0, "b2 ", 1, 1));
	merge_push(&m.q[2], mk(3, 0, "d3 ", 0, 0));
	merge_push(&m.q[0], mk(4, 0, "a4 ", 1, 1));
	merge_push(&m.q[0], mk(5, 2, "a5.2 ", -1, 0));
	merge_push(&m.q[0], mk(5, 4, "a5.4 ", -1, 0));
	merge_push(&m.q[1], mk(5, 1, "b5.1 ", 0, 0));
	merge_push(&m.q[1], mk(5, 3, "b5.3 ", -1, 0));
	merge_push(&m.q[0], mk(6, 0, "a6 ", 2, 2));
	merger_emit(&m, 3); /* seq 1 and 2 only */
	fflush(out);
	assert_string_equal(buf, "a1 b2 ");
	assert_int_equal(m.open, 2);
	assert_int_equal(m.peak, 2);
	merger_emit(&m, 3); /* nothing new */
	merger_emit(&m, 6);
	fflush(out);
	assert_string_equal(buf, "a1 b2 d3 a4 b5.1 a5.2 b5.3 a5.4 ");
	assert_int_equal(m.open, 0);
	assert_int_equal(m.peak, 3);
	merger_emit(&m, UINT64_MAX);
	fflush(out);
	assert_string_equal(buf, "a1 b2 d3 a4 b5.1 a5.2 b5.3 a5.4 a6 ");
	assert_int_equal(m.peak, 3);
	/* A rise inside a chunk counts even if the chunk ends lower. */
	merge_push(&m.q[2], mk(7, 0, "", -1, 2));
	merger_emit(&m, UINT64_MAX);
	assert_int_equal(m.peak, 4);
	assert_int_equal(m.open, 1);
	/* Chunks left queued are freed with the merger. */
	merge_push(&m.q[1], mk(9, 0, "left", 0, 0));
	merger_free(&m);
	fclose(out);
	free(buf);
}

static flow_ep ep4(uint32_t ip, uint16_t port)
{
	flow_ep e;
	memset(&e, 0, sizeof e);
	e.addr[10] = e.addr[11] = 0xff;
	memcpy(e.addr + 12, &ip, 4);
	e.port = port;
	return e;
}

static void test_pick(void **state)
{
	for (unsigned n = 1; n <= WK_MAX; n++) {
		unsigned hits[WK_MAX] = {0};
		for (uint32_t i = 0; i < 4000; i++) {
			flow_ep a = ep4(0x0100007f, (uint16_t)(30000 + i)), b = ep4(0x0200007f, 65432);
			unsigned w = wk_pick(&a, &b, n);
			assert_true(w < n);
			assert_int_equal(wk_pick(&b, &a, n), w);
			hits[w]++;
		}
		/* Spread: no worker gets less than half its share. */
		for (unsigned w = 0; w < n; w++)
			assert_true(hits[w] * n * 2 >= 4000);
	}
}

static void test_flow_numbering(void **state)
{
	flow_table *ft = flow_table_new(16);
	flow_table_number(ft, 2, 3);
	for (uint32_t i = 0; i < 5; i++) {
		flow_ep a = ep4(i, 1), b = ep4(i, 2);
		flow_key k;
		bool lo;
		flow_key_make(&k, &a, &b, &lo);
		flow *f = flow_table_get(ft, &k, true, 0, NULL);
		assert_non_null(f);
		assert_int_equal(f->id, 2 + 3 * i);
	}
	flow_table_free(ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_one_thread),
		cmocka_unit_test(test_ring_two_threads),
		cmocka_unit_test(test_merge_order),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_flow_numbering),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

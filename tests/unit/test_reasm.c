/*
 * Unit tests of tcp/reasm: each case pushes segments and compares the
 * callbacks, written as a log ("D0:abc" data, "G3+2L" gap lost/truncated/
 * memcap, "C4+1" conflict), with what TCP says must come out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/reasm.h"

struct rec {
	char log[4096];
	size_t len;
	uint8_t stream[1 << 16]; /* delivered bytes by offset, for property tests */
	uint8_t seen[1 << 16];
	uint64_t gap_bytes;
	int conflicts;
	uint64_t expect_next;
	int out_of_order; /* a callback that did not continue where the last ended */
};

static void logf_(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->log + r->len, sizeof r->log - r->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof r->log - r->len)
		r->len += (size_t)n;
}

static void check_order(struct rec *r, uint64_t off, uint64_t n)
{
	if (off != r->expect_next)
		r->out_of_order++;
	r->expect_next = off + n;
}

static void on_data(void *u, uint64_t off, const uint8_t *p, size_t n)
{
	struct rec *r = u;
	check_order(r, off, n);
	logf_(r, "D%llu:%.*s ", (unsigned long long)off, (int)n, (const char *)p);
	for (size_t i = 0; i < n && off + i < sizeof r->stream; i++) {
		r->stream[off + i] = p[i];
		r->seen[off + i]++;
	}
}

static void on_gap(void *u, uint64_t off, uint64_t n, reasm_gap_why why)
{
	struct rec *r = u;
	check_order(r, off, n);
	r->gap_bytes += n;
	logf_(r, "G%llu+%llu%c ", (unsigned long long)off, (unsigned long long)n,
	      why == REASM_GAP_LOST ? 'L' : why == REASM_GAP_TRUNCATED ? 'T' : 'M');
}

static void on_conflict(void *u, uint64_t off, size_t n)
{
	struct rec *r = u;
	r->conflicts++;
	logf_(r, "C%llu+%zu ", (unsigned long long)off, n);
}

static const reasm_ops ops = {on_data, on_gap, on_conflict};

struct fixture {
	struct rec rec;
	reasm r;
	reasm_mem mem;
};

static struct fixture *fx_new(uint32_t isn, size_t cap, uint32_t hist)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	reasm_init(&f->r, &ops, &f->rec, &f->mem, cap, hist);
	reasm_start(&f->r, isn);
	return f;
}

static void fx_free(struct fixture *f)
{
	reasm_free(&f->r);
	assert_int_equal(f->mem.used, 0);
	reasm_mem_release(&f->mem);
	assert_int_equal(f->rec.out_of_order, 0);
	free(f);
}

static void push(struct fixture *f, uint32_t seq, const char *s)
{
	reasm_push(&f->r, seq, (const uint8_t *)s, (uint32_t)strlen(s), (uint32_t)strlen(s), false);
}

#define LOG(f) ((f)->rec.log)

static void test_in_order(void **state)
{
	struct fixture *f = fx_new(1000, 65536, 4096);
	push(f, 1000, "abc");
	push(f, 1003, "def");
	assert_string_equal(LOG(f), "D0:abc D3:def ");
	fx_free(f);
}

static void test_every_byte(void **state)
{
	struct fixture *f = fx_new(7, 65536, 4096);
	const char *m = "hello";
	for (uint32_t i = 0; i < 5; i++)
		reasm_push(&f->r, 7 + i, (const uint8_t *)m + i, 1, 1, false);
	assert_string_equal(LOG(f), "D0:h D1:e D2:l D3:l D4:o ");
	fx_free(f);
}

static void test_out_of_order(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 6, "ghi");
	push(f, 3, "def");
	assert_string_equal(LOG(f), "");
	assert_int_equal(f->r.held_bytes, 6);
	push(f, 0, "abc");
	assert_string_equal(LOG(f), "D0:abc D3:def D6:ghi ");
	assert_int_equal(f->r.held_bytes, 0);
	fx_free(f);
}

static void test_exact_duplicate(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abc");
	push(f, 0, "abc");
	push(f, 3, "def");
	assert_string_equal(LOG(f), "D0:abc D3:def ");
	assert_int_equal(f->r.dup_bytes, 3);
	assert_int_equal(f->rec.conflicts, 0);
	fx_free(f);
}

static void test_partial_retransmission(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abc");
	push(f, 1, "bcde");
	assert_string_equal(LOG(f), "D0:abc D3:de ");
	assert_int_equal(f->r.dup_bytes, 2);
	fx_free(f);
}

static void test_conflict_with_delivered(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abcdef");
	push(f, 2, "cXeYgh");
	assert_string_equal(LOG(f), "D0:abcdef C3+3 D6:gh ");
	fx_free(f);
}

static void test_conflict_beyond_history(void **state)
{
	/* History of 4 bytes: an overlap older than that is dropped unchecked. */
	struct fixture *f = fx_new(0, 65536, 4);
	push(f, 0, "abcdefgh");
	push(f, 0, "XbcdefgY");
	assert_string_equal(LOG(f), "D0:abcdefgh C7+1 ");
	fx_free(f);
}

static void test_history_until_acked(void **state)
{
	/* Bytes the receiver acknowledged cannot be changed by a retransmission:
	 * their history is dropped; unacknowledged ones are still compared. */
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abcdef");
	reasm_ack(&f->r, 2);
	push(f, 0, "XbcYef");
	assert_string_equal(LOG(f), "D0:abcdef C3+1 ");
	reasm_ack(&f->r, 6);
	assert_null(f->r.hist);
	push(f, 0, "XXXXXX");
	assert_string_equal(LOG(f), "D0:abcdef C3+1 ");
	fx_free(f);
}

static void test_history_grows(void **state)
{
	/* The ring starts small and grows as unacknowledged bytes pile up,
	 * keeping what it held: a conflict 995 bytes back is still seen. */
	struct fixture *f = fx_new(0, 65536, 4096);
	uint8_t buf[1000];
	for (int i = 0; i < 1000; i++)
		buf[i] = (uint8_t)('a' + i % 26);
	for (int i = 0; i < 1000; i += 10)
		reasm_push(&f->r, (uint32_t)i, buf + i, 10, 10, false);
	assert_true(f->r.hist_cap >= 1000);
	buf[5] = 'X';
	reasm_push(&f->r, 0, buf, 1000, 1000, false);
	assert_int_equal(f->rec.conflicts, 1);
	assert_non_null(strstr(LOG(f), "C5+1 "));
	fx_free(f);
}

static void test_ring_pool_by_size(void **state)
{
	/* Rings given back (outgrown, or all acknowledged) are kept by size
	 * and handed to the next direction that needs that size; the pool
	 * holds nothing the reassemblers count as used. */
	struct fixture *f = fx_new(0, 65536, 2048);
	uint8_t buf[1500];
	memset(buf, 'a', sizeof buf);
	reasm_push(&f->r, 0, buf, 100, 100, false);      /* a 256-byte ring */
	assert_int_equal(f->r.hist_cap, 256);
	reasm_push(&f->r, 100, buf, 1400, 1400, false);  /* grows to 2048 */
	assert_int_equal(f->r.hist_cap, 2048);
	assert_int_equal(f->mem.pooled_bytes, 256);      /* the outgrown one */
	reasm_ack(&f->r, 1500);                          /* all acknowledged */
	assert_null(f->r.hist);
	assert_int_equal(f->mem.pooled_bytes, 256 + 2048);
	assert_int_equal(f->mem.used, 0);
	/* Another direction sharing the memory takes the 256-byte ring. */
	struct rec rec2;
	memset(&rec2, 0, sizeof rec2);
	reasm r2;
	reasm_init(&r2, &ops, &rec2, &f->mem, 65536, 2048);
	reasm_start(&r2, 0);
	void *pooled256 = f->mem.pool[8];
	assert_non_null(pooled256);
	reasm_push(&r2, 0, buf, 10, 10, false);
	assert_ptr_equal(r2.hist, pooled256);
	assert_int_equal(f->mem.pooled_bytes, 2048);
	assert_int_equal(f->mem.used, 256);
	reasm_free(&r2);
	assert_int_equal(f->mem.pooled_bytes, 2048 + 256);
	fx_free(f);
}

static void test_conflict_with_held(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 3, "def");
	push(f, 2, "cdXfg"); /* X at 4 against held "e": keeps "def", holds c and g */
	assert_string_equal(LOG(f), "C4+1 ");
	push(f, 0, "ab");
	assert_string_equal(LOG(f), "C4+1 D0:ab D2:c D3:def D6:g ");
	fx_free(f);
}

static void test_in_order_over_held(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 3, "def");
	push(f, 0, "abcdXfgh"); /* first copy (held "def") wins */
	assert_string_equal(LOG(f), "D0:abc C4+1 D3:def D6:gh ");
	fx_free(f);
}

static void test_sequence_wrap(void **state)
{
	struct fixture *f = fx_new(0xfffffffcu, 65536, 4096);
	push(f, 0xfffffffcu, "abc");
	push(f, 0x00000002u, "ghi"); /* after the wrap, ahead of a hole */
	push(f, 0xffffffffu, "def");
	push(f, 0x00000005u, "jkl");
	assert_string_equal(LOG(f), "D0:abc D3:def D6:ghi D9:jkl ");
	fx_free(f);
}

static void test_wrap_far(void **state)
{
	/* More than 4 GiB of stream: offsets keep counting past 2^32. */
	struct fixture *f = fx_new(0, 65536, 0);
	static uint8_t big[60000];
	uint64_t off = 0;
	uint32_t seq = 0;
	while (off < ((uint64_t)1 << 32) + 120000) {
		reasm_push(&f->r, seq, big, sizeof big, sizeof big, false);
		seq += sizeof big;
		off += sizeof big;
	}
	assert_int_equal(f->r.next, off);
	assert_int_equal(f->rec.gap_bytes, 0);
	fx_free(f);
}

static void test_lost_segment_acked(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abc");
	push(f, 6, "ghi");
	reasm_ack(&f->r, 9);
	assert_string_equal(LOG(f), "D0:abc G3+3L D6:ghi ");
	push(f, 3, "def"); /* too late: already given up */
	assert_string_equal(LOG(f), "D0:abc G3+3L D6:ghi ");
	fx_free(f);
}

static void test_lost_segment_flush(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abc");
	push(f, 6, "ghi");
	push(f, 12, "mno");
	reasm_flush(&f->r);
	assert_string_equal(LOG(f), "D0:abc G3+3L D6:ghi G9+3L D12:mno ");
	fx_free(f);
}

static void test_implausible_ack(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abc");
	reasm_ack(&f->r, 0x70000000u);
	reasm_ack(&f->r, 2);
	assert_string_equal(LOG(f), "D0:abc ");
	fx_free(f);
}

static void test_truncated_in_order(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	reasm_push(&f->r, 0, (const uint8_t *)"abcdef", 3, 6, false);
	push(f, 6, "ghi");
	assert_string_equal(LOG(f), "D0:abc G3+3T D6:ghi ");
	fx_free(f);
}

static void test_truncated_out_of_order(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	reasm_push(&f->r, 3, (const uint8_t *)"defghi", 2, 6, false);
	push(f, 9, "jk");
	push(f, 0, "abc");
	assert_string_equal(LOG(f), "D0:abc D3:de G5+4T D9:jk ");
	fx_free(f);
}

static void test_truncated_two_holes(void **state)
{
	/* Two snaplen-cut segments held out of order, with a segment not yet
	 * seen between them: the bytes between the two cuts are not cut, and
	 * when they arrive they are delivered, not passed over. */
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abc");
	reasm_push(&f->r, 10, (const uint8_t *)"klmno", 2, 5, false);
	reasm_push(&f->r, 20, (const uint8_t *)"uvwxy", 2, 5, false);
	push(f, 3, "defghij");
	assert_string_equal(LOG(f), "D0:abc D3:defghij D10:kl G12+3T ");
	push(f, 15, "pqrst");
	assert_string_equal(LOG(f), "D0:abc D3:defghij D10:kl G12+3T D15:pqrst D20:uv G22+3T ");
	fx_free(f);
}

static void test_truncated_hole_lost(void **state)
{
	/* A hole between two cuts that is never filled is lost, not cut. */
	struct fixture *f = fx_new(0, 65536, 4096);
	reasm_push(&f->r, 10, (const uint8_t *)"klmno", 2, 5, false);
	reasm_push(&f->r, 20, (const uint8_t *)"uvwxy", 2, 5, false);
	push(f, 0, "abcdefghij");
	reasm_flush(&f->r);
	assert_string_equal(LOG(f), "D0:abcdefghij D10:kl G12+3T G15+5L D20:uv G22+3T ");
	fx_free(f);
}

static void test_truncated_cuts_capped(void **state)
{
	/* Segments cut to nothing, each ahead of a hole, hold no bytes but
	 * must still be bounded: the cap passes over the oldest. */
	struct fixture *f = fx_new(0, 256, 4096);
	for (uint32_t i = 0; i < 1000; i++)
		reasm_push(&f->r, 100 + 10 * i, (const uint8_t *)"", 0, 5, false);
	assert_true(f->mem.used <= 256 + 64);
	reasm_flush(&f->r);
	assert_int_equal(f->rec.gap_bytes, 100 + 10 * 999 + 5);
	fx_free(f);
}

static void test_memcap(void **state)
{
	struct fixture *f = fx_new(0, 4, 4096);
	push(f, 0, "ab");
	push(f, 5, "xyz");
	push(f, 10, "klm");
	assert_string_equal(LOG(f), "D0:ab G2+3M D5:xyz ");
	reasm_flush(&f->r);
	assert_string_equal(LOG(f), "D0:ab G2+3M D5:xyz G8+2L D10:klm ");
	fx_free(f);
}

static void test_global_memcap(void **state)
{
	struct fixture *f = fx_new(0, 65536, 0);
	f->mem.cap = 1; /* nothing may be held */
	push(f, 0, "ab");
	push(f, 5, "xyz");
	assert_string_equal(LOG(f), "D0:ab G2+3M D5:xyz ");
	assert_int_equal(f->r.held_bytes, 0);
	fx_free(f);
}

static void test_midstream_before_start(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	reasm_init(&f->r, &ops, &f->rec, &f->mem, 65536, 4096);
	push(f, 100, "klm");  /* starts the direction at seq 100 */
	push(f, 95, "fghijklmno"); /* earlier bytes are before offset 0 */
	assert_string_equal(LOG(f), "D0:klm D3:no ");
	fx_free(f);
}

static void test_fin(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	reasm_push(&f->r, 3, (const uint8_t *)"def", 3, 3, true);
	assert_false(reasm_done(&f->r));
	push(f, 0, "abc");
	assert_true(reasm_done(&f->r));
	assert_string_equal(LOG(f), "D0:abc D3:def ");
	fx_free(f);
}

static void test_fin_stale_or_wild(void **state)
{
	/* A FIN behind bytes already delivered (nothing is sent after a FIN,
	 * so it is stale: an older connection's, or mangled) or implausibly
	 * far ahead does not mark the end; the real FIN still does. */
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abcdef");
	reasm_push(&f->r, 2, NULL, 0, 0, true);
	assert_false(f->r.fin);
	reasm_push(&f->r, 0x70000000u, NULL, 0, 0, true);
	assert_false(f->r.fin);
	reasm_push(&f->r, 6, (const uint8_t *)"gh", 2, 2, true);
	assert_true(f->r.fin);
	assert_int_equal(f->r.fin_off, 8);
	assert_true(reasm_done(&f->r));
	reasm_flush(&f->r);
	assert_string_equal(LOG(f), "D0:abcdef D6:gh ");
	fx_free(f);
}

static void test_ack_of_missed_fin(void **state)
{
	/* The capture missed the FIN but has the ACK of it: one sequence
	 * number past the last byte is the FIN's, not a lost byte.  If more
	 * data follows after all, the byte was real and is reported then. */
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abc");
	reasm_ack(&f->r, 4);
	reasm_flush(&f->r);
	assert_string_equal(LOG(f), "D0:abc ");
	push(f, 4, "ef");
	reasm_ack(&f->r, 6);
	assert_string_equal(LOG(f), "D0:abc G3+1L D4:ef ");
	fx_free(f);
}

static void test_fin_with_hole(void **state)
{
	struct fixture *f = fx_new(0, 65536, 4096);
	push(f, 0, "abc");
	reasm_push(&f->r, 9, NULL, 0, 0, true);
	reasm_flush(&f->r);
	assert_string_equal(LOG(f), "D0:abc G3+6L ");
	assert_true(reasm_done(&f->r));
	fx_free(f);
}

/* Property: any arrival order of overlapping copies of a stream gives
 * back the stream exactly, each byte once, without gaps or conflicts. */
static void test_shuffled_property(void **state)
{
	unsigned seed = 12345;
	for (int round = 0; round < 200; round++) {
		struct fixture *f = fx_new((uint32_t)rand_r(&seed), 1 << 20, 4096);
		uint32_t isn = f->r.base;
		size_t len = 1 + (size_t)(rand_r(&seed) % 3000);
		uint8_t *src = malloc(len);
		for (size_t i = 0; i < len; i++)
			src[i] = (uint8_t)rand_r(&seed);
		struct { size_t off, n; } seg[400];
		size_t nseg = 0, at = 0;
		while (at < len && nseg < 300) {
			size_t n = 1 + (size_t)(rand_r(&seed) % 200);
			if (n > len - at)
				n = len - at;
			seg[nseg].off = at;
			seg[nseg].n = n;
			nseg++;
			at += n;
		}
		if (at < len) {
			seg[nseg].off = at;
			seg[nseg].n = len - at;
			nseg++;
		}
		/* Retransmissions that straddle segment boundaries. */
		for (int k = 0; k < 30 && nseg < 400; k++) {
			size_t o = (size_t)rand_r(&seed) % len;
			size_t n = 1 + (size_t)(rand_r(&seed) % 300);
			if (n > len - o)
				n = len - o;
			seg[nseg].off = o;
			seg[nseg].n = n;
			nseg++;
		}
		for (size_t i = nseg - 1; i > 0; i--) {
			size_t j = (size_t)rand_r(&seed) % (i + 1);
			size_t o = seg[i].off, n = seg[i].n;
			seg[i] = seg[j];
			seg[j].off = o;
			seg[j].n = n;
		}
		for (size_t i = 0; i < nseg; i++)
			reasm_push(&f->r, isn + (uint32_t)seg[i].off, src + seg[i].off,
				   (uint32_t)seg[i].n, (uint32_t)seg[i].n, false);
		reasm_flush(&f->r);
		assert_int_equal(f->r.next, len);
		assert_int_equal(f->rec.gap_bytes, 0);
		assert_int_equal(f->rec.conflicts, 0);
		for (size_t i = 0; i < len; i++)
			assert_int_equal(f->rec.seen[i], 1);
		assert_memory_equal(f->rec.stream, src, len);
		free(src);
		fx_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_exact_duplicate),
		cmocka_unit_test(test_partial_retransmission),
		cmocka_unit_test(test_conflict_with_delivered),
		cmocka_unit_test(test_conflict_beyond_history),
		cmocka_unit_test(test_history_until_acked),
		cmocka_unit_test(test_history_grows),
		cmocka_unit_test(test_ring_pool_by_size),
		cmocka_unit_test(test_conflict_with_held),
		cmocka_unit_test(test_in_order_over_held),
		cmocka_unit_test(test_sequence_wrap),
		cmocka_unit_test(test_wrap_far),
		cmocka_unit_test(test_lost_segment_acked),
		cmocka_unit_test(test_lost_segment_flush),
		cmocka_unit_test(test_implausible_ack),
		cmocka_unit_test(test_truncated_in_order),
		cmocka_unit_test(test_truncated_out_of_order),
		cmocka_unit_test(test_truncated_two_holes),
		cmocka_unit_test(test_truncated_hole_lost),
		cmocka_unit_test(test_truncated_cuts_capped),
		cmocka_unit_test(test_memcap),
		cmocka_unit_test(test_global_memcap),
		cmocka_unit_test(test_midstream_before_start),
		cmocka_unit_test(test_fin),
		cmocka_unit_test(test_fin_stale_or_wild),
		cmocka_unit_test(test_ack_of_missed_fin),
		cmocka_unit_test(test_fin_with_hole),
		cmocka_unit_test(test_shuffled_property),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

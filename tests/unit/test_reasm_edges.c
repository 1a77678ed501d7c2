/*
 * Table-driven tests of tcp/reasm on the cases test_reasm.c leaves
 * out: a reassembler with no shared memory account, freeing one that still
 * holds segments and snapshot cuts, cuts that merge, a held segment inside
 * a span the snapshot length cut, captured lengths larger than sent, and
 * segments that end before a mid-stream pickup's first byte.
 *
 * Each row pushes segments (seq, bytes, captured, sent, FIN), ACKs and
 * flushes, and compares the callbacks, written as in test_reasm.c: "D0:abc"
 * data, "G3+2L" a gap lost/truncated/memcap (L/T/M), "C4+1" a conflict.
 * After each row the reassembler is freed and every byte it accounted for
 * must have been given back.
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

struct step {
	char op;              /* p: push, a: ack, f: flush, s: start */
	uint32_t seq;
	const char *data;
	uint32_t caplen, wirelen; /* 0 and 0: strlen(data) both */
	bool fin;
};

#define PUSH(seq, data) {'p', seq, data, 0, 0, false}
#define PUSH_CUT(seq, data, cap, wire) {'p', seq, data, cap, wire, false}
#define PUSH_FIN(seq, data) {'p', seq, data, 0, 0, true}
#define ACK(seq) {'a', seq, NULL, 0, 0, false}
#define FLUSH {'f', 0, NULL, 0, 0, false}
#define START(seq) {'s', seq, NULL, 0, 0, false}
#define END {0, 0, NULL, 0, 0, false}

struct row {
	const char *name;
	bool no_mem;          /* no shared reasm_mem */
	size_t cap;
	uint32_t history;
	const struct step *steps;
	const char *want;
	size_t held_bytes, cuts; /* left held when the steps end */
};

struct rec {
	char log[1024];
	size_t len;
};

static void logf_(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->log + r->len, sizeof r->log - r->len, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof r->log - r->len);
	r->len += (size_t)n;
}

static void on_data(void *u, uint64_t off, const uint8_t *p, size_t n)
{
	logf_(u, "D%llu:%.*s ", (unsigned long long)off, (int)n, (const char *)p);
}

static void on_gap(void *u, uint64_t off, uint64_t n, reasm_gap_why why)
{
	logf_(u, "G%llu+%llu%c ", (unsigned long long)off, (unsigned long long)n,
	      why == REASM_GAP_LOST ? 'L' : why == REASM_GAP_TRUNCATED ? 'T' : 'M');
}

static void on_conflict(void *u, uint64_t off, size_t n)
{
	logf_(u, "C%llu+%zu ", (unsigned long long)off, n);
}

static const reasm_ops ops = {on_data, on_gap, on_conflict};

static const struct row rows[] = {
	{"no shared memory account: held, delivered, history freed on ACK", true, 65536, 4096,
	 (const struct step[]){START(100), PUSH(103, "def"), PUSH(100, "abc"), PUSH(100, "abX"),
			       ACK(106), PUSH(100, "abY"), END},
	 /* the ACK freed the history: the last retransmission is not compared */
	 "D0:abc D3:def C2+1 ", 0, 0},
	{"freed while holding segments and cuts: everything is given back", false, 65536, 4096,
	 (const struct step[]){START(0), PUSH(10, "klm"), PUSH_CUT(20, "uvwxy", 2, 5),
			       PUSH_CUT(40, "", 0, 5), END},
	 "", 5, 2},
	{"cuts that overlap or touch merge into one span", false, 65536, 4096,
	 (const struct step[]){START(0), PUSH_CUT(10, "", 0, 5), PUSH_CUT(20, "", 0, 5),
			       PUSH_CUT(30, "", 0, 5), PUSH_CUT(13, "", 0, 8), PUSH_CUT(25, "", 0, 5),
			       END},
	 "", 0, 1},
	{"merged cuts are reported as one truncated span", false, 65536, 4096,
	 (const struct step[]){START(0), PUSH_CUT(10, "", 0, 5), PUSH_CUT(20, "", 0, 5),
			       PUSH_CUT(13, "", 0, 8), PUSH(0, "abcdefghij"), END},
	 "D0:abcdefghij G10+15T ", 0, 0},
	{"a held segment inside a span the snapshot length cut is delivered", false, 65536, 4096,
	 (const struct step[]){START(0), PUSH(10, "xy"), PUSH_CUT(0, "abcdefghijklmnopqrst", 5, 20),
			       END},
	 "D0:abcde G5+5T D10:xy G12+8T ", 0, 0},
	{"more bytes captured than sent: only the sent ones count", false, 65536, 4096,
	 (const struct step[]){START(0), PUSH_CUT(0, "abcdef", 6, 3), PUSH(3, "DEF"), END},
	 "D0:abc D3:DEF ", 0, 0},
	{"mid-stream: a segment wholly before the first byte is passed over", false, 65536, 4096,
	 (const struct step[]){PUSH(100, "klm"), PUSH(90, "abcde"), PUSH(95, "vwxyz"), PUSH(97, "xyzklmn"),
			       FLUSH, END},
	 "D0:klm D3:n ", 0, 0},
	{"a FIN far ahead of the data is not believed", false, 65536, 4096,
	 (const struct step[]){START(0), PUSH(0, "abc"), PUSH_FIN(0x7fff0000u, ""), PUSH(3, "def"),
			       FLUSH, END},
	 "D0:abc D3:def ", 0, 0},
};

static void test_row(void **state)
{
	const struct row *row = *state;
	struct rec rec = {.len = 0};
	reasm_mem mem = {0};
	reasm r;
	reasm_init(&r, &ops, &rec, row->no_mem ? NULL : &mem, row->cap, row->history);
	for (const struct step *s = row->steps; s->op; s++) {
		switch (s->op) {
		case 's':
			reasm_start(&r, s->seq);
			break;
		case 'p': {
			uint32_t n = (uint32_t)strlen(s->data);
			uint32_t cap = s->caplen || s->wirelen ? s->caplen : n;
			uint32_t wire = s->caplen || s->wirelen ? s->wirelen : n;
			reasm_push(&r, s->seq, (const uint8_t *)s->data, cap, wire, s->fin);
			break;
		}
		case 'a':
			reasm_ack(&r, s->seq);
			break;
		case 'f':
			reasm_flush(&r);
			break;
		}
	}
	if (strcmp(rec.log, row->want))
		fail_msg("%s\n got: %s\nwant: %s", row->name, rec.log, row->want);
	assert_int_equal(r.held_bytes, row->held_bytes);
	assert_int_equal(r.n_cuts, row->cuts);
	reasm_free(&r);
	assert_null(r.held);
	assert_null(r.cuts);
	assert_int_equal(r.n_cuts, 0);
	assert_int_equal(r.held_bytes, 0);
	assert_int_equal(mem.used, 0);
	reasm_mem_release(&mem);
}

int main(void)
{
	enum { N = sizeof rows / sizeof rows[0] };
	struct CMUnitTest tests[N];
	for (size_t i = 0; i < N; i++)
		tests[i] = (struct CMUnitTest){.name = rows[i].name, .test_func = test_row,
					       .initial_state = (void *)&rows[i]};
	return cmocka_run_group_tests_name("reasm edges", tests, NULL, NULL);
}

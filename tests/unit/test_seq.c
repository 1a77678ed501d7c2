/*
 * Unit tests of tcp/seq.h: one table of sequence-number pairs, most of them
 * across the wrap at 2^32, with the difference and every comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcp/seq.h"

static const struct {
	uint32_t a, b;
	int32_t diff;             /* how far a is after b */
	bool lt, leq, gt, geq;
} rows[] = {
	/* a          b           diff          lt     leq    gt     geq */
	{0,           0,          0,            false, true,  false, true},
	{1,           0,          1,            false, false, true,  true},
	{0,           1,          -1,           true,  true,  false, false},
	{1000,        10,         990,          false, false, true,  true},
	/* Across the wrap: a small number is after a large one. */
	{0,           0xffffffff, 1,            false, false, true,  true},
	{0xffffffff,  0,          -1,           true,  true,  false, false},
	{0x10,        0xfffffff0, 0x20,         false, false, true,  true},
	{0xfffffff0,  0x10,       -0x20,        true,  true,  false, false},
	{0xffffffff,  0xffffffff, 0,            false, true,  false, true},
	{5,           0xfffffffb, 10,           false, false, true,  true},
	/* A 64 MiB window straddling the wrap, both ways. */
	{0x03000000,  0xff000000, 0x04000000,   false, false, true,  true},
	{0xff000000,  0x03000000, -0x04000000,  true,  true,  false, false},
	/* The limit: 2^31 - 1 ahead is still after ... */
	{0x7fffffff,  0,          INT32_MAX,    false, false, true,  true},
	{0,           0x7fffffff, -INT32_MAX,   true,  true,  false, false},
	{0x7fffffff,  0xffffffff, -INT32_MAX - 1, true, true, false, false},
	/* ... one more and it reads as before: exactly 2^31 apart, each is
	 * before the other. */
	{0x80000000,  0,          INT32_MIN,    true,  true,  false, false},
	{0,           0x80000000, INT32_MIN,    true,  true,  false, false},
	{0x80000001,  0,          -INT32_MAX,   true,  true,  false, false},
};

/* Row i with both numbers moved `shift` along the circle; names the row
 * and what differs when it fails. */
static void check_row(size_t i, uint32_t shift)
{
	uint32_t a = rows[i].a + shift, b = rows[i].b + shift;
	int32_t diff = seq_diff(a, b);
	bool lt = seq_lt(a, b), leq = seq_leq(a, b), gt = seq_gt(a, b), geq = seq_geq(a, b);
	if (diff != rows[i].diff || lt != rows[i].lt || leq != rows[i].leq ||
	    gt != rows[i].gt || geq != rows[i].geq)
		fail_msg("row %zu shifted by %#x: a=%#x b=%#x: diff %d lt %d leq %d gt %d geq %d, "
			 "want diff %d lt %d leq %d gt %d geq %d", i, (unsigned)shift, (unsigned)a,
			 (unsigned)b, (int)diff, lt, leq, gt, geq, (int)rows[i].diff, rows[i].lt,
			 rows[i].leq, rows[i].gt, rows[i].geq);
}

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		check_row(i, 0);
}

/* The same relations hold anywhere on the circle: shift every row by one
 * offset, including ones that carry it across the wrap. */
static void test_shifted(void **state)
{
	static const uint32_t shifts[] = {1, 0x7fffffff, 0x80000000, 0xfffffff0, 0xdeadbeef};
	for (size_t s = 0; s < sizeof shifts / sizeof shifts[0]; s++)
		for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
			check_row(i, shifts[s]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_shifted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

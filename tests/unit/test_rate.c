/* The open-loop schedule (client/rate.h): due times, how many requests a
 * run holds, how many are due by a time.  Plain numbers, no clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "client/rate.h"

static void test_due_times(void **state)
{
	struct { uint64_t rate, i, due; } rows[] = {
		{200, 0, 0},
		{200, 1, 5000000},
		{200, 399, 1995000000},
		{200, 400, 2000000000},
		{3, 1, 333333333},          /* rounded down, never early */
		{3, 2, 666666666},
		{3, 3, 1000000000},         /* no drift: whole seconds exact */
		{3, 3000000, 1000000000000000ULL},
		{1, 86400, 86400000000000ULL},
		{7, 10, 1428571428},
		{RATE_MAX, 1, 100},
		{RATE_MAX, RATE_MAX, 1000000000},
		{RATE_MAX, RATE_MAX + 1, 1000000100},
		{1, UINT64_MAX >> 1, UINT64_MAX}, /* past 584 years: saturates */
		{RATE_MAX, 100000000000000000ULL, 10000000000000000000ULL},
		{RATE_MAX, UINT64_MAX, UINT64_MAX},
	};
	for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
		uint64_t got = rate_due(rows[k].rate, rows[k].i);
		if (got != rows[k].due)
			fail_msg("row %zu: rate %llu request %llu due %llu, want %llu", k,
				 (unsigned long long)rows[k].rate, (unsigned long long)rows[k].i,
				 (unsigned long long)got, (unsigned long long)rows[k].due);
	}
}

static void test_run_holds(void **state)
{
	struct { uint64_t rate, ns, n; } rows[] = {
		{200, 2000000000, 400},     /* --rate 200 --duration 2 */
		{200, 0, 0},
		{200, 1, 1},                /* request 0 is due at 0 */
		{200, 5000000, 1},          /* request 1 is due at 5 ms, not before */
		{200, 5000001, 2},
		{3, 1000000000, 3},
		{3, 1000000001, 4},
		{7, 1500000000, 11},        /* 10.5 -> 11: requests 0..10 */
		{RATE_MAX, 86400000000000ULL, 864000000000ULL},
		{1, 86400000000000ULL, 86400},
	};
	for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
		uint64_t got = rate_count(rows[k].rate, rows[k].ns);
		if (got != rows[k].n)
			fail_msg("row %zu: rate %llu over %llu ns holds %llu, want %llu", k,
				 (unsigned long long)rows[k].rate, (unsigned long long)rows[k].ns,
				 (unsigned long long)got, (unsigned long long)rows[k].n);
	}
}

static void test_due_by_agrees_with_due(void **state)
{
	/* for every request: it is due at its time and not one ns before,
	 * and the count due by a time is the first index still to come */
	const uint64_t rates[] = {1, 2, 3, 7, 200, 999, 1000, 1001, 65537, RATE_MAX};
	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
		uint64_t R = rates[r];
		uint64_t prev = 0;
		for (uint64_t i = 0; i < 3 * 1000 + 3; i++) {
			uint64_t d = rate_due(R, i);
			if (i)
				assert_true(d > prev); /* R <= 10^7: no two share a ns */
			prev = d;
			assert_true(rate_due_by(R, d) >= i + 1);
			if (d)
				assert_true(rate_due_by(R, d - 1) <= i);
			assert_int_equal(rate_count(R, d), i);
			assert_int_equal(rate_count(R, d + 1), i + 1);
		}
	}
	assert_int_equal(rate_due_by(200, 0), 1);
	assert_int_equal(rate_due_by(200, 4999999), 1);
	assert_int_equal(rate_due_by(200, 5000000), 2);
}

/* The definitions in 128-bit integers, to compare against. */
static uint64_t ref_due(uint64_t R, uint64_t i)
{
	unsigned __int128 v = (unsigned __int128)i * 1000000000u / R;
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t ref_count(uint64_t R, uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * R + 999999999u) / 1000000000u);
}

static void test_exact_far_into_a_run(void **state)
{
	/* Hours and years into a run at awkward rates (primes near the
	 * maximum): floating point would be a nanosecond off here and there
	 * once i * 10^9 passes 2^53; the integers must not be. */
	const uint64_t rates[] = {7, 999983, 9999991, RATE_MAX};
	uint64_t x = 88172645463325252ULL; /* xorshift: arbitrary indices */
	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
		uint64_t R = rates[r];
		for (int k = 0; k < 200000; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint64_t i = x >> (k % 40); /* spread over many magnitudes */
			uint64_t want = ref_due(R, i);
			if (rate_due(R, i) != want)
				fail_msg("rate %llu request %llu: due %llu, want %llu", (unsigned long long)R,
					 (unsigned long long)i, (unsigned long long)rate_due(R, i),
					 (unsigned long long)want);
			uint64_t ns = x >> (k % 40 + 1);
			if (rate_count(R, ns) != ref_count(R, ns))
				fail_msg("rate %llu over %llu ns: %llu, want %llu", (unsigned long long)R,
					 (unsigned long long)ns, (unsigned long long)rate_count(R, ns),
					 (unsigned long long)ref_count(R, ns));
		}
	}
}

static void test_every_second_holds_rate(void **state)
{
	/* the total is R per second whatever second is looked at: no
	 * rounding drift however long the run */
	const uint64_t rates[] = {1, 3, 7, 200, 12345, RATE_MAX};
	const uint64_t starts[] = {0, 1, 333333333, 999999999, 1000000000, 86399000000000ULL};
	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++)
		for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++)
			assert_int_equal(rate_count(rates[r], starts[s] + 1000000000) -
						 rate_count(rates[r], starts[s]),
					 rates[r]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_times),
		cmocka_unit_test(test_run_holds),
		cmocka_unit_test(test_due_by_agrees_with_due),
		cmocka_unit_test(test_exact_far_into_a_run),
		cmocka_unit_test(test_every_second_holds_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

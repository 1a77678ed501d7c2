/* Latency histogram: exact below 128, within 1/128 above, percentiles by
 * rank, bounded by the true maximum, exact minimum and mean, merge adds up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "client/hist.h"

static hist h, h2;

static void test_small_values_exact(void **state)
{
	for (uint64_t v = 0; v < HIST_SUB; v++) {
		assert_int_equal(hist_bucket_low(hist_index(v)), v);
		assert_int_equal(hist_bucket_high(hist_index(v)), v);
	}
}

static void test_buckets_tile_the_range(void **state)
{
	/* every bucket starts one past the end of the previous one, so each
	 * value has exactly one bucket and the index is monotonic */
	for (unsigned i = 1; i + 1 < HIST_BUCKETS; i++)
		assert_int_equal(hist_bucket_low(i), hist_bucket_high(i - 1) + 1);
	uint64_t vals[] = {128, 129, 255, 256, 1000, 123456, 1u << 20, 999999937ULL, (1ULL << 41) + 12345};
	for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
		unsigned i = hist_index(vals[k]);
		assert_true(hist_bucket_low(i) <= vals[k]);
		assert_true(vals[k] <= hist_bucket_high(i));
		/* relative width at most 1/128 */
		assert_true((hist_bucket_high(i) - hist_bucket_low(i) + 1) * HIST_SUB <= hist_bucket_low(i));
	}
}

static void test_huge_values_clamp(void **state)
{
	hist_init(&h);
	hist_record(&h, UINT64_MAX);
	hist_record(&h, 1ULL << 50);
	assert_int_equal(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
	assert_int_equal(hist_percentile(&h, 100), UINT64_MAX);
	assert_int_equal(h.count, 2);
}

static void test_percentiles_by_rank(void **state)
{
	hist_init(&h);
	assert_int_equal(hist_percentile(&h, 50), 0);
	/* 1..100: p50 is the 50th value, p99 the 99th, exact below 128 */
	for (uint64_t v = 100; v >= 1; v--)
		hist_record(&h, v);
	assert_int_equal(hist_percentile(&h, 50), 50);
	assert_int_equal(hist_percentile(&h, 90), 90);
	assert_int_equal(hist_percentile(&h, 99), 99);
	assert_int_equal(hist_percentile(&h, 99.9), 100);
	assert_int_equal(hist_percentile(&h, 100), 100);
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 100);
}

static void test_percentiles_within_error(void **state)
{
	/* 1000 samples of 1 ms .. 1000 ms in ns: p99 must be the 990th value
	 * to within the bucket width, never below it */
	hist_init(&h);
	for (uint64_t k = 1; k <= 1000; k++)
		hist_record(&h, k * 1000000ULL);
	struct { double p; uint64_t want; } rows[] = {
		{50, 500000000ULL}, {90, 900000000ULL}, {99, 990000000ULL}, {99.9, 999000000ULL},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		uint64_t got = hist_percentile(&h, rows[i].p);
		assert_true(got >= rows[i].want);
		assert_true(got - rows[i].want <= rows[i].want / HIST_SUB);
	}
	/* never above the true maximum */
	assert_int_equal(hist_percentile(&h, 99.99), 1000000000ULL);
}

static void test_rank_at_exact_boundaries(void **state)
{
	/* p99.9 of 1000 samples is the 999th: 99.9 / 100 * 1000 is
	 * 999.0000000000001 in binary floating point, which must not round
	 * the rank up to the 1000th (the one outlier) */
	hist_init(&h);
	for (int k = 0; k < 999; k++)
		hist_record(&h, 10);
	hist_record(&h, 100);
	assert_int_equal(hist_percentile(&h, 99.9), 10);
	assert_int_equal(hist_percentile(&h, 99.95), 100);
	hist_init(&h);
	for (int k = 0; k < 9990; k++)
		hist_record(&h, 10);
	for (int k = 0; k < 10; k++)
		hist_record(&h, 100);
	assert_int_equal(hist_percentile(&h, 99.9), 10);
	assert_int_equal(hist_percentile(&h, 99.91), 100);
	assert_int_equal(hist_percentile(&h, 0.01), 10);
}

static void test_hours_resolved(void **state)
{
	/* The client waits up to a day (--timeout 86400): latencies of hours
	 * are told apart to within a bucket, not all reported as the maximum */
	const uint64_t hour = 3600ULL * 1000000000ULL;
	hist_init(&h);
	hist_record(&h, 2 * hour);
	hist_record(&h, 2 * hour);
	hist_record(&h, 24 * hour);
	uint64_t p50 = hist_percentile(&h, 50);
	assert_true(p50 >= 2 * hour);
	assert_true(p50 - 2 * hour <= 2 * hour / HIST_SUB);
	assert_int_equal(hist_percentile(&h, 100), 24 * hour);
	unsigned i = hist_index(24 * hour);
	assert_true(i < HIST_BUCKETS - 1);
	assert_true(hist_bucket_low(i) <= 24 * hour && 24 * hour <= hist_bucket_high(i));
}

static void test_min_and_mean(void **state)
{
	/* exact, from the running sum and minimum, not from the buckets
	 * (1000001 and 1000002 share a bucket); 0 when nothing was recorded */
	hist_init(&h);
	assert_int_equal(hist_min(&h), 0);
	assert_true(hist_mean(&h) == 0);
	hist_record(&h, 1000002);
	hist_record(&h, 1000001);
	hist_record(&h, 1000003);
	assert_int_equal(hist_min(&h), 1000001);
	assert_true(hist_mean(&h) == 1000002.0);
	hist_record(&h, 7);
	assert_int_equal(hist_min(&h), 7);
	assert_true(hist_mean(&h) == (3000006.0 + 7) / 4);
}

static void test_merge(void **state)
{
	hist_init(&h);
	hist_init(&h2);
	for (uint64_t v = 1; v <= 50; v++)
		hist_record(&h, v);
	for (uint64_t v = 51; v <= 100; v++)
		hist_record(&h2, v);
	hist_merge(&h, &h2);
	assert_int_equal(h.count, 100);
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 100);
	assert_int_equal(hist_percentile(&h, 50), 50);
	assert_int_equal(h.sum, 5050);
	assert_int_equal(hist_min(&h), 1);
	assert_true(hist_mean(&h) == 50.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_buckets_tile_the_range),
		cmocka_unit_test(test_huge_values_clamp),
		cmocka_unit_test(test_percentiles_by_rank),
		cmocka_unit_test(test_percentiles_within_error),
		cmocka_unit_test(test_rank_at_exact_boundaries),
		cmocka_unit_test(test_hours_resolved),
		cmocka_unit_test(test_min_and_mean),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tcp/timefmt: the text time column, against printf's rendering of the same
 * values (relative, epoch and delta modes: seconds with six decimals,
 * right-aligned in 11 columns where the mode pads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tcp/timefmt.h"

/* What the column must say for d ns: printf's "%s%llu.%06llu", padded. */
static void reference(int64_t d, int width, char *out, size_t n)
{
	uint64_t a = d < 0 ? (uint64_t)-(d + 1) + 1 : (uint64_t)d;
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s%llu.%06llu", d < 0 ? "-" : "", (unsigned long long)(a / 1000000000),
		 (unsigned long long)(a % 1000000000 / 1000));
	snprintf(out, n, "%*s", width, tmp);
}

static const int64_t values[] = {
	0, 1, 999, 1000, 999999, 1000000, 123456789, 999999999, 1000000000, 1000000001,
	1234567890123, 1700000000000000000, 1795388215912589000, INT64_MAX,
	-1, -1000, -999999999, -1000000000, -1234567890123, INT64_MIN,
};

static void test_relative_and_epoch(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char got[TF_MAX], want[TF_MAX * 2];
		tf_clock rel = {.mode = TF_RELATIVE, .have_t0 = true, .t0 = 0};
		size_t n = tf_format(&rel, values[i], got);
		reference(values[i], 11, want, sizeof want);
		assert_string_equal(got, want);
		assert_int_equal(n, strlen(want));
		tf_clock ep = {.mode = TF_EPOCH};
		n = tf_format(&ep, values[i], got);
		reference(values[i], 0, want, sizeof want);
		assert_string_equal(got, want);
		assert_int_equal(n, strlen(want));
	}
}

static void test_first_packet_and_delta(void **state)
{
	(void)state;
	char got[TF_MAX];
	tf_clock rel = {.mode = TF_RELATIVE};
	tf_format(&rel, 5000000000, got); /* the first time seen is t0 */
	assert_string_equal(got, "   0.000000");
	tf_format(&rel, 5000250000, got);
	assert_string_equal(got, "   0.000250");
	tf_clock d = {.mode = TF_DELTA};
	tf_format(&d, 7000000000, got);
	assert_string_equal(got, "   0.000000");
	tf_format(&d, 9500000000, got);
	assert_string_equal(got, "   2.500000");
	tf_format(&d, 9000000000, got);
	assert_string_equal(got, "  -0.500000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative_and_epoch),
		cmocka_unit_test(test_first_packet_and_delta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

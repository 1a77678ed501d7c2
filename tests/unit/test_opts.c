/* Command-line numbers: seconds, sizes and whole numbers are parsed
 * strictly, and a duration the user gave as more than zero never becomes
 * zero, which every timeout option reads as "never". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd/opts.h"

static void test_seconds(void **state)
{
	uint64_t ms = 99;
	assert_int_equal(opt_seconds("t", "--x", "2.5", &ms), 0);
	assert_int_equal(ms, 2500);
	assert_int_equal(opt_seconds("t", "--x", "0", &ms), 0);
	assert_int_equal(ms, 0);
	/* below a millisecond: the shortest timeout there is, not none */
	assert_int_equal(opt_seconds("t", "--x", "0.0001", &ms), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(opt_seconds("t", "--x", "1e-9", &ms), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(opt_seconds("t", "--x", "86400", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(opt_seconds("t", "--x", "86401", &ms), -1);
	assert_int_equal(opt_seconds("t", "--x", "-1", &ms), -1);
	assert_int_equal(opt_seconds("t", "--x", "nan", &ms), -1);
	assert_int_equal(opt_seconds("t", "--x", "1s", &ms), -1);
	assert_int_equal(opt_seconds("t", "--x", "", &ms), -1);
}

static void test_sizes_and_numbers(void **state)
{
	uint64_t v;
	assert_int_equal(opt_size("t", "--x", "64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(opt_size("t", "--x", "1g", &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(opt_size("t", "--x", "99999999999999999999", &v), -1);
	assert_int_equal(opt_size("t", "--x", "-1", &v), -1);
	assert_int_equal(opt_size("t", "--x", "1kk", &v), -1);
	assert_int_equal(opt_uint("t", "--x", "5", 1, 10, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(opt_uint("t", "--x", "11", 1, 10, &v), -1);
	assert_int_equal(opt_uint("t", "--x", " 5", 1, 10, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_sizes_and_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

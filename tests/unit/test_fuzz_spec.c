/*
 * fuzz_spec's regressions (fuzz/regressions/spec/): each file once made
 * a loader of user-written files (the generator's spec, the server's
 * search table, a framing file) crash or misbehave under the sanitizers.
 * Run by make unit-asan, that is the check; plainly built, they must at
 * least run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_spec_one
#include "fuzz/fuzz_spec.c"
#include "spec/gen/model.c"

#include "fuzz_replay.h"

static void test_regressions(void **state)
{
	int n = replay_dir("fuzz/regressions/spec", fuzz_spec_one, NULL);
	assert_true(n >= 1);
}

/* An empty search table is refused as not JSON, by name. */
static void test_empty_table(void **state)
{
	char p[64], err[512] = "";
	FILE *f = tmpfile();
	assert_non_null(f);
	snprintf(p, sizeof p, "/proc/self/fd/%d", fileno(f));
	app_table t;
	assert_int_equal(app_table_load(&t, p, 1 << 20, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not valid JSON"));
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regressions),
		cmocka_unit_test(test_empty_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

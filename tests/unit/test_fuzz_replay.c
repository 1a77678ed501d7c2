/*
 * fuzz_replay's regressions (fuzz/regressions/replay/) and the fixtures'
 * capture files: each read as `jmsg replay` reads it (see
 * fuzz/fuzz_replay.c), every message kept checked to be one whole
 * message.  Under make unit-asan that is the fuzzer's check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_replay_one
#include "fuzz/fuzz_replay.c"

#include "fuzz_replay.h"

static void test_regressions(void **state)
{
	int n = replay_dir("fuzz/regressions/replay", fuzz_replay_one, NULL);
	assert_true(n >= 0);
}

static void test_fixtures(void **state)
{
	static const char *const ext[] = {".pcap", ".pcapng", NULL};
	int n = replay_dir("tests/fixtures", fuzz_replay_one, ext);
	assert_true(n >= 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regressions),
		cmocka_unit_test(test_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_server's regressions (fuzz/regressions/server/) and its seeds
 * (fuzz/server-seeds/, the tutorial's requests and a few the server
 * refuses), each under every configuration byte: a client's bytes
 * through the reference server's connection code over a socketpair (see
 * fuzz/fuzz_server.c), the server's answers checked to be whole
 * messages and the connection to be finished.  Under make unit-asan that
 * is the fuzzer's check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_server_one
#include "fuzz/fuzz_server.c"

#include "fuzz_replay.h"

static void test_regressions(void **state)
{
	int n = replay_dir("fuzz/regressions/server", fuzz_server_one, NULL);
	assert_true(n >= 0);
}

static void test_seeds(void **state)
{
	int n = replay_dir_every_config("fuzz/server-seeds", fuzz_server_one);
	assert_true(n >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regressions),
		cmocka_unit_test(test_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

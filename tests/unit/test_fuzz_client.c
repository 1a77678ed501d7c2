/*
 * fuzz_client's regressions (fuzz/regressions/client/) and its seeds
 * (fuzz/client-seeds/, the tutorial server's answers and the reference
 * server's errors), each under every configuration byte: a server's bytes
 * through the reference client's response code over a socketpair (see
 * fuzz/fuzz_client.c), the client's ending checked.  Under make unit-asan
 * that is the fuzzer's check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_client_one
#include "fuzz/fuzz_client.c"

#include "fuzz_replay.h"

static void test_regressions(void **state)
{
	int n = replay_dir("fuzz/regressions/client", fuzz_client_one, NULL);
	assert_true(n >= 0);
}

static void test_seeds(void **state)
{
	int n = replay_dir_every_config("fuzz/client-seeds", fuzz_client_one);
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

/*
 * fuzz_pcap's regressions (fuzz/regressions/pcap/) and its seeds, the
 * fixtures' capture files: each through `jmsg analyze` twice as the
 * target runs it (libpcap and one engine, text; the mapped reader and
 * --workers 2, JSON), output to /dev/null.  Under make unit-asan that is
 * the fuzzer's check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_pcap_one
#include "fuzz/fuzz_pcap.c"

#include "fuzz_replay.h"

static void test_regressions(void **state)
{
	int n = replay_dir("fuzz/regressions/pcap", fuzz_pcap_one, NULL);
	assert_true(n >= 0);
}

static void test_fixtures(void **state)
{
	static const char *const ext[] = {".pcap", ".pcapng", NULL};
	int n = replay_dir("tests/fixtures", fuzz_pcap_one, ext);
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

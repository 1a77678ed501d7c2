/*
 * fuzz_packets' regressions (fuzz/regressions/packets/), and a few inputs
 * written here: packet lists through the whole analyzer pipeline (see
 * fuzz/fuzz_packets.c).  Under make unit-asan that is the fuzzer's check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_packets_one
#include "fuzz/fuzz_packets.c"

#include "fuzz_replay.h"

static void test_regressions(void **state)
{
	int n = replay_dir("fuzz/regressions/packets", fuzz_packets_one, NULL);
	assert_true(n >= 0);
}

/* Empty, a configuration byte alone, a packet cut in its record header,
 * and a raw IPv4 TCP segment on the default port with a message start,
 * under every configuration byte. */
static void test_edges(void **state)
{
	static const uint8_t seg[] = {
		/* link 5 (DLT_RAW), step 0, length 44 */
		5, 0, 0, 0, 44,
		0x45, 0, 0, 44, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x9c, 0x40, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
		0, 2, '{', '}',
	};
	uint8_t in[1 + sizeof seg];
	fuzz_packets_one(in, 0);
	for (int c = 0; c < 256; c++) {
		in[0] = (uint8_t)c;
		memcpy(in + 1, seg, sizeof seg);
		fuzz_packets_one(in, 1);
		fuzz_packets_one(in, 4);
		fuzz_packets_one(in, sizeof in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regressions),
		cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

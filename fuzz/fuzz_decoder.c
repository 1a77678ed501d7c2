/*
 * libFuzzer target for the decoder.  The first two input bytes choose the
 * configuration and the split points; the rest is the stream.  Invariants:
 * no crash or out-of-bounds read (ASan), no undefined behaviour (UBSan),
 * and the same events whether the stream is fed whole, split at pseudo-
 * random points, or one byte at a time.
 *
 * Built with -DFUZZ_FAST (fuzz_decoder_fast) it skips the byte-at-a-time
 * feed, the costly one: the whole input against two random splits (pieces
 * of up to 96 bytes, and of up to 6), for several times the executions a
 * second.  The every-split check stays in
 * fuzz_decoder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const char *a, const char *b, const struct evlog *l, const char *how)
{
	if (strcmp(a, b)) {
		fprintf(stderr, "events differ when fed %s\n--- whole\n%s--- %s\n%s", how, a, how, b);
		abort();
	}
	if (l->n_bugs) {
		fprintf(stderr, "%s", b);
		abort();
	}
}

/* Up to 64 cut points, steps of 0 to step - 1 bytes, from xorshift
 * state x. */
static size_t random_cuts(uint32_t x, uint32_t step, size_t size, size_t cuts[64])
{
	size_t n = 0, at = 0;
	while (n < 64 && size) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		at += x % step;
		if (at > size)
			break;
		cuts[n++] = at;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint32_t seed = (uint32_t)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	jm_decoder_config cfg = {
		.stream_content = seed & 1,
		.max_content = (seed & 2) ? 64 : 0,
		.no_content_check = (seed & 4) != 0,
	};
	char *whole = evlog_run(data, size, NULL, 0, &cfg, NULL);

	size_t cuts[64];
	size_t n = random_cuts(seed * 2654435761u + 1, 97, size, cuts);
	struct evlog l = {0};
	char *split = evlog_run(data, size, cuts, n, &cfg, &l);
	check_same(whole, split, &l, "in random pieces");
	free(split);
#ifdef FUZZ_FAST
	/* and in small pieces, up to 6 bytes, over the first few hundred */
	n = random_cuts(seed * 40503u + 7, 7, size, cuts);
	split = evlog_run(data, size, cuts, n, &cfg, &l);
	check_same(whole, split, &l, "in small random pieces");
	free(split);
#endif

#ifdef FUZZ_FAST
	if (0) {
#else
	if (size <= 2048) {
#endif
		size_t *every = malloc((size ? size : 1) * sizeof *every);
		for (size_t i = 0; i < size; i++)
			every[i] = i;
		char *bytes = evlog_run(data, size, every, size, &cfg, &l);
		check_same(whole, bytes, &l, "a byte at a time");
		free(bytes);
		free(every);
	}
	free(whole);
	return 0;
}

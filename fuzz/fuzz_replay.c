/*
 * libFuzzer target: a whole capture file, pcap or pcapng, read the way
 * `jmsg replay` reads it (replay/conv_load.c rp_load_pcap: the analyzer's
 * engine into conversations), with requests kept as captured or
 * re-encoded (the input's size picks), a small memory cap, then every
 * conversation described as replay's report describes it.
 * Checks beyond the sanitizers: a refused file says why; every message
 * kept, request or response, re-encoded or not, is exactly one whole jmsg
 * message, with no error that stops the codec (replay sends the requests
 * as they are kept, and compares the responses byte for byte; a
 * warning, such as a content-encoding it cannot check, is kept as it
 * was captured).
 *
 * Seeds: those of fuzz_pcap ($(BUILD)/fuzz/seeds-pcap).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/messages.h"
#include "replay/conv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pcap_fd = -1;
static char pcap_path[64];

static void check_message(const rp_msg *m)
{
	fz_messages r = fz_decode(m->bytes, m->len);
	if (r.errors || !r.whole || r.messages != 1) {
		fprintf(stderr, "replay kept %zu bytes that are %zu whole messages, not one%s%s\n", m->len,
			r.messages, r.first[0] ? ": " : "", r.first);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (pcap_fd < 0) {
		pcap_fd = memfd_create("fuzz_replay", 0);
		if (pcap_fd < 0)
			abort();
		snprintf(pcap_path, sizeof pcap_path, "/proc/self/fd/%d", pcap_fd);
	}
	if (ftruncate(pcap_fd, 0) < 0 || pwrite(pcap_fd, data, size, 0) != (ssize_t)size)
		abort();

	const uint16_t ports[] = {65432, 7342};
	rp_load_config cfg = {.ports = ports,
			      .n_ports = 2,
			      .raw = size & 1,
			      .max_content = 4096,
			      .memcap = 1 << 20};
	rp_capture c;
	char err[256] = "";
	if (rp_load_pcap(&c, pcap_path, &cfg, err, sizeof err) < 0) {
		if (!err[0])
			abort(); /* a refusal names its reason */
		rp_capture_free(&c); /* as jmsg replay does */
		return 0;
	}
	for (size_t i = 0; i < c.n; i++) {
		const rp_stream *s = &c.s[i];
		char line[256];
		rp_stream_describe_cut(s, line, sizeof line);
		(void)rp_stream_requests(s);
		(void)rp_stream_known_responses(s);
		(void)rp_stream_incomplete(s);
		for (int dir = RP_REQ; dir <= RP_RESP; dir++)
			for (size_t k = 0; k < s->n[dir]; k++)
				check_message(&s->msg[dir][k]);
	}
	rp_capture_free(&c);
	return 0;
}

/*
 * libFuzzer target: a sequence of packets through the analyzer's whole
 * pipeline, as `jmsg analyze -r` runs it for each packet of a file: link
 * layer, IP and TCP (cap_parse), the flow table, reassembly, decoding
 * (an_engine), stall tracking, and two reports, text and JSON, both
 * written to /dev/null.  The limits are small (memcap, stream memcap,
 * streams, hex), so the paths that drop and evict run too.
 *
 * Input: one configuration byte, then packets, each
 *     u8  link type (index into links[] below, modulo its length)
 *     u16 time step since the last packet, in milliseconds (big-endian;
 *         0xffff steps back one second: out-of-order capture times)
 *     u16 captured length (big-endian), then that many bytes
 *         (fewer if the input ends first); the wire length is the
 *         captured length plus the configuration byte's top bits.
 * fuzz/mkpackets.py turns pcap files into this form (the seed corpus
 * fuzz/packets-seeds from tests/fixtures).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/report.h"
#include "stall/stall.h"
#include "tcp/capture.h"
#include "tcp/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DLT_EN10MB, DLT_NULL, DLT_LOOP, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW
 * (Linux's 12 and the 101 of files), DLT_IPV4, DLT_IPV6, and one the
 * reader does not know. */
static const int links[] = {1, 0, 108, 113, 276, 12, 101, 228, 229, 147};

static FILE *null_out(void)
{
	static FILE *f;
	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

struct pipe {
	an_engine *e;
	report text, json;
	stall_cli stall;
	tf_clock clock_text, clock_json;
	cap_stats cs;
};

static void stall_seg(void *user, flow *f, an_dir dir, const cap_segment *seg)
{
	stall_cli_segment(user, f, dir, seg);
}

static void config(an_config *cfg, uint8_t c)
{
	an_config_defaults(cfg);
	cfg->memcap = 64 * 1024;
	cfg->stream_memcap = 16 * 1024;
	cfg->max_streams = 8;
	cfg->max_hex = 32;
	cfg->idle_timeout = (c & 1) ? 2 : 300;
	cfg->max_content = (c & 2) ? 100 : 0;
	cfg->no_heuristic = (c & 4) != 0;
	if (c & 8) { /* ports other than the spec's default */
		cfg->ports[0] = 80;
		cfg->ports[1] = 443;
		cfg->n_ports = 2;
	}
}

static int pipe_open(struct pipe *p, const an_config *cfg, uint8_t c)
{
	char err[200];
	memset(p, 0, sizeof *p);
	p->clock_text.mode = (tf_mode)((c >> 4) & 3);
	report_init(&p->text, null_out(), false, false, &p->clock_text, cfg->max_hex);
	report_init(&p->json, null_out(), true, false, &p->clock_json, cfg->max_hex);
	an_sink st, sj, ss = {.user = &p->stall, .segment = stall_seg};
	report_sink(&p->text, &st);
	report_sink(&p->json, &sj);
	stall_cli_init(&p->stall);
	stall_cli_option(&p->stall, "stall-ms", "50", err, sizeof err);
	p->e = an_engine_new(cfg, &st);
	if (!p->e || an_engine_listen(p->e, &sj) < 0 || an_engine_listen(p->e, &ss) < 0)
		return -1;
	return stall_cli_start(&p->stall, p->e, false, cfg, false, null_out(), &p->clock_text, err,
			       sizeof err);
}

static void pipe_packet(struct pipe *p, int dlt, const uint8_t *b, uint32_t caplen,
			uint32_t wirelen, int64_t ns)
{
	double ts = (double)ns / 1e9;
	uint64_t frame = ++p->cs.packets;
	p->cs.bytes += wirelen;
	if (!p->clock_text.have_t0) {
		p->clock_text.have_t0 = p->clock_json.have_t0 = true;
		p->clock_text.t0 = p->clock_json.t0 = ns;
	}
	an_engine_tick(p->e, ts);
	stall_cli_tick(&p->stall, ts);
	cap_segment s;
	cap_result r = cap_parse(dlt, b, caplen, wirelen, &s);
	if (r == CAP_TCP) {
		p->cs.tcp++;
		s.ts = ts;
		s.ts_ns = ns;
		s.frame = frame;
		an_engine_segment(p->e, &s);
	} else if (r == CAP_OTHER) {
		p->cs.other++;
	} else {
		p->cs.short_frames++;
	}
}

static void pipe_close(struct pipe *p)
{
	char err[200];
	an_stats as;
	stall_cli_flush(&p->stall);
	an_engine_finish(p->e);
	stall_cli_finish(&p->stall, err, sizeof err);
	an_engine_stats(p->e, &as);
	report_summary(&p->text, &p->cs, &as);
	report_summary(&p->json, &p->cs, &as);
	an_engine_free(p->e);
	stall_cli_free(&p->stall);
	report_free(&p->text);
	report_free(&p->json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t c = data[0];
	size_t at = 1;
	an_config cfg;
	config(&cfg, c);
	struct pipe p;
	if (pipe_open(&p, &cfg, c) < 0)
		abort(); /* no memory for an empty engine: not the input's doing */
	{
		int64_t ns = 1700000000LL * 1000000000;
		while (size - at >= 5) {
			int dlt = links[data[at] % (sizeof links / sizeof links[0])];
			uint16_t step = (uint16_t)(data[at + 1] << 8 | data[at + 2]);
			uint32_t len = (uint32_t)(data[at + 3] << 8 | data[at + 4]);
			at += 5;
			if (len > size - at)
				len = (uint32_t)(size - at);
			ns += step == 0xffff ? -1000000000LL : (int64_t)step * 1000000;
			/* A frame of its own, so ASan sees a read past its end. */
			uint8_t *frame = malloc(len ? len : 1);
			memcpy(frame, data + at, len);
			pipe_packet(&p, dlt, frame, len, len + (c >> 6), ns);
			free(frame);
			at += len;
		}
	}
	pipe_close(&p);
	return 0;
}

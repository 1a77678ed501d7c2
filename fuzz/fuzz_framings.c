/*
 * libFuzzer target for the framing codec (proto/framing_codec.h).  The first
 * input byte chooses a framing (the four of spec/framings/, variants with
 * small limits, raw), the second the split points; the rest is a script:
 * byte 0xff then N is a gap of N bytes, 0xfe the other side sending (raw's
 * boundary), any other byte a byte of the stream.  Invariants: no crash, no
 * out-of-bounds read (ASan), no undefined behaviour (UBSan), the same events
 * whether the stream is fed whole, split at pseudo-random points or one
 * byte at a time, and every payload the encoder accepts decodes back to
 * exactly itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing_codec.h"
#include "jmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jmf_framing framing(unsigned pick)
{
	jmf_framing f;
	memset(&f, 0, sizeof f);
	switch (pick % 10) {
	case 0: f.kind = JMF_LENGTH_PREFIX; f.width = 5; f.max_payload = 99999; break;
	case 1: f.kind = JMF_LENGTH_PREFIX; f.width = 2; f.max_payload = 5; break;
	case 2: f.kind = JMF_FIXED; f.size = 30; f.pad = '#'; f.max_payload = 30; break;
	case 3: f.kind = JMF_FIXED; f.size = 3; f.pad = '#'; f.max_payload = 3; break;
	case 4: f.kind = JMF_DELIMITED; f.max_payload = 65536; break;
	case 5: f.kind = JMF_DELIMITED; f.max_payload = 4; break;
	case 6: f.kind = JMF_DELIMITED; f.max_payload = 3; break;
	case 7: f.kind = JMF_CLOSE; f.max_payload = 16777216; break;
	case 8: f.kind = JMF_CLOSE; f.max_payload = 4; break;
	default: f.kind = JMF_RAW; f.max_payload = 3; break;
	}
	if (f.kind == JMF_DELIMITED) {
		const char *d = pick % 10 == 6 ? "##" : "#*#";
		f.delim_len = strlen(d);
		memcpy(f.delim, d, f.delim_len);
	}
	snprintf(f.name, sizeof f.name, "fuzz%u", pick % 10);
	return f;
}

static int log_event(void *user, const jmf_event *ev)
{
	jm_buf *log = user;
	jm_buf_printf(log, "%d @%llu m%llu n%llu e%d c%d ", (int)ev->type,
		      (unsigned long long)ev->offset, (unsigned long long)ev->msg_offset,
		      (unsigned long long)ev->length, (int)ev->error, ev->can_continue);
	for (size_t i = 0; i < ev->payload_len; i++)
		jm_buf_printf(log, "%02x", ev->payload[i]);
	jm_buf_append(log, "\n", 1);
	return JM_CB_OK;
}

/* Runs the script; a run of stream bytes is fed in pieces of at most `step`
 * bytes (0: whole), or split where the xorshift state says (step 1 << 30). */
static char *run(const jmf_framing *f, const uint8_t *s, size_t n, size_t step, uint32_t seed)
{
	jm_buf log = {0};
	jmf_decoder d;
	jmf_decoder_init(&d, f, log_event, &log);
	size_t i = 0;
	while (i < n) {
		if (s[i] == 0xff) {
			jmf_decoder_gap(&d, i + 1 < n ? s[i + 1] : 0);
			i += 2;
			continue;
		}
		if (s[i] == 0xfe) {
			jmf_decoder_boundary(&d);
			i++;
			continue;
		}
		size_t end = i;
		while (end < n && s[end] < 0xfe)
			end++;
		while (i < end) {
			size_t k = end - i;
			if (step == 1u << 30) {
				seed ^= seed << 13;
				seed ^= seed >> 17;
				seed ^= seed << 5;
				k = 1 + seed % k;
			} else if (step && step < k) {
				k = step;
			}
			uint8_t *piece = malloc(k);
			memcpy(piece, s + i, k);
			jmf_decoder_feed(&d, piece, k);
			free(piece);
			i += k;
		}
	}
	jm_buf_printf(&log, "end %d\n", jmf_decoder_finish(&d));
	jmf_decoder_free(&d);
	jm_buf_append(&log, "", 1);
	return (char *)log.data;
}

static void check_round_trip(const jmf_framing *f, const uint8_t *p, size_t n)
{
	jm_buf wire = {0};
	if (jmf_encode(f, &wire, p, n, NULL, 0) != JMF_ENC_OK) {
		jm_buf_free(&wire);
		return;
	}
	jm_buf log = {0};
	jmf_decoder d;
	jmf_decoder_init(&d, f, log_event, &log);
	jmf_decoder_feed(&d, wire.data, wire.len);
	jm_buf_printf(&log, "end %d\n", jmf_decoder_finish(&d));
	jmf_decoder_free(&d);
	jm_buf want = {0};
	jm_buf_printf(&want, "%d @0 m0 n%zu e0 c0 ", (int)JMF_EV_MESSAGE, wire.len);
	for (size_t i = 0; i < n; i++)
		jm_buf_printf(&want, "%02x", p[i]);
	jm_buf_printf(&want, "\nend 1\n");
	if (log.len != want.len || memcmp(log.data, want.data, log.len)) {
		fprintf(stderr, "framing %s: a payload of %zu bytes does not decode back:\n%.*s---\n%.*s", f->name, n,
			(int)log.len, (const char *)log.data, (int)want.len, (const char *)want.data);
		abort();
	}
	jm_buf_free(&wire);
	jm_buf_free(&log);
	jm_buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	jmf_framing f = framing(data[0]);
	uint32_t seed = data[1] | 0x100u;
	data += 2;
	size -= 2;
	char *whole = run(&f, data, size, 0, seed);
	const size_t steps[] = {1, 1u << 30};
	for (size_t k = 0; k < 2; k++) {
		char *other = run(&f, data, size, steps[k], seed);
		if (strcmp(whole, other)) {
			fprintf(stderr, "framing %s: events differ when split (%zu)\n--- whole\n%s--- split\n%s",
				f.name, steps[k], whole, other);
			abort();
		}
		free(other);
	}
	free(whole);
	check_round_trip(&f, data, size);
	return 0;
}

/*
 * Decoder throughput against a named peer, in one run: jmsg's decoder
 * (framing, UTF-8 and JSON checks of header and content, header fields
 * extracted) versus json-c parsing the same headers and contents into
 * trees (json_tokener_parse_ex), which is what a decoder built on json-c
 * would have to do at the least.
 *
 *   bench_codec [MESSAGES]     prints one line per contender and the ratio
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jmsg.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

struct count {
	uint64_t messages, bytes;
};

static int on_event(void *user, const jm_event *ev)
{
	struct count *c = user;
	if (ev->type == JM_EV_CONTENT)
		c->bytes += ev->len;
	else if (ev->type == JM_EV_MESSAGE)
		c->messages++;
	return JM_CB_OK;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	static const char *contents[] = {
		"{\"action\": \"search\", \"value\": \"morpheus\"}",
		"{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}",
		"{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\xb6\"}",
		"{\"result\": \"\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\"}",
	};
	jm_buf stream = {0};
	for (size_t i = 0; i < n; i++) {
		const char *c = contents[i % 4];
		if (jm_encode(&stream, "text/json", "utf-8", i % 3 ? NULL : "\"connection\": \"keep-alive\"",
			      c, strlen(c))) {
			fprintf(stderr, "bench_codec: out of memory\n");
			return 1;
		}
	}

	/* jmsg: the whole stream in 64 KiB feeds, as a socket or reassembly
	 * would hand it over. */
	struct count got = {0};
	jm_decoder d;
	jm_decoder_init(&d, NULL, on_event, &got);
	double t0 = now();
	for (size_t off = 0; off < stream.len; off += 65536)
		jm_decoder_feed(&d, stream.data + off, stream.len - off < 65536 ? stream.len - off : 65536);
	double t_jmsg = now() - t0;
	jm_decoder_free(&d);
	if (got.messages != n) {
		fprintf(stderr, "bench_codec: decoded %llu of %zu messages\n",
			(unsigned long long)got.messages, n);
		return 1;
	}

	/* json-c: framing done by hand (it has none), header and content each
	 * parsed into a tree and freed. */
	json_tokener *tok = json_tokener_new();
	uint64_t parsed = 0;
	t0 = now();
	for (size_t off = 0; off + 2 <= stream.len;) {
		size_t hl = (size_t)stream.data[off] << 8 | stream.data[off + 1];
		json_tokener_reset(tok);
		json_object *h = json_tokener_parse_ex(tok, (const char *)stream.data + off + 2, (int)hl);
		json_object *cl;
		if (!h || !json_object_object_get_ex(h, "content-length", &cl))
			return 1;
		size_t len = (size_t)json_object_get_int64(cl);
		json_tokener_reset(tok);
		json_object *c = json_tokener_parse_ex(tok, (const char *)stream.data + off + 2 + hl, (int)len);
		if (!c)
			return 1;
		json_object_put(h);
		json_object_put(c);
		off += 2 + hl + len;
		parsed++;
	}
	double t_jsonc = now() - t0;
	json_tokener_free(tok);

	printf("messages %zu, stream %zu bytes\n", n, stream.len);
	printf("jmsg decoder        %8.3f s  %6.0f ns/message  %7.1f MB/s\n", t_jmsg, t_jmsg * 1e9 / n,
	       stream.len / t_jmsg / 1e6);
	printf("json-c (trees)      %8.3f s  %6.0f ns/message  %7.1f MB/s\n", t_jsonc, t_jsonc * 1e9 / n,
	       stream.len / t_jsonc / 1e6);
	printf("ratio jmsg/json-c   %.2fx faster\n", t_jsonc / t_jmsg);
	jm_buf_free(&stream);
	return parsed == n ? 0 : 1;
}

/* Codec unit tests: the tutorial's messages, every split, every error kind,
 * the encoder, limits, resynchronisation, and the fuzzer's regressions. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec_check.h"
#include "fuzz_replay.h"

/* ---------------------------------------------------------------- corpus */

/* The tutorial's messages, byte for byte.  The seed prints them with typos;
 * the lengths are authoritative (a "big" text/json header is 100 bytes,
 * "\x00d"; a "little" one 103, "\x00g"; the client's binary request header
 * 126, "\x00~"; the server's binary response 127, "\x00\x7f"). */
#define HDR_JSON(bo, n) \
	"{\"byteorder\": \"" bo "\", \"content-type\": \"text/json\", " \
	"\"content-encoding\": \"utf-8\", \"content-length\": " #n "}"

static const char REQ_MORPHEUS[] = "\x00\x64" HDR_JSON("big", 41)
	"{\"action\": \"search\", \"value\": \"morpheus\"}";
static const char RESP_MORPHEUS[] = "\x00\x67" HDR_JSON("little", 43)
	"{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}";
static const char REQ_PUPPY[] = "\x00\x64" HDR_JSON("big", 37)
	"{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\xb6\"}";
static const char RESP_PUPPY[] = "\x00\x67" HDR_JSON("little", 37)
	"{\"result\": \"\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\"}";
static const char REQ_BINARY[] = "\x00\x7e"
	"{\"byteorder\": \"little\", \"content-type\": \"binary/custom-client-binary-type\", "
	"\"content-encoding\": \"binary\", \"content-length\": 9}binary\xe2\x98\xba";
static const char RESP_BINARY[] = "\x00\x7f"
	"{\"byteorder\": \"little\", \"content-type\": \"binary/custom-server-binary-type\", "
	"\"content-encoding\": \"binary\", \"content-length\": 37}"
	"First 10 bytes of request: binary\xf0\x9f\x98\x83";

struct sample {
	const char *name;
	const char *bytes;
	size_t len;
	unsigned header_len;
	const char *byteorder, *ctype, *cenc;
	size_t clen;
	const char *content;
	bool json;
};

#define S(b) b, sizeof(b) - 1
static const struct sample samples[] = {
	{"request search morpheus (big)", S(REQ_MORPHEUS), 100, "big", "text/json", "utf-8", 41,
	 "{\"action\": \"search\", \"value\": \"morpheus\"}", true},
	{"response morpheus (little)", S(RESP_MORPHEUS), 103, "little", "text/json", "utf-8", 43,
	 "{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}", true},
	{"request search puppy (big)", S(REQ_PUPPY), 100, "big", "text/json", "utf-8", 37,
	 "{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\xb6\"}", true},
	{"response puppy (little)", S(RESP_PUPPY), 103, "little", "text/json", "utf-8", 37,
	 "{\"result\": \"\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\"}", true},
	{"request binary", S(REQ_BINARY), 126, "little", "binary/custom-client-binary-type",
	 "binary", 9, "binary\xe2\x98\xba", false},
	{"response binary", S(RESP_BINARY), 127, "little", "binary/custom-server-binary-type",
	 "binary", 37, "First 10 bytes of request: binary\xf0\x9f\x98\x83", false},
};
#define N_SAMPLES (sizeof samples / sizeof samples[0])

/* ---------------------------------------------------------------- capture */

struct got {
	int protoheaders, headers, contents, messages, errors;
	unsigned header_len;
	char byteorder[16], ctype[64], cenc[16], connection[32];
	uint64_t clen;
	bool json;
	uint8_t content[256];
	size_t content_len;
	jm_error err;
	uint64_t err_offset;
	bool err_cont;
};

static int got_cb(void *user, const jm_event *ev)
{
	struct got *g = user;
	switch (ev->type) {
	case JM_EV_PROTOHEADER:
		g->protoheaders++;
		g->header_len = ev->header_len;
		break;
	case JM_EV_HEADER:
		g->headers++;
		snprintf(g->byteorder, sizeof g->byteorder, "%s", jm_header_str(ev->header, JM_FIELD_BYTEORDER));
		snprintf(g->ctype, sizeof g->ctype, "%s", jm_header_str(ev->header, JM_FIELD_CONTENT_TYPE));
		snprintf(g->cenc, sizeof g->cenc, "%s", jm_header_str(ev->header, JM_FIELD_CONTENT_ENCODING));
		if (jm_header_str(ev->header, JM_FIELD_CONNECTION))
			snprintf(g->connection, sizeof g->connection, "%s",
				 jm_header_str(ev->header, JM_FIELD_CONNECTION));
		g->clen = ev->header->content_length;
		g->json = ev->header->content_is_json;
		break;
	case JM_EV_CONTENT:
		g->contents++;
		g->content_len = ev->len < sizeof g->content ? ev->len : sizeof g->content;
		memcpy(g->content, ev->data, g->content_len);
		break;
	case JM_EV_CONTENT_CHUNK:
		break;
	case JM_EV_MESSAGE:
		g->messages++;
		break;
	case JM_EV_ERROR:
		if (!g->errors++) {
			g->err = ev->error;
			g->err_offset = ev->offset;
			g->err_cont = ev->can_continue;
		}
		break;
	}
	return JM_CB_OK;
}

static void decode_all(const void *p, size_t n, const jm_decoder_config *cfg, struct got *g,
		       bool *clean)
{
	jm_decoder d;
	memset(g, 0, sizeof *g);
	jm_decoder_init(&d, cfg, got_cb, g);
	jm_decoder_feed(&d, p, n);
	bool c = jm_decoder_finish(&d);
	if (clean)
		*clean = c;
	jm_decoder_free(&d);
}

/* ---------------------------------------------------------------- tests */

static void test_tutorial_messages(void **state)
{
	for (size_t i = 0; i < N_SAMPLES; i++) {
		const struct sample *s = &samples[i];
		struct got g;
		bool clean;
		print_message("  %s\n", s->name);
		assert_int_equal(s->len, 2 + s->header_len + s->clen);
		decode_all(s->bytes, s->len, NULL, &g, &clean);
		assert_true(clean);
		assert_int_equal(g.errors, 0);
		assert_int_equal(g.protoheaders, 1);
		assert_int_equal(g.headers, 1);
		assert_int_equal(g.contents, 1);
		assert_int_equal(g.messages, 1);
		assert_int_equal(g.header_len, s->header_len);
		assert_string_equal(g.byteorder, s->byteorder);
		assert_string_equal(g.ctype, s->ctype);
		assert_string_equal(g.cenc, s->cenc);
		assert_int_equal(g.clen, s->clen);
		assert_int_equal(g.json, s->json);
		assert_int_equal(g.content_len, s->clen);
		assert_memory_equal(g.content, s->content, s->clen);
	}
}

static void test_every_split(void **state)
{
	for (size_t i = 0; i < N_SAMPLES; i++) {
		const struct sample *s = &samples[i];
		for (int mode = 0; mode < 2; mode++) {
			jm_decoder_config cfg = {.stream_content = mode == 1};
			char *whole = evlog_run((const uint8_t *)s->bytes, s->len, NULL, 0, &cfg, NULL);
			assert_non_null(strstr(whole, "M @"));
			for (size_t cut = 0; cut <= s->len; cut++) {
				char *split = evlog_run((const uint8_t *)s->bytes, s->len, &cut, 1, &cfg, NULL);
				assert_string_equal(whole, split);
				free(split);
			}
			/* every pair of cuts, so both cuts can fall inside the protoheader */
			for (size_t a = 0; a <= 4; a++)
				for (size_t b = a; b <= s->len; b++) {
					size_t cuts[2] = {a, b};
					char *split = evlog_run((const uint8_t *)s->bytes, s->len, cuts, 2, &cfg, NULL);
					assert_string_equal(whole, split);
					free(split);
				}
			free(whole);
		}
	}
}

static void test_byte_at_a_time_and_coalesced(void **state)
{
	jm_buf all = {0};
	for (size_t i = 0; i < N_SAMPLES; i++)
		jm_buf_append(&all, samples[i].bytes, samples[i].len);
	size_t *cuts = malloc(all.len * sizeof *cuts);
	for (size_t i = 0; i < all.len; i++)
		cuts[i] = i;
	struct evlog l1, l2;
	char *whole = evlog_run(all.data, all.len, NULL, 0, NULL, &l1);
	char *bytes = evlog_run(all.data, all.len, cuts, all.len, NULL, &l2);
	assert_string_equal(whole, bytes);
	assert_int_equal(l1.n_messages, N_SAMPLES);
	assert_int_equal(l1.n_errors, 0);
	assert_non_null(strstr(whole, "END clean=1"));
	/* Each message starts where the previous ended. */
	size_t off = 0;
	for (size_t i = 0; i < N_SAMPLES; i++) {
		char want[64];
		snprintf(want, sizeof want, "P msg=%zu hl=%u\n", off, samples[i].header_len);
		assert_non_null(strstr(whole, want));
		off += samples[i].len;
	}
	free(whole);
	free(bytes);
	free(cuts);
	jm_buf_free(&all);
}

/* One row per error kind: the bytes, the kind, its offset, whether decoding
 * goes on.  When it does, a good message follows and must decode. */
struct err_case {
	const char *name;
	const char *bytes;
	size_t len;
	jm_error kind;
	uint64_t offset;
	bool cont;
};

/* A decoder allocator with nothing to give: every request fails (what it
 * held is kept, as realloc keeps it); size 0 frees. */
static void *no_memory(void *ctx, void *p, size_t size)
{
	(void)ctx;
	if (!size)
		free(p);
	return NULL;
}

/* The out-of-memory row is decoded with no memory to have. */
static jm_decoder_config err_case_config(const struct err_case *c)
{
	return (jm_decoder_config){
		.max_content = 1 << 20,
		.alloc = c->kind == JM_ERR_OUT_OF_MEMORY ? no_memory : NULL,
	};
}

#define GOOD_HDR(n) HDR_JSON("little", n)
#define PH(n) "\x00" n

static const struct err_case err_cases[] = {
	{"zero-length header", S("\x00\x00{}"), JM_ERR_HEADER_EMPTY, 0, false},
	{"header not UTF-8", S(PH("\x0a") "{\"a\": \"\xff\"}"), JM_ERR_HEADER_NOT_UTF8, 2 + 7, false},
	{"header overlong UTF-8", S(PH("\x0b") "{\"a\": \"\xc0\xaf\"}"), JM_ERR_HEADER_NOT_UTF8, 2 + 7, false},
	/* JSON and UTF-8 are checked in one pass: a JSON fault before a UTF-8
	 * one must still be reported as the UTF-8 fault, as is one outside
	 * any string. */
	{"header not UTF-8 after a JSON fault", S(PH("\x11") "{\"a\" 1, \"b\": \"\xff\"}"),
	 JM_ERR_HEADER_NOT_UTF8, 2 + 14, false},
	{"header not UTF-8 outside a string", S(PH("\x09") "{\"a\": 1}\xc3"), JM_ERR_HEADER_NOT_UTF8,
	 2 + 8, false},
	{"header not UTF-8 in a key", S(PH("\x0a") "{\"\xed\xa0\x80\": 1}"), JM_ERR_HEADER_NOT_UTF8, 2 + 2,
	 false},
	{"header not JSON", S(PH("\x05") "{\"a\":"), JM_ERR_HEADER_NOT_JSON, 2 + 5, false},
	{"header trailing garbage", S(PH("\x03") "{}x"), JM_ERR_HEADER_NOT_JSON, 2 + 2, false},
	{"header single quotes", S(PH("\x08") "{'a': 1}"), JM_ERR_HEADER_NOT_JSON, 2 + 1, false},
	{"header NaN", S(PH("\x0a") "{\"a\": NaN}"), JM_ERR_HEADER_NOT_JSON, 2 + 6, false},
	{"header not an object", S(PH("\x07") "[1, 2] "), JM_ERR_HEADER_NOT_OBJECT, 2, false},
	{"header a string", S(PH("\x03") "\"x\""), JM_ERR_HEADER_NOT_OBJECT, 2, false},
	{"missing content-length", S(PH("\x47")
	 "{\"byteorder\": \"big\", \"content-type\": \"x\", \"content-encoding\": \"binary\"}"),
	 JM_ERR_HEADER_MISSING_FIELD, 2, false},
	{"missing byteorder, length known", S(PH("\x48")
	 "{\"content-type\": \"x\", \"content-encoding\": \"binary\", \"content-length\": 3}abc"),
	 JM_ERR_HEADER_MISSING_FIELD, 2, true},
	{"content-length a string", S(PH("\x5a")
	 "{\"byteorder\": \"big\", \"content-type\": \"x\", \"content-encoding\": \"b\", \"content-length\": \"41\"}"),
	 JM_ERR_HEADER_FIELD_TYPE, 2 + 85, false},
	{"content-length a float", S(PH("\x5a")
	 "{\"byteorder\": \"big\", \"content-type\": \"x\", \"content-encoding\": \"b\", \"content-length\": 41.0}"),
	 JM_ERR_HEADER_FIELD_TYPE, 2 + 85, false},
	{"content-type a number", S(PH("\x55")
	 "{\"byteorder\": \"big\", \"content-type\": 7, \"content-encoding\": \"b\", \"content-length\": 2}ab"),
	 JM_ERR_HEADER_FIELD_TYPE, 2 + 37, true},
	{"byteorder not little/big", S(PH("\x5a")
	 "{\"byteorder\": \"middle\", \"content-type\": \"x\", \"content-encoding\": \"b\", \"content-length\": 2}ab"),
	 JM_ERR_HEADER_FIELD_VALUE, 2 + 14, true},
	{"connection not a string", S(PH("\x68")
	 "{\"byteorder\": \"big\", \"content-type\": \"x\", \"content-encoding\": \"b\", \"content-length\": 2, \"connection\": 1}ab"),
	 JM_ERR_HEADER_FIELD_TYPE, 2 + 102, true},
	{"negative content-length", S(PH("\x58")
	 "{\"byteorder\": \"big\", \"content-type\": \"x\", \"content-encoding\": \"b\", \"content-length\": -1}"),
	 JM_ERR_CONTENT_LENGTH_NEGATIVE, 2 + 85, false},
	{"content-length over the limit", S(PH("\x61")
	 "{\"byteorder\": \"big\", \"content-type\": \"x\", \"content-encoding\": \"b\", \"content-length\": 99999999999}"),
	 JM_ERR_CONTENT_LENGTH_TOO_LARGE, 2 + 85, true},
	{"text/json content not UTF-8", S(PH("\x66") GOOD_HDR(4) "\"\xfe\"x"),
	 JM_ERR_CONTENT_NOT_UTF8, 2 + 102 + 1, true},
	{"text/json content not JSON", S(PH("\x66") GOOD_HDR(5) "{\"a\"}"),
	 JM_ERR_CONTENT_NOT_JSON, 2 + 102 + 4, true},
	{"text/json content empty", S(PH("\x66") GOOD_HDR(0)),
	 JM_ERR_CONTENT_NOT_JSON, 2 + 102, true},
	{"text/json in latin-1", S(PH("\x68")
	 "{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"latin-1\", \"content-length\": 2}{}"),
	 JM_ERR_CONTENT_ENCODING_UNSUPPORTED, 2 + 73, true},
	{"truncated in protoheader", S("\x00"), JM_ERR_TRUNCATED, 1, false},
	{"truncated in header", S(PH("\x67") "{\"byteorder\""), JM_ERR_TRUNCATED, 2 + 12, false},
	{"truncated in content", S(PH("\x67") GOOD_HDR(43) "{\"res"), JM_ERR_TRUNCATED, 2 + 103 + 5, false},
	{"no memory for the header", S(RESP_MORPHEUS), JM_ERR_OUT_OF_MEMORY, 2, false},
};

static void test_error_kinds(void **state)
{
	bool seen[JM_ERR_COUNT] = {false};
	for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
		const struct err_case *c = &err_cases[i];
		print_message("  %s\n", c->name);
		jm_decoder_config cfg = err_case_config(c);
		struct got g;
		/* The case alone, then the case followed by a good message. */
		decode_all(c->bytes, c->len, &cfg, &g, NULL);
		assert_true(g.errors >= 1);
		assert_string_equal(jm_error_id(g.err), jm_error_id(c->kind));
		assert_int_equal(g.err_offset, c->offset);
		assert_int_equal(g.err_cont, c->cont);
		seen[c->kind] = true;
		if (c->kind == JM_ERR_TRUNCATED)
			continue;
		jm_buf b = {0};
		jm_buf_append(&b, c->bytes, c->len);
		jm_buf_append(&b, RESP_MORPHEUS, sizeof RESP_MORPHEUS - 1);
		/* Over-limit content is skipped: supply it so the next message
		 * starts where the header said. */
		if (c->kind == JM_ERR_CONTENT_LENGTH_TOO_LARGE) {
			cfg.max_content = 50;
			jm_buf_free(&b);
			static const char big[] = PH("\x58")
				"{\"byteorder\": \"big\", \"content-type\": \"x\", \"content-encoding\": \"b\", "
				"\"content-length\": 60}";
			jm_buf_append(&b, big, sizeof big - 1);
			for (int k = 0; k < 60; k++)
				jm_buf_append(&b, "z", 1);
			jm_buf_append(&b, RESP_MORPHEUS, sizeof RESP_MORPHEUS - 1);
		}
		decode_all(b.data, b.len, &cfg, &g, NULL);
		if (c->kind == JM_ERR_CONTENT_ENCODING_UNSUPPORTED)
			assert_int_equal(g.messages, 2); /* a warning: the message stands */
		else
			assert_int_equal(g.messages, c->cont ? 1 : 0);
		if (c->cont)
			assert_memory_equal(g.content, "{\"result\": \"Follow", 18);
		jm_buf_free(&b);
	}
	/* Every error kind the spec names has a row. */
	for (int e = 1; e < JM_ERR_COUNT; e++) {
		if (!seen[e])
			fail_msg("no test for error kind %s", jm_error_id((jm_error)e));
	}
}

static void test_errors_split_independent(void **state)
{
	for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
		const struct err_case *c = &err_cases[i];
		jm_decoder_config cfg = err_case_config(c);
		char *whole = evlog_run((const uint8_t *)c->bytes, c->len, NULL, 0, &cfg, NULL);
		for (size_t cut = 0; cut <= c->len; cut++) {
			char *split = evlog_run((const uint8_t *)c->bytes, c->len, &cut, 1, &cfg, NULL);
			assert_string_equal(whole, split);
			free(split);
		}
		free(whole);
	}
}

static void test_limit_before_allocation(void **state)
{
	/* A 2^60-byte content-length with only the header fed: the error comes
	 * at once and nothing of that size is allocated. */
	static const char h[] = PH("\x69")
		"{\"byteorder\": \"big\", \"content-type\": \"x\", \"content-encoding\": \"b\", "
		"\"content-length\": 1152921504606846976}";
	struct got g = {0};
	jm_decoder d;
	jm_decoder_config cfg = {.max_content = 1000};
	jm_decoder_init(&d, &cfg, got_cb, &g);
	assert_int_equal(jm_decoder_feed(&d, (const uint8_t *)h, sizeof h - 1), sizeof h - 1);
	assert_int_equal(g.errors, 1);
	assert_int_equal(g.err, JM_ERR_CONTENT_LENGTH_TOO_LARGE);
	assert_true(g.err_cont);
	assert_int_equal(d.buf_cap, 0);
	assert_int_equal(d.state, JM_DS_SKIP);
	jm_decoder_free(&d);

	/* A number too large for 64 bits is over any limit, not a crash. */
	static const char h2[] = PH("\x74")
		"{\"byteorder\": \"big\", \"content-type\": \"x\", \"content-encoding\": \"b\", "
		"\"content-length\": 123456789012345678901234567890}";
	decode_all(h2, sizeof h2 - 1, NULL, &g, NULL);
	assert_int_equal(g.err, JM_ERR_CONTENT_LENGTH_TOO_LARGE);

	/* Content arriving in pieces is held in a buffer that never grows past
	 * the content-length. */
	jm_buf m = {0};
	static const uint8_t blob[5000] = {1};
	assert_int_equal(jm_encode(&m, "binary/x", "binary", NULL, blob, sizeof blob), 0);
	jm_decoder_init(&d, NULL, got_cb, &g);
	memset(&g, 0, sizeof g);
	for (size_t i = 0; i < m.len; i += 7)
		jm_decoder_feed(&d, m.data + i, m.len - i < 7 ? m.len - i : 7);
	assert_int_equal(g.messages, 1);
	assert_true(d.buf_cap <= sizeof blob);
	jm_decoder_free(&d);
	jm_buf_free(&m);
}

/* ---------------------------------------------------------------- limits
 *
 * Each limit at its value and one past it: content-length == max_content
 * is a message; max_content + 1 is content_length_too_large, its content
 * skipped exactly, and the next message decoded.  The header's limit is
 * the protoheader's 65535: a valid header of exactly that size decodes,
 * however it is filled (whitespace or an extra member). */

/* A message whose header is `hdr` (sized by the protoheader) and whose
 * content is n bytes of 'c'. */
static void frame(jm_buf *b, const char *hdr, size_t hlen, uint64_t n)
{
	uint8_t ph[2] = {(uint8_t)(hlen >> 8), (uint8_t)hlen};
	assert_true(hlen <= 65535);
	assert_int_equal(jm_buf_append(b, ph, 2), 0);
	assert_int_equal(jm_buf_append(b, hdr, hlen), 0);
	static uint8_t fill[65536];
	memset(fill, 'c', sizeof fill);
	for (uint64_t left = n; left;) {
		size_t k = left < sizeof fill ? (size_t)left : sizeof fill;
		assert_int_equal(jm_buf_append(b, fill, k), 0);
		left -= k;
	}
}

static void binary_header(char *h, size_t cap, uint64_t clen)
{
	snprintf(h, cap,
		 "{\"byteorder\": \"little\", \"content-type\": \"binary/x\", "
		 "\"content-encoding\": \"binary\", \"content-length\": %llu}",
		 (unsigned long long)clen);
}

static void test_content_length_at_limit(void **state)
{
	static const uint64_t limits[] = {1, 50, 4096, 100000};
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		uint64_t max = limits[i];
		for (int stream = 0; stream < 2; stream++) {
			jm_decoder_config cfg = {.max_content = max, .stream_content = stream == 1};
			char h[256];
			struct got g;
			bool clean;
			jm_buf b = {0};
			/* exactly the limit: a message, no error */
			binary_header(h, sizeof h, max);
			frame(&b, h, strlen(h), max);
			binary_header(h, sizeof h, 1);
			frame(&b, h, strlen(h), 1);
			decode_all(b.data, b.len, &cfg, &g, &clean);
			if (g.errors)
				fail_msg("max_content %llu: content-length %llu refused (%s)",
					 (unsigned long long)max, (unsigned long long)max, jm_error_id(g.err));
			assert_true(clean);
			assert_int_equal(g.messages, 2);
			/* one past: refused, skipped, the next message decodes */
			jm_buf_free(&b);
			binary_header(h, sizeof h, max + 1);
			frame(&b, h, strlen(h), max + 1);
			size_t value_at = 2 + (size_t)(strstr(h, "\"content-length\": ") - h) + 18;
			binary_header(h, sizeof h, 1);
			frame(&b, h, strlen(h), 1);
			decode_all(b.data, b.len, &cfg, &g, &clean);
			assert_int_equal(g.errors, 1);
			assert_string_equal(jm_error_id(g.err), "content_length_too_large");
			assert_int_equal(g.err_offset, value_at);
			assert_true(g.err_cont);
			assert_int_equal(g.messages, 1);
			assert_int_equal(g.clen, 1);
			assert_true(clean);
			jm_buf_free(&b);
		}
	}
	/* The default limit (max_content 0), content streamed. */
	jm_decoder_config cfg = {.stream_content = true};
	uint64_t max = JM_SPEC_DEFAULT_MAX_CONTENT_LEN;
	for (int past = 0; past < 2; past++) {
		char h[256];
		binary_header(h, sizeof h, max + (uint64_t)past);
		jm_buf b = {0};
		frame(&b, h, strlen(h), 0);
		struct got g = {0};
		jm_decoder d;
		jm_decoder_init(&d, &cfg, got_cb, &g);
		assert_int_equal(jm_decoder_feed(&d, b.data, b.len), b.len);
		static uint8_t chunk[1 << 16];
		for (uint64_t left = max + (uint64_t)past; left;) {
			size_t k = left < sizeof chunk ? (size_t)left : sizeof chunk;
			assert_int_equal(jm_decoder_feed(&d, chunk, k), k);
			left -= k;
		}
		assert_true(jm_decoder_finish(&d));
		if (!past) {
			if (g.errors)
				fail_msg("default limit: content-length %llu refused (%s)",
					 (unsigned long long)max, jm_error_id(g.err));
			assert_int_equal(g.messages, 1);
			assert_int_equal(g.clen, max);
		} else {
			assert_int_equal(g.errors, 1);
			assert_string_equal(jm_error_id(g.err), "content_length_too_large");
			assert_int_equal(g.messages, 0);
		}
		jm_decoder_free(&d);
		jm_buf_free(&b);
	}
}

/* A valid header of exactly `len` bytes: the binary header, made longer
 * by `how`: 0 spaces after the object, 1 spaces between members, 2 an
 * extra member. */
static char *header_of(size_t len, int how, uint64_t clen)
{
	char base[256];
	binary_header(base, sizeof base, clen);
	size_t bl = strlen(base);
	char *h = malloc(len + 1);
	assert_non_null(h);
	if (how == 0) {
		memcpy(h, base, bl);
		memset(h + bl, ' ', len - bl);
	} else if (how == 1) {
		/* {"byteorder": "little",<spaces> "content-type": ... */
		const char *cut = strchr(base, ',') + 1;
		size_t head = (size_t)(cut - base), pad = len - bl;
		memcpy(h, base, head);
		memset(h + head, ' ', pad);
		memcpy(h + head + pad, cut, bl - head);
	} else {
		/* ..., "pad": "xxx"} */
		static const char key[] = ", \"pad\": \"";
		size_t kl = sizeof key - 1;
		assert_true(len >= bl + kl + 1);
		memcpy(h, base, bl - 1);
		memcpy(h + bl - 1, key, kl);
		size_t x = len - (bl - 1) - kl - 2;
		memset(h + bl - 1 + kl, 'x', x);
		memcpy(h + len - 2, "\"}", 2);
	}
	h[len] = 0;
	return h;
}

static void test_header_at_limit(void **state)
{
	for (int how = 0; how < 3; how++) {
		char *h = header_of(JM_SPEC_MAX_HEADER_LEN, how, 5);
		jm_buf b = {0};
		frame(&b, h, JM_SPEC_MAX_HEADER_LEN, 5);
		jm_buf_append(&b, RESP_MORPHEUS, sizeof RESP_MORPHEUS - 1);
		assert_int_equal(b.data[0], 0xff);
		assert_int_equal(b.data[1], 0xff);
		struct got g;
		bool clean;
		decode_all(b.data, b.len, NULL, &g, &clean);
		if (g.errors)
			fail_msg("a valid 65535-byte header (%s) refused: %s",
				 how == 0 ? "trailing spaces" : how == 1 ? "spaces inside" : "extra member",
				 jm_error_id(g.err));
		assert_true(clean);
		assert_int_equal(g.messages, 2);
		/* The same bytes split everywhere near the limit decode alike. */
		size_t cuts[3] = {1, 2 + 65534, 2 + 65535};
		char *whole = evlog_run(b.data, b.len, NULL, 0, NULL, NULL);
		char *split = evlog_run(b.data, b.len, cuts, 3, NULL, NULL);
		assert_string_equal(whole, split);
		free(whole);
		free(split);
		free(h);
		jm_buf_free(&b);
	}
	/* The least header: 1 byte is framed and read ("7" is JSON, but not an
	 * object); 0 bytes is header_empty. */
	struct got g;
	decode_all("\x00\x01" "7", 3, NULL, &g, NULL);
	assert_int_equal(g.errors, 1);
	assert_string_equal(jm_error_id(g.err), "header_not_object");
	decode_all("\x00\x00", 2, NULL, &g, NULL);
	assert_int_equal(g.errors, 1);
	assert_string_equal(jm_error_id(g.err), "header_empty");
	/* Nesting inside a header: the spec's depth limit, at it and one past
	 * (the header object is the first level). */
	for (int past = 0; past < 2; past++) {
		int depth = JM_SPEC_MAX_JSON_DEPTH + past;
		char base[256];
		binary_header(base, sizeof base, 0);
		jm_buf hb = {0};
		jm_buf_append(&hb, base, strlen(base) - 1);
		jm_buf_append(&hb, ", \"deep\": ", 10);
		for (int i = 1; i < depth; i++)
			jm_buf_append(&hb, "[", 1);
		for (int i = 1; i < depth; i++)
			jm_buf_append(&hb, "]", 1);
		jm_buf_append(&hb, "}", 1);
		jm_buf b = {0};
		frame(&b, (const char *)hb.data, hb.len, 0);
		decode_all(b.data, b.len, NULL, &g, NULL);
		if (!past) {
			if (g.errors)
				fail_msg("header nested %d deep refused: %s", depth, jm_error_id(g.err));
			assert_int_equal(g.messages, 1);
		} else {
			assert_int_equal(g.errors, 1);
			assert_string_equal(jm_error_id(g.err), "header_not_json");
			assert_int_equal(g.messages, 0);
		}
		jm_buf_free(&hb);
		jm_buf_free(&b);
	}
}

static void test_encoder_round_trip(void **state)
{
	struct {
		const char *ctype, *cenc, *extra;
		const char *content;
		size_t len;
	} rows[] = {
		{"text/json", "utf-8", NULL, "{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}", 43},
		{"binary/custom-client-binary-type", "binary", NULL, "binary\xe2\x98\xba", 9},
		{"binary/x", "binary", "\"connection\": \"keep-alive\"", "", 0},
		{"text/\"odd\"\n", "utf-8", NULL, "\x00\x01\xff", 3},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		jm_buf b = {0};
		assert_int_equal(jm_encode(&b, rows[i].ctype, rows[i].cenc, rows[i].extra, rows[i].content,
					   rows[i].len), 0);
		struct got g;
		bool clean;
		decode_all(b.data, b.len, NULL, &g, &clean);
		assert_true(clean);
		assert_int_equal(g.errors, 0);
		assert_int_equal(g.messages, 1);
		assert_string_equal(g.ctype, rows[i].ctype);
		assert_string_equal(g.cenc, rows[i].cenc);
		assert_string_equal(g.byteorder, jm_host_byteorder());
		assert_int_equal(g.clen, rows[i].len);
		assert_memory_equal(g.content, rows[i].content, rows[i].len);
		if (rows[i].extra)
			assert_string_equal(g.connection, "keep-alive");
		jm_buf_free(&b);
	}
	/* The tutorial's response, byte for byte (on a little-endian host). */
	if (!strcmp(jm_host_byteorder(), "little")) {
		jm_buf b = {0};
		assert_int_equal(jm_encode(&b, "text/json", "utf-8", NULL, samples[1].content, 43), 0);
		assert_int_equal(b.len, sizeof RESP_MORPHEUS - 1);
		assert_memory_equal(b.data, RESP_MORPHEUS, b.len);
		jm_buf_free(&b);
	}
}

static void test_encoder_header_limit(void **state)
{
	/* Find the padding that makes the header exactly 65535 bytes. */
	jm_buf probe = {0};
	assert_int_equal(jm_encode(&probe, "binary/x", "binary", "\"pad\": \"\"", "ab", 2), 0);
	size_t base = (size_t)probe.data[0] << 8 | probe.data[1];
	jm_buf_free(&probe);
	size_t pad = 65535 - base;
	char *extra = malloc(pad + 16);
	memcpy(extra, "\"pad\": \"", 8);
	memset(extra + 8, 'x', pad);
	strcpy(extra + 8 + pad, "\"");
	jm_buf b = {0};
	jm_buf_append(&b, "keep", 4); /* encoding appends after what is there */
	assert_int_equal(jm_encode(&b, "binary/x", "binary", extra, "ab", 2), 0);
	assert_int_equal(b.data[4], 0xff);
	assert_int_equal(b.data[5], 0xff);
	struct got g;
	decode_all(b.data + 4, b.len - 4, NULL, &g, NULL);
	assert_int_equal(g.errors, 0);
	assert_int_equal(g.messages, 1);
	assert_int_equal(g.header_len, 65535);
	/* One byte more does not fit, and leaves the buffer as it was. */
	size_t before = b.len;
	memset(extra + 8, 'x', pad + 1);
	strcpy(extra + 8 + pad + 1, "\"");
	assert_int_equal(jm_encode(&b, "binary/x", "binary", extra, "ab", 2), -1);
	assert_int_equal(b.len, before);
	free(extra);
	jm_buf_free(&b);
}

static void test_duplicate_keys_last_wins(void **state)
{
	static const char m[] = PH("\x82")
		"{\"byteorder\": \"big\", \"content-type\": \"a/b\", \"content-encoding\": \"binary\", "
		"\"content-length\": 99, \"content-length\": 2, \"x\\u00e9\": 1}ok";
	struct got g;
	decode_all(m, sizeof m - 1, NULL, &g, NULL);
	assert_int_equal(g.errors, 0);
	assert_int_equal(g.clen, 2);
	assert_memory_equal(g.content, "ok", 2);
}

static void test_escaped_field_values(void **state)
{
	/* "text\/json" is text/json; a \u escape in a key still names it. */
	static const char m[] = PH("\x69")
		"{\"byteorder\": \"big\", \"content-type\": \"text\\/json\", \"cont\\u0065nt-encoding\": \"utf-8\", "
		"\"content-length\": 2}{}";
	struct got g;
	decode_all(m, sizeof m - 1, NULL, &g, NULL);
	assert_int_equal(g.errors, 0);
	assert_string_equal(g.ctype, "text/json");
	assert_true(g.json);
	assert_int_equal(g.messages, 1);
}

static int stop_cb(void *user, const jm_event *ev)
{
	(*(int *)user)++;
	return ev->type == JM_EV_HEADER ? JM_CB_STOP : JM_CB_OK;
}

static void test_callback_stop(void **state)
{
	int n = 0;
	jm_decoder d;
	jm_decoder_init(&d, NULL, stop_cb, &n);
	size_t used = jm_decoder_feed(&d, (const uint8_t *)RESP_MORPHEUS, sizeof RESP_MORPHEUS - 1);
	assert_int_equal(used, 2 + 103);
	assert_int_equal(n, 2);
	assert_true(jm_decoder_failed(&d));
	assert_int_equal(jm_decoder_feed(&d, (const uint8_t *)"x", 1), 0);
	assert_false(jm_decoder_finish(&d));
	jm_decoder_free(&d);
}

static void test_reset_and_boundary(void **state)
{
	/* Garbage, then a message: the boundary finder lands on the message,
	 * passing over a protoheader whose complete header is not JSON. */
	jm_buf b = {0};
	jm_buf_append(&b, "\x01{x}\x00\x05{\"a\"x}garbage", 20);
	size_t at = b.len;
	jm_buf_append(&b, REQ_BINARY, sizeof REQ_BINARY - 1);
	assert_int_equal(jm_find_boundary(b.data, b.len), at);
	assert_int_equal(jm_find_boundary((const uint8_t *)"no", 2), 2);
	assert_int_equal(jm_find_boundary((const uint8_t *)"\x00\x01{", 3), 3); /* length 1 is too short */
	/* A stream picked up inside a request: the tail of its header, its
	 * JSON content, then the next message.  '"}' and '1}' before a '{"'
	 * look like protoheaders (0x227d, 0x317d); the bytes after them are
	 * not the start of a header of that length, so they are passed over. */
	jm_buf tail = {0};
	static const char t1[] = "ength\": 41}{\"action\": \"search\", \"value\": \"x\"}";
	jm_buf_append(&tail, t1, sizeof t1 - 1);
	size_t next = tail.len;
	jm_buf_append(&tail, REQ_MORPHEUS, 40); /* the next message, cut short */
	assert_int_equal(jm_find_boundary(tail.data, tail.len), next);
	jm_buf_free(&tail);

	struct got g = {0};
	jm_decoder d;
	jm_decoder_init(&d, NULL, got_cb, &g);
	jm_decoder_feed(&d, b.data, 5); /* the garbage starts a bogus message */
	jm_decoder_reset(&d, 1000 + at);
	jm_decoder_feed(&d, b.data + at, b.len - at);
	assert_true(jm_decoder_finish(&d));
	assert_int_equal(g.messages, 1);
	assert_string_equal(g.ctype, "binary/custom-client-binary-type");
	jm_decoder_free(&d);
	jm_buf_free(&b);
}

static void test_json_validator(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} rows[] = {
		{"{}", true}, {" [1, -0, 2.5e-3, true, false, null, \"\\u00e9\\n\"] ", true},
		{"\"\xf0\x9f\x90\xb0\"", true}, {"0", true}, {"-", false}, {"01", false},
		{"1.", false}, {"[1,]", false}, {"{\"a\" 1}", false}, {"\"\\x\"", false},
		{"\"\t\"", false}, {"nul", false}, {"[1] [2]", false}, {"", false}, {"Infinity", false},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		size_t at;
		const char *why;
		bool ok = jm_json_valid(rows[i].s, strlen(rows[i].s), &at, &why);
		if (ok != rows[i].ok)
			fail_msg("%s: expected %s", rows[i].s, rows[i].ok ? "valid" : "invalid");
	}
	/* Depth: exactly the limit passes, one more fails. */
	char deep[2 * JM_SPEC_MAX_JSON_DEPTH + 4];
	size_t n = 0;
	for (int i = 0; i < JM_SPEC_MAX_JSON_DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i < JM_SPEC_MAX_JSON_DEPTH; i++)
		deep[n++] = ']';
	assert_true(jm_json_valid(deep, n, NULL, NULL));
	memmove(deep + 1, deep, n);
	deep[0] = '[';
	deep[n + 1] = ']';
	assert_false(jm_json_valid(deep, n + 2, NULL, NULL));
}

static void test_json_quote_compact(void **state)
{
	jm_buf b = {0};
	jm_json_quote(&b, "a\"\\\n\x01\xf0\x9f\x90\xb0\xff", 10);
	jm_buf_append(&b, "", 1);
	assert_string_equal((char *)b.data, "\"a\\\"\\\\\\n\\u0001\xf0\x9f\x90\xb0\\u00ff\"");
	assert_true(jm_json_valid((char *)b.data, b.len - 1, NULL, NULL));
	jm_buf_free(&b);
	const char *src = "{ \"a b\" : [ 1 , \"x \\\" y\" ] }";
	jm_json_compact(&b, src, strlen(src));
	jm_buf_append(&b, "", 1);
	assert_string_equal((char *)b.data, "{\"a b\":[1,\"x \\\" y\"]}");
	jm_buf_free(&b);
}

static void test_utf8_validator(void **state)
{
	static const struct {
		const char *s;
		size_t bad; /* (size_t)-1: valid */
	} rows[] = {
		{"plain ascii, long enough for the fast path", (size_t)-1},
		{"\xf0\x9f\x90\xb0 rabbit", (size_t)-1},
		{"abcdefgh\xed\xa0\x80", 8},     /* surrogate */
		{"\xf4\x90\x80\x80", 0},          /* > U+10FFFF */
		{"ok\xe2\x98", 2},                /* cut short */
		{"\xc1\xbf", 0},                  /* overlong */
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		size_t at = 12345;
		bool ok = jm_utf8_valid((const uint8_t *)rows[i].s, strlen(rows[i].s), &at);
		assert_int_equal(ok, rows[i].bad == (size_t)-1);
		if (!ok)
			assert_int_equal(at, rows[i].bad);
	}
}

static void test_spec_tables(void **state)
{
	for (int e = 1; e < JM_ERR_COUNT; e++) {
		assert_int_equal(jm_error_from_id(jm_error_id((jm_error)e)), e);
		assert_non_null(jm_error_text((jm_error)e));
	}
	assert_int_equal(jm_error_from_id("no_such_kind"), JM_ERR_NONE);
	assert_string_equal(jm_field_specs[JM_FIELD_CONTENT_LENGTH].key, "content-length");
	assert_true(jm_field_specs[JM_FIELD_BYTEORDER].required);
	assert_false(jm_field_specs[JM_FIELD_CONNECTION].required);
}

/* One input the fuzzer crashed on, in its format (two bytes of
 * configuration first): the same events whole and byte by byte. */
static int codec_regression(const uint8_t *data, size_t len)
{
	if (len < 2)
		return 0;
	size_t *cuts = malloc((len - 2 + 1) * sizeof *cuts);
	assert_non_null(cuts);
	for (size_t i = 0; i < len - 2; i++)
		cuts[i] = i;
	jm_decoder_config cfg = {.stream_content = data[1] & 1,
				 .max_content = (data[1] & 2) ? 64 : 0,
				 .no_content_check = (data[1] & 4) != 0};
	struct evlog l = {0};
	char *a = evlog_run(data + 2, len - 2, NULL, 0, &cfg, NULL);
	char *b = evlog_run(data + 2, len - 2, cuts, len - 2, &cfg, &l);
	assert_string_equal(a, b);
	assert_int_equal(l.n_bugs, 0);
	free(a);
	free(b);
	free(cuts);
	return 0;
}

/* Every input the fuzzer ever crashed on is kept in fuzz/regressions/ and
 * must decode identically whole and byte by byte.  Not finding them is a
 * failure, not a pass: the test would prove nothing. */
static void test_fuzz_regressions(void **state)
{
	int n = replay_dir("fuzz/regressions", codec_regression, NULL);
	print_message("  %d regression input(s) in fuzz/regressions\n", n);
	if (n <= 0)
		fail_msg("fuzz/regressions holds no regression inputs, or was not found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tutorial_messages),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_at_a_time_and_coalesced),
		cmocka_unit_test(test_error_kinds),
		cmocka_unit_test(test_errors_split_independent),
		cmocka_unit_test(test_limit_before_allocation),
		cmocka_unit_test(test_content_length_at_limit),
		cmocka_unit_test(test_header_at_limit),
		cmocka_unit_test(test_encoder_round_trip),
		cmocka_unit_test(test_encoder_header_limit),
		cmocka_unit_test(test_duplicate_keys_last_wins),
		cmocka_unit_test(test_escaped_field_values),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_reset_and_boundary),
		cmocka_unit_test(test_json_validator),
		cmocka_unit_test(test_json_quote_compact),
		cmocka_unit_test(test_utf8_validator),
		cmocka_unit_test(test_spec_tables),
		cmocka_unit_test(test_fuzz_regressions),
	};
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}

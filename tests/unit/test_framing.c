/* The framings of spec/framings/ and raw: the file loader and its checks,
 * the streaming decoder (every framing, every error, gaps and resync, any
 * split of the input giving the same events) and the encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "framing_codec.h"
#include "jmsg.h"

/* ---------------------------------------------------------------- helpers */

static jmf_framing named(const char *name)
{
	jmf_framing f;
	assert_int_equal(jmf_resolve(&f, name, stderr), 0);
	return f;
}

static jmf_framing from_text(const char *json)
{
	jmf_framing f;
	assert_int_equal(jmf_load_text(&f, json, strlen(json), "test", stderr), 0);
	return f;
}

/* Every event as one line of text, so runs can be compared. */
struct flog {
	jm_buf text;
	int stop_at, n;
};

static void flog_printf(struct flog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void flog_printf(struct flog *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	assert_int_equal(jm_buf_vprintf(&l->text, fmt, ap), 0);
	va_end(ap);
}

static int flog_cb(void *user, const jmf_event *ev)
{
	struct flog *l = user;
	switch (ev->type) {
	case JMF_EV_MESSAGE:
		flog_printf(l, "M @%llu len=%llu \"", (unsigned long long)ev->offset,
			    (unsigned long long)ev->length);
		for (size_t i = 0; i < ev->payload_len; i++)
			flog_printf(l, ev->payload[i] >= 0x20 && ev->payload[i] < 0x7f ? "%c" : "\\x%02x",
				    ev->payload[i]);
		flog_printf(l, "\"\n");
		break;
	case JMF_EV_ERROR:
		assert_non_null(ev->detail);
		assert_true(strlen(ev->detail) > 10);
		flog_printf(l, "E %s @%llu msg=%llu cont=%d\n", jmf_error_id(ev->error),
			    (unsigned long long)ev->offset, (unsigned long long)ev->msg_offset,
			    ev->can_continue);
		break;
	case JMF_EV_RESYNC:
		flog_printf(l, "R @%llu skipped=%llu\n", (unsigned long long)ev->offset,
			    (unsigned long long)ev->length);
		break;
	}
	return ++l->n == l->stop_at ? JM_CB_STOP : JM_CB_OK;
}

/* A script of input: bytes, "|" a boundary (the other side sent; raw), and
 * "<gN>" a gap of N bytes.  Bytes are fed in pieces ending at each cut (an
 * index into the bytes), each piece in its own heap block. */
static char *run_cuts(const jmf_framing *f, const char *script, const size_t *cuts, size_t ncuts)
{
	struct flog l = {0};
	jmf_decoder d;
	assert_int_equal(jmf_decoder_init(&d, f, flog_cb, &l), 0);
	size_t nbytes = 0, ci = 0;
	const char *s = script;
	while (*s) {
		if (*s == '|') {
			jmf_decoder_boundary(&d);
			s++;
			continue;
		}
		if (!strncmp(s, "<g", 2)) {
			char *end;
			jmf_decoder_gap(&d, strtoull(s + 2, &end, 10));
			s = end + 1;
			continue;
		}
		size_t run = strcspn(s, "|<");
		size_t at = 0;
		while (at < run) {
			while (ci < ncuts && cuts[ci] <= nbytes + at)
				ci++;
			size_t end = ci < ncuts && cuts[ci] < nbytes + run ? cuts[ci] - nbytes : run;
			uint8_t *piece = malloc(end - at ? end - at : 1);
			memcpy(piece, s + at, end - at);
			size_t used = jmf_decoder_feed(&d, piece, end - at);
			free(piece);
			if (used < end - at && !jmf_decoder_failed(&d))
				flog_printf(&l, "BUG: consumed %zu of %zu\n", used, end - at);
			at = end;
		}
		nbytes += run;
		s += run;
	}
	flog_printf(&l, "END clean=%d\n", jmf_decoder_finish(&d));
	jmf_decoder_free(&d);
	jm_buf_append(&l.text, "", 1);
	return (char *)l.text.data;
}

static char *run(const jmf_framing *f, const char *script)
{
	return run_cuts(f, script, NULL, 0);
}

static size_t script_bytes(const char *s)
{
	size_t n = 0;
	while (*s) {
		if (*s == '|') {
			s++;
		} else if (!strncmp(s, "<g", 2)) {
			s = strchr(s, '>') + 1;
		} else {
			n++;
			s++;
		}
	}
	return n;
}

/* The events of one feed equal those of every split in one place and in two
 * (inputs up to 64 bytes), and of one byte at a time. */
static void check_splits(const jmf_framing *f, const char *script)
{
	char *want = run(f, script);
	size_t n = script_bytes(script);
	for (size_t a = 0; a <= n; a++) {
		for (size_t b = a; b <= (n <= 64 ? n : a); b++) {
			size_t cuts[2] = {a, b};
			char *got = run_cuts(f, script, cuts, 2);
			if (strcmp(want, got))
				fail_msg("split at %zu,%zu of \"%s\":\nwant:\n%sgot:\n%s", a, b, script, want, got);
			free(got);
		}
	}
	size_t *every = malloc((n + 1) * sizeof *every);
	for (size_t i = 0; i <= n; i++)
		every[i] = i;
	char *got = run_cuts(f, script, every, n + 1);
	if (strcmp(want, got))
		fail_msg("one byte at a time of \"%s\":\nwant:\n%sgot:\n%s", script, want, got);
	free(got);
	free(every);
	free(want);
}

static void expect(const jmf_framing *f, const char *script, const char *want)
{
	char *got = run(f, script);
	if (strcmp(want, got))
		fail_msg("\"%s\":\nwant:\n%sgot:\n%s", script, want, got);
	free(got);
	check_splits(f, script);
}

/* ---------------------------------------------------------------- files */

static void test_builtin_files(void **state)
{
	(void)state;
	jmf_framing f = named("ascii-length");
	assert_int_equal(f.kind, JMF_LENGTH_PREFIX);
	assert_int_equal(f.width, 5);
	assert_int_equal(f.max_payload, 99999);
	assert_string_equal(f.proto, "jmsg_ascii_length");
	f = named("fixed");
	assert_int_equal(f.kind, JMF_FIXED);
	assert_int_equal(f.size, 30);
	assert_int_equal(f.pad, '#');
	assert_string_equal(f.proto, "jmsg_fixed");
	f = named("delimited");
	assert_int_equal(f.kind, JMF_DELIMITED);
	assert_int_equal(f.delim_len, 3);
	assert_memory_equal(f.delim, "#*#", 3);
	f = named("close");
	assert_int_equal(f.kind, JMF_CLOSE);
	f = named("raw");
	assert_int_equal(f.kind, JMF_RAW);
	assert_int_equal(f.max_payload, JMF_RAW_MAX_PAYLOAD);
	f = named("jmsg");
	assert_int_equal(f.kind, JMF_JMSG);
	jmf_decoder d;
	assert_int_equal(jmf_decoder_init(&d, &f, flog_cb, NULL), -1);
	jmf_decoder_free(&d);
	/* the names, in order: built-ins first */
	assert_string_equal(jmf_builtin_name(0), "jmsg");
	assert_string_equal(jmf_builtin_name(1), "raw");
	size_t n = 0;
	while (jmf_builtin_name(n))
		n++;
	assert_int_equal(n, 6);
}

static void test_resolve_path_and_unknown(void **state)
{
	(void)state;
	char path[] = "/tmp/jmsg-framing-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "{\"framing_version\": 1, \"name\": \"pipe\", \"kind\": \"delimited\",\n"
			   " \"delimiter\": \"\\n\", \"limits\": {\"max_payload\": 80}}\n";
	FILE *w = fdopen(fd, "w");
	fputs(text, w);
	fclose(w);
	jmf_framing f;
	assert_int_equal(jmf_resolve(&f, path, stderr), 0);
	assert_string_equal(f.name, "pipe");
	assert_int_equal(f.delim_len, 1);
	assert_int_equal(f.delim[0], '\n');
	assert_int_equal(f.max_payload, 80);
	unlink(path);
	char *out = NULL;
	size_t outlen = 0;
	FILE *err = open_memstream(&out, &outlen);
	assert_int_equal(jmf_resolve(&f, "fixd", err), -1);
	assert_int_equal(jmf_resolve(&f, path, err), -1);
	fclose(err);
	assert_non_null(strstr(out, "unknown framing \"fixd\": give one of jmsg, raw, ascii-length"));
	assert_non_null(strstr(out, "cannot open: No such file"));
	free(out);
}

/* A file with mistakes: every one reported, as FILE: KEY: what. */
static void refused(const char *json, const char *const *want)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *err = open_memstream(&out, &outlen);
	jmf_framing f;
	assert_int_equal(jmf_load_text(&f, json, strlen(json), "my.json", err), -1);
	fclose(err);
	for (; *want; want++)
		if (!strstr(out, *want))
			fail_msg("for %s\nexpected \"%s\" in:\n%s", json, *want, out);
	assert_non_null(strstr(out, "framing file refused"));
	free(out);
}

static void test_load_errors(void **state)
{
	(void)state;
	refused("{\"framing_version\": 1, \"name\": \"x\", \"kind\": \"sliding\"}",
		(const char *[]){"my.json: kind: unknown kind \"sliding\"", NULL});
	refused("{\"framing_version\": 1, \"name\": \"x\", \"kind\": \"length_prefix\", \"width\": 0,"
		" \"radix\": \"decimal\", \"limits\": {\"max_payload\": 5}}",
		(const char *[]){"my.json: width: 0 is out of range 1..9", NULL});
	refused("{\"framing_version\": 1, \"name\": \"x\", \"kind\": \"length_prefix\", \"width\": 10,"
		" \"radix\": \"hex\", \"limits\": {\"max_payload\": 5, \"max_search\": 1}}",
		(const char *[]){"my.json: width: 10 is out of range 1..9",
				 "my.json: radix: \"hex\": only \"decimal\" is supported",
				 "my.json: limits: unknown key \"max_search\"", NULL});
	refused("{\"framing_version\": 1, \"name\": \"x\", \"kind\": \"length_prefix\", \"width\": 2,"
		" \"radix\": \"decimal\", \"limits\": {\"max_payload\": 100}}",
		(const char *[]){"my.json: limits.max_payload: 100 is out of range 0..99", NULL});
	refused("{\"framing_version\": 1, \"name\": \"x\", \"kind\": \"delimited\", \"delimiter\": \"\","
		" \"limits\": {\"max_payload\": 0}}",
		(const char *[]){"my.json: delimiter: must be 1..64 bytes, not 0",
				 "my.json: limits.max_payload: 0 is out of range 1..1073741824", NULL});
	refused("{\"framing_version\": 1, \"name\": \"x\", \"kind\": \"delimited\", \"delimeter\": \"#\","
		" \"limits\": {\"max_payload\": 10}}",
		(const char *[]){"my.json: delimeter: unknown key for this kind",
				 "my.json: delimiter: missing", NULL});
	refused("{\"framing_version\": 1, \"name\": \"x\", \"kind\": \"fixed\", \"size\": 0,"
		" \"pad\": \"##\", \"limits\": {\"max_payload\": 3}}",
		(const char *[]){"my.json: size: 0 is out of range 1..1048576",
				 "my.json: pad: \"##\" must be exactly one byte",
				 "my.json: limits: a fixed framing has no limits but its size", NULL});
	refused("{\"framing_version\": 1, \"name\": \"x\", \"kind\": \"fixed\", \"size\": 4, \"pad\": \"\"}",
		(const char *[]){"my.json: pad: \"\" must be exactly one byte", NULL});
	refused("{\"framing_version\": 1, \"name\": \"x\", \"kind\": \"fixed\", \"size\": \"30\", \"pad\": 35}",
		(const char *[]){"my.json: size: must be an integer, not a string",
				 "my.json: pad: must be a string, not an integer", NULL});
	refused("{\"framing_version\": 2, \"name\": \"Raw Bytes\", \"kind\": \"close\","
		" \"limits\": {\"max_payload\": 2000000000}}",
		(const char *[]){"my.json: framing_version: 2: only version 1 is known",
				 "my.json: name: \"Raw Bytes\" must be",
				 "my.json: limits.max_payload: 2000000000 is out of range", NULL});
	refused("{\"framing_version\": 1, \"name\": \"raw\", \"kind\": \"close\"}",
		(const char *[]){"my.json: name: \"raw\" is a built-in framing's name",
				 "my.json: limits: missing", NULL});
	refused("{\"framing_version\": 1, \"name\": \"x\",",
		(const char *[]){"my.json: (file): not JSON", NULL});
	refused("[1, 2]", (const char *[]){"my.json: (file): must be a JSON object", NULL});
	refused("{\"framing_version\": 1} x", (const char *[]){"my.json: (file): text after", NULL});
}

static void test_load_user_files(void **state)
{
	(void)state;
	jmf_framing f = from_text("{\"framing_version\": 1, \"name\": \"hex-4\", \"kind\": \"length_prefix\","
				  " \"width\": 3, \"radix\": \"decimal\", \"limits\": {\"max_payload\": 999}}");
	assert_int_equal(f.width, 3);
	assert_string_equal(f.proto, "jmsg_hex_4");
	f = from_text("{\"framing_version\": 1, \"name\": \"f8\", \"kind\": \"fixed\", \"size\": 8,"
		      " \"pad\": \"\\u0000\", \"doc\": \"NUL padded\"}");
	assert_int_equal(f.size, 8);
	assert_int_equal(f.pad, 0);
	assert_int_equal(f.max_payload, 8);
}

/* ---------------------------------------------------------------- decoder */

static void test_ascii_length(void **state)
{
	(void)state;
	jmf_framing f = named("ascii-length");
	expect(&f, "00012Hello, world00000" "00003abc",
	       "M @0 len=17 \"Hello, world\"\nM @17 len=5 \"\"\nM @22 len=8 \"abc\"\nEND clean=1\n");
	/* UTF-8: the prefix counts bytes */
	expect(&f, "00005h\xc3\xa9\xc3\xa9", "M @0 len=10 \"h\\xc3\\xa9\\xc3\\xa9\"\nEND clean=1\n");
	expect(&f, "", "END clean=1\n");
}

static void test_ascii_length_errors(void **state)
{
	(void)state;
	jmf_framing f = named("ascii-length");
	expect(&f, "00003abc0001xHello",
	       "M @0 len=8 \"abc\"\nE length_not_digit @12 msg=8 cont=0\nEND clean=0\n");
	expect(&f, " 0012Hello, world", "E length_not_digit @0 msg=0 cont=0\nEND clean=0\n");
	expect(&f, "+0012", "E length_not_digit @0 msg=0 cont=0\nEND clean=0\n");
	expect(&f, "00003abc000", "M @0 len=8 \"abc\"\nE truncated_prefix @11 msg=8 cont=0\nEND clean=0\n");
	expect(&f, "00005ab", "E truncated_payload @7 msg=0 cont=0\nEND clean=0\n");
	jmf_framing small = from_text("{\"framing_version\": 1, \"name\": \"two\", \"kind\": \"length_prefix\","
				      " \"width\": 2, \"radix\": \"decimal\", \"limits\": {\"max_payload\": 5}}");
	expect(&small, "10abcdefghij02xy",
	       "E length_over_limit @0 msg=0 cont=1\nM @12 len=4 \"xy\"\nEND clean=1\n");
	expect(&small, "10abc", "E length_over_limit @0 msg=0 cont=1\nE truncated_payload @5 msg=0 cont=0\n"
				"END clean=0\n");
	expect(&small, "05abcde", "M @0 len=7 \"abcde\"\nEND clean=1\n");
}

static void test_fixed(void **state)
{
	(void)state;
	jmf_framing f = named("fixed");
	expect(&f, "Hello, world!#################" "012345678901234567890123456789" "##############################",
	       "M @0 len=30 \"Hello, world!\"\nM @30 len=30 \"012345678901234567890123456789\"\n"
	       "M @60 len=30 \"\"\nEND clean=1\n");
	/* padding inside the payload stays; only the trailing pad goes */
	expect(&f, "a#b###########################", "M @0 len=30 \"a#b\"\nEND clean=1\n");
	expect(&f, "Hello, world!#####", "E truncated_fixed @18 msg=0 cont=0\nEND clean=0\n");
}

static void test_delimited(void **state)
{
	(void)state;
	jmf_framing f = named("delimited");
	expect(&f, "Hello, world!#*#one#*##*#two#*#",
	       "M @0 len=16 \"Hello, world!\"\nM @16 len=6 \"one\"\nM @22 len=3 \"\"\nM @25 len=6 \"two\"\n"
	       "END clean=1\n");
	/* the first occurrence ends the message: "a##*#" is "a#" */
	expect(&f, "a##*#", "M @0 len=5 \"a#\"\nEND clean=1\n");
	expect(&f, "x#*#y#*", "M @0 len=4 \"x\"\nE truncated_delimited @7 msg=4 cont=0\nEND clean=0\n");
}

static void test_delimited_limit(void **state)
{
	(void)state;
	jmf_framing f = from_text("{\"framing_version\": 1, \"name\": \"d4\", \"kind\": \"delimited\","
				  " \"delimiter\": \"#*#\", \"limits\": {\"max_payload\": 4}}");
	expect(&f, "abcd#*#", "M @0 len=7 \"abcd\"\nEND clean=1\n");
	/* 7 bytes (4 + the delimiter) searched; none: resync after the next one */
	expect(&f, "abcde#*#xy#*#",
	       "E delimiter_not_found @7 msg=0 cont=1\nR @8 skipped=8\nM @8 len=5 \"xy\"\nEND clean=1\n");
	/* a delimiter that straddles the limit is found while hunting */
	expect(&f, "abcdefghijklmnopqrstuvwxyz#*#", "E delimiter_not_found @7 msg=0 cont=1\nR @29 skipped=29\n"
						 "END clean=1\n");
	expect(&f, "abcdefghij", "E delimiter_not_found @7 msg=0 cont=1\nEND clean=0\n");
}

static void test_close(void **state)
{
	(void)state;
	jmf_framing f = named("close");
	expect(&f, "Hello, world!", "M @0 len=13 \"Hello, world!\"\nEND clean=1\n");
	expect(&f, "", "END clean=1\n");
	jmf_framing s = from_text("{\"framing_version\": 1, \"name\": \"c4\", \"kind\": \"close\","
				  " \"limits\": {\"max_payload\": 4}}");
	expect(&s, "abcd", "M @0 len=4 \"abcd\"\nEND clean=1\n");
	expect(&s, "abcde", "E message_over_limit @4 msg=0 cont=0\nEND clean=0\n");
}

static void test_raw(void **state)
{
	(void)state;
	jmf_framing f = named("raw");
	expect(&f, "hello|wor" "ld||!", "M @0 len=5 \"hello\"\nM @5 len=5 \"world\"\nM @10 len=1 \"!\"\n"
				      "END clean=1\n");
	expect(&f, "|", "END clean=1\n");
	f.max_payload = 3;
	expect(&f, "abcdef|gh", "E message_over_limit @3 msg=0 cont=1\nR @6 skipped=6\nM @6 len=2 \"gh\"\n"
			       "END clean=1\n");
}

static void test_gaps(void **state)
{
	(void)state;
	jmf_framing fx = named("fixed");
	/* 10 bytes, 25 missing: the next message starts at 60 */
	char script[256];
	snprintf(script, sizeof script, "0123456789<g25>%s%s", "abcdefghijklmnopqrstuvwxy",
		 "Hi############################");
	expect(&fx, script, "R @60 skipped=25\nM @60 len=30 \"Hi\"\nEND clean=1\n");
	/* a gap ending on a multiple resyncs at once */
	expect(&fx, "<g30>Hi############################", "R @30 skipped=0\nM @30 len=30 \"Hi\"\nEND clean=1\n");
	expect(&fx, "<g0>Hi############################", "R @0 skipped=0\nM @0 len=30 \"Hi\"\nEND clean=1\n");

	jmf_framing dl = named("delimited");
	expect(&dl, "one#*#tw<g4>o#*#three#*#",
	       "M @0 len=6 \"one\"\nR @16 skipped=4\nM @16 len=8 \"three\"\nEND clean=1\n");
	/* bytes on both sides of a gap never make a delimiter */
	expect(&dl, "ab#<g1>*#c#*#", "R @10 skipped=6\nEND clean=1\n");

	jmf_framing al = named("ascii-length");
	/* inside a payload the next prefix's place is known */
	expect(&al, "00010abc<g3>defg00002hi", "R @15 skipped=4\nM @15 len=7 \"hi\"\nEND clean=1\n");
	expect(&al, "00010abc<g7>00002hi", "R @15 skipped=0\nM @15 len=7 \"hi\"\nEND clean=1\n");
	/* past it, or in a prefix, or between messages, it is not */
	expect(&al, "00010abc<g9>002hi", "E no_resync @8 msg=0 cont=0\nEND clean=0\n");
	expect(&al, "000<g1>0abc", "E no_resync @3 msg=0 cont=0\nEND clean=0\n");
	expect(&al, "00002hi<g5>00002hi", "M @0 len=7 \"hi\"\nE no_resync @7 msg=7 cont=0\nEND clean=0\n");

	jmf_framing cl = named("close");
	expect(&cl, "abc<g2>def", "E no_resync @3 msg=0 cont=0\nEND clean=0\n");

	jmf_framing rw = named("raw");
	expect(&rw, "ab<g2>cd|ef", "R @6 skipped=2\nM @6 len=2 \"ef\"\nEND clean=1\n");
}

static void test_stop(void **state)
{
	(void)state;
	jmf_framing f = named("delimited");
	struct flog l = {.stop_at = 1};
	jmf_decoder d;
	jmf_decoder_init(&d, &f, flog_cb, &l);
	const char *in = "a#*#b#*#c#*#";
	assert_int_equal(jmf_decoder_feed(&d, (const uint8_t *)in, strlen(in)), 4);
	assert_true(jmf_decoder_failed(&d));
	assert_int_equal(jmf_decoder_feed(&d, (const uint8_t *)in, strlen(in)), 0);
	assert_false(jmf_decoder_finish(&d));
	assert_int_equal(l.n, 1);
	jmf_decoder_free(&d);
	jm_buf_free(&l.text);
}

/* ---------------------------------------------------------------- encoder */

static void round_trip(const jmf_framing *f, const char *payload, const char *wire)
{
	jm_buf out = {0};
	char why[160];
	assert_int_equal(jmf_encode(f, &out, payload, strlen(payload), why, sizeof why), JMF_ENC_OK);
	assert_int_equal(out.len, strlen(wire));
	assert_memory_equal(out.data, wire, out.len);
	struct flog l = {0};
	jmf_decoder d;
	jmf_decoder_init(&d, f, flog_cb, &l);
	assert_int_equal(jmf_decoder_feed(&d, out.data, out.len), out.len);
	assert_true(jmf_decoder_finish(&d));
	jm_buf_append(&l.text, "", 1);
	char want[256];
	snprintf(want, sizeof want, "M @0 len=%zu \"%s\"\n", out.len, payload);
	assert_string_equal((char *)l.text.data, want);
	jmf_decoder_free(&d);
	jm_buf_free(&l.text);
	jm_buf_free(&out);
}

static void refuse(const jmf_framing *f, const char *payload, size_t len, jmf_enc_result want,
		   const char *why_has)
{
	jm_buf out = {0};
	jm_buf_append(&out, "keep", 4);
	char why[160] = "";
	assert_int_equal(jmf_encode(f, &out, payload, len, why, sizeof why), want);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "keep", 4);
	if (!strstr(why, why_has))
		fail_msg("expected \"%s\" in \"%s\"", why_has, why);
	jm_buf_free(&out);
}

static void test_encode(void **state)
{
	(void)state;
	jmf_framing al = named("ascii-length"), fx = named("fixed"), dl = named("delimited"),
		    cl = named("close"), rw = named("raw"), jm = named("jmsg");
	round_trip(&al, "Hello, world", "00012Hello, world");
	round_trip(&al, "", "00000");
	round_trip(&fx, "Hello, world!", "Hello, world!#################");
	round_trip(&fx, "012345678901234567890123456789", "012345678901234567890123456789");
	round_trip(&dl, "Hello, world!", "Hello, world!#*#");
	round_trip(&dl, "a#", "a##*#");
	round_trip(&cl, "bye", "bye");
	round_trip(&rw, "hi there", "hi there");

	char big[100001];
	memset(big, 'x', sizeof big);
	refuse(&al, big, 100000, JMF_ENC_TOO_LONG, "over max_payload 99999");
	refuse(&fx, big, 31, JMF_ENC_TOO_LONG, "does not fit a 30-byte message");
	refuse(&fx, "ends in#", 8, JMF_ENC_ENDS_WITH_PAD, "ends with the pad byte");
	refuse(&dl, "a#*#b", 5, JMF_ENC_HAS_DELIMITER, "holds the delimiter at byte 1");
	/* no delimiter in the payload, but one made with the appended one */
	refuse(&dl, "ab#*", 4, JMF_ENC_HAS_DELIMITER, "at byte 2");
	refuse(&dl, big, 65537, JMF_ENC_TOO_LONG, "over max_payload 65536");
	refuse(&cl, "", 0, JMF_ENC_EMPTY, "empty payload");
	refuse(&rw, "", 0, JMF_ENC_EMPTY, "empty payload");
	refuse(&jm, "x", 1, JMF_ENC_NOT_FRAMING, "jm_encode");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_files),
		cmocka_unit_test(test_resolve_path_and_unknown),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_user_files),
		cmocka_unit_test(test_ascii_length),
		cmocka_unit_test(test_ascii_length_errors),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_delimited),
		cmocka_unit_test(test_delimited_limit),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

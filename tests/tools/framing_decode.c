/*
 * framing_decode: runs the framing decoder (proto/framing_codec.h) over the
 * bytes of one direction of a stream and prints every event, one line each,
 * in the form tests/e2e/64-framing-dissectors.sh compares with what the
 * generated Wireshark dissector shows:
 *
 *   message offset=O length=L payload=HEX
 *   error ID offset=O message=M
 *   resync offset=O skipped=N
 *   end clean=0|1
 *
 *   framing_decode [-s N] FRAMING [FILE]
 *     FRAMING  a framing name (ascii-length, fixed, delimited, close, raw) or
 *              a framing file's path
 *     FILE     the direction's bytes (pcapgen -x writes them); default stdin
 *     -s N     feed the bytes N at a time (default: all at once)
 *
 * exit status: 0 decoded (errors in the bytes included), 1 I/O error,
 * 2 usage or a bad framing
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "framing_codec.h"
#include "jmsg.h"

static int print_event(void *user, const jmf_event *ev)
{
	(void)user;
	switch (ev->type) {
	case JMF_EV_MESSAGE:
		printf("message offset=%llu length=%llu payload=", (unsigned long long)ev->offset,
		       (unsigned long long)ev->length);
		for (size_t i = 0; i < ev->payload_len; i++)
			printf("%02x", ev->payload[i]);
		putchar('\n');
		break;
	case JMF_EV_ERROR:
		printf("error %s offset=%llu message=%llu\n", jmf_error_id(ev->error),
		       (unsigned long long)ev->offset, (unsigned long long)ev->msg_offset);
		break;
	case JMF_EV_RESYNC:
		printf("resync offset=%llu skipped=%llu\n", (unsigned long long)ev->offset,
		       (unsigned long long)ev->length);
		break;
	}
	return JM_CB_OK;
}

static int usage(void)
{
	fprintf(stderr, "usage: framing_decode [-s N] FRAMING [FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	size_t step = 0;
	int opt;
	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt != 's' || (step = strtoul(optarg, NULL, 10)) == 0)
			return usage();
	}
	if (optind >= argc || argc - optind > 2)
		return usage();
	jmf_framing f;
	if (jmf_resolve(&f, argv[optind], stderr))
		return 2;
	const char *path = optind + 1 < argc ? argv[optind + 1] : NULL;
	FILE *in = path ? fopen(path, "rb") : stdin;
	if (!in) {
		fprintf(stderr, "framing_decode: %s: %s\n", path, strerror(errno));
		return 1;
	}
	jm_buf data = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
		if (jm_buf_append(&data, chunk, n)) {
			fprintf(stderr, "framing_decode: out of memory\n");
			return 1;
		}
	if (ferror(in)) {
		fprintf(stderr, "framing_decode: cannot read %s\n", path ? path : "stdin");
		return 1;
	}
	if (path)
		fclose(in);
	jmf_decoder d;
	if (jmf_decoder_init(&d, &f, print_event, NULL)) {
		fprintf(stderr, "framing_decode: %s is decoded by the jmsg codec, not here\n", f.name);
		return 2;
	}
	for (size_t at = 0; at < data.len;) {
		size_t k = step && step < data.len - at ? step : data.len - at;
		jmf_decoder_feed(&d, data.data + at, k);
		at += k;
	}
	printf("end clean=%d\n", jmf_decoder_finish(&d));
	jmf_decoder_free(&d);
	jm_buf_free(&data);
	return 0;
}

/*
 * libFuzzer target: the bytes a server answers with, through the
 * reference client's own response code.  client/oneshot.c is included,
 * so read_response() runs as under `jmsg client HOST PORT ACTION VALUE`:
 * the codec, the JSON result or error, the binary repr, the verbose
 * lines.  The server is the other end of a socketpair, holding the input
 * and then closed.
 *
 * Input: one configuration byte, then what the server sends.
 *     bits 0-1  verbosity: 0 quiet, 1 a line per event, 2 (and 3) the
 *               bytes too; the client's lines go to /dev/null
 *     bit  2    --max-content 64 (otherwise the default)
 * Checks beyond the sanitizers: the client finishes with one of its
 * exit codes for a response (0, a malformed response, a server error),
 * never a timeout: the server has closed.
 *
 * Seeds: fuzz/client-seeds, the tutorial server's answers (a result, no
 * match, an invalid action, binary) and the reference server's errors.
 */
#include "client/oneshot.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *null_file;

/* Run `o` to the end of the response with the client's stdout and stderr
 * lines going to /dev/null.  The FILE pointers are swapped, not the
 * descriptors (glibc lets a program assign stdout and stderr): a
 * sanitizer's report, written to descriptor 2, is still seen. */
static int quietly(one *o, jm_decoder *dec)
{
	FILE *out = stdout, *err = stderr;
	fflush(out);
	fflush(err);
	stdout = stderr = null_file;
	int rc = read_response(o, dec);
	fflush(null_file);
	stdout = out;
	stderr = err;
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!null_file && !(null_file = fopen("/dev/null", "w")))
		abort();
	uint8_t c0 = data[0];
	data++;
	size--;
	if (size > 65536)
		return 0; /* all of it is sent before the client reads */
	cli_config cfg = {.mode = CLI_MODE_REQUEST,
			  .timeout_ms = 10000,
			  .verbosity = (c0 & 3) > 2 ? 2 : c0 & 3,
			  .max_content = (c0 & 4) ? 64 : 0};
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* Room for all of it in the socket, whatever the system's default. */
	int room = 2 * (int)size + 4096;
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &room, sizeof room) < 0 ||
	    (size && send(sv[1], data, size, MSG_NOSIGNAL) != (ssize_t)size))
		abort();
	close(sv[1]);

	one o = {.cfg = &cfg, .where = "fuzz", .fd = sv[0], .deadline = el_now_ms() + cfg.timeout_ms};
	jm_decoder dec;
	jm_decoder_config dc = {.max_content = cfg.max_content};
	jm_decoder_init(&dec, &dc, on_event, &o);
	int rc = quietly(&o, &dec);
	if (rc != JM_EXIT_OK || !o.done ||
	    (o.exit_code != JM_EXIT_OK && o.exit_code != JM_EXIT_MALFORMED &&
	     o.exit_code != JM_EXIT_SERVER_ERROR)) {
		fprintf(stderr, "the client ended with %d (exit code %d, done %d) on a closed connection\n", rc,
			o.exit_code, o.done);
		abort();
	}
	close(sv[0]);
	jm_decoder_free(&dec);
	jm_buf_free(&o.content);
	jm_buf_free(&o.log);
	return 0;
}

/*
 * libFuzzer target: the bytes a client sends, through the reference
 * server's own connection code.  server/server.c is included, so its
 * static functions run exactly as under `jmsg server`: conn_admit (as
 * after accept), the codec, the answers and the answer cache,
 * pipelining, the read pause over SRV_OUT_HIGH, half-close and linger.
 * The connection is one end of a socketpair; the target plays the epoll
 * loop (poll() on the interest the server set) and the client: it sends
 * the input in pieces, reads all the server sends, and shuts its write
 * side when the input is sent.  The search table is the tutorial's and
 * "big", a 100,000-byte result, so a few pipelined requests for it fill
 * the output queue past SRV_OUT_HIGH.
 *
 * Input: one configuration byte, then the client's bytes.
 *     bits 0-1  verbosity: 0 quiet, 1 a line per event, 2 (and 3) the
 *               bytes too; stdout is /dev/null while the server runs
 *     bit  2    --max-content 64 (otherwise the server's default)
 *     bit  3    the connection is one beyond --max-conns (told so)
 *     bits 4-6  the client sends pieces of 1 << (2 * bits) bytes: 1 to
 *               16384 (the codec's own target tries every split; this
 *               one the server's handling of what one read brings)
 *     bit  7    the client reads nothing until it has sent everything
 *               (pipelining without reading: the server pauses)
 * Checks beyond the sanitizers: the server's bytes are whole jmsg
 * messages that decode with no error (an error answer is a well-formed
 * message too); the connection is finished, closed by the server, once
 * the client has sent everything and read everything.
 *
 * Seeds: fuzz/server-seeds, the tutorial's requests (search, binary,
 * keep-alive, pipelined) and a few the server refuses.
 */
#include <fcntl.h>
#include <poll.h>

#include "server/server.c"

#include "fuzz/messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static srv S;
static srv_config cfg;
static int null_fd = -1;

static void setup(void)
{
	sigset_t none;
	sigemptyset(&none);
	S.cfg = &cfg;
	S.lfd = -1;
	S.loop.epfd = -1;
	null_fd = open("/dev/null", O_WRONLY);
	S.tok = json_tokener_new_ex(JM_SPEC_MAX_JSON_DEPTH + 1);
	if (null_fd < 0 || !S.tok || app_table_default(&S.table) < 0 || el_init(&S.loop, &none) < 0)
		abort();
	static char big[100001];
	memset(big, 'b', sizeof big - 1);
	if (json_object_object_add(S.table.obj, "big", json_object_new_string(big)) < 0)
		abort();
	signal(SIGPIPE, SIG_IGN);
}

/* The client's side: send the next piece, read what has come.  Returns
 * false once the server has closed (a send fails: EPIPE, ECONNRESET). */
static bool client_send(int fd, const uint8_t *data, size_t size, size_t *at, size_t piece)
{
	size_t n = size - *at < piece ? size - *at : piece;
	ssize_t w = send(fd, data + *at, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w > 0)
		*at += (size_t)w;
	else if (w < 0 && errno != EAGAIN && errno != EINTR)
		return false;
	return true;
}

static bool client_read(int fd, jm_buf *got)
{
	uint8_t b[16384];
	ssize_t n;
	while ((n = recv(fd, b, sizeof b, MSG_DONTWAIT)) > 0)
		if (jm_buf_append(got, b, (size_t)n) < 0)
			abort();
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR); /* closed */
}

/* The event loop's part for the one connection: what poll() says is
 * ready among what the server is waiting for. */
static void server_round(void)
{
	conn *c = S.conns;
	if (c && c->w.mask) {
		struct pollfd p = {.fd = c->w.fd,
				   .events = (short)(((c->w.mask & EL_READ) ? POLLIN : 0) |
						     ((c->w.mask & EL_WRITE) ? POLLOUT : 0))};
		if (poll(&p, 1, 0) > 0) {
			int mask = 0;
			if (p.revents & (POLLIN | POLLHUP | POLLERR))
				mask |= EL_READ;
			if (p.revents & (POLLOUT | POLLERR))
				mask |= EL_WRITE;
			mask &= c->w.mask; /* as the event loop does */
			if (mask)
				conn_io(&S.loop, &c->w, mask);
		}
	}
	before_sleep(&S.loop, &S);
}

/* Every byte the server sent is part of a whole, well-formed message. */
static void check_answers(const jm_buf *got)
{
	fz_messages r = fz_decode(jm_buf_head(got), jm_buf_pending(got));
	if (r.errors || r.warnings || !r.whole) {
		fprintf(stderr, "the server sent %zu bytes that are not whole jmsg messages%s%s\n",
			jm_buf_pending(got), r.first[0] ? ": " : "", r.first);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (null_fd < 0)
		setup();
	uint8_t c0 = data[0];
	data++;
	size--;
	cfg = (srv_config){.mode = SRV_MODE_APP,
			   .max_content = (c0 & 4) ? 64 : SRV_DEFAULT_MAX_CONTENT,
			   .max_conns = (c0 & 8) ? 0 : SRV_DEFAULT_MAX_CONNS,
			   .verbosity = (c0 & 3) > 2 ? 2 : c0 & 3};
	size_t piece = (size_t)1 << (2 * ((c0 >> 4) & 7));
	bool hold_reads = c0 & 0x80;
	if (srv_cache_init(&S.cache) < 0)
		abort();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
		abort();

	conn_admit(&S, sv[0]);
	jm_buf got = {0};
	size_t at = 0;
	bool sending = true, closed = false;
	/* Each round sends a piece or the server reads at least one: a
	 * connection still open after this many has stopped making progress. */
	size_t max_rounds = 4 * (size / piece + 1) + 4096;
	for (size_t round = 0; round < max_rounds && !(closed && !S.conns); round++) {
		if (sending && at < size)
			sending = client_send(sv[1], data, size, &at, piece);
		else
			sending = false;
		if (!sending)
			shutdown(sv[1], SHUT_WR);
		server_round();
		if (!hold_reads || !sending)
			closed = client_read(sv[1], &got) || closed;
	}
	bool finished = !S.conns;

	fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) < 0)
		abort();
	close(saved);
	if (!finished) {
		fprintf(stderr, "the connection is still open after the client sent %zu of %zu bytes and "
			"shut its side\n", at, size);
		abort();
	}
	close(sv[1]);
	check_answers(&got);
	jm_buf_free(&got);
	srv_cache_free(&S.cache);
	return 0;
}

/*
 * flood: the tutorial's app-client-test.  Connect, then send the same
 * binary message over and over on a non-blocking socket without ever
 * reading, so against a server that does not read (jmsg server --no-read)
 * the data piles up: the server's Recv-Q fills, then this socket's Send-Q,
 * and send() reports that it would block.  A status line each second says
 * how much has been queued and how often send() would have blocked, so the
 * socket queues can be watched beside it (ss -tn, jmsg sockets).
 */
#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/request.h"
#include "client/client.h"
#include "io/evloop.h"
#include "io/net.h"

static int send_q(int fd)
{
	int q = -1;
	if (ioctl(fd, SIOCOUTQ, &q) < 0)
		return -1;
	return q;
}

typedef struct flood {
	int fd;
	const char *where;
	const uint8_t *msg;
	size_t len, at;       /* the message; how much of it the socket took */
	uint64_t queued, messages, would_block;
	uint64_t start, end, next_status;
	bool blocked_once;
} flood;

/* Connect, waiting at most --timeout.  Returns the socket, or -1 with
 * *rc the exit code after a line on stderr. */
static int flood_connect(const cli_config *cfg, const struct sockaddr_storage *ss, socklen_t sl,
			 const char *where, int *rc)
{
	int fd = net_connect_start(ss, sl);
	if (fd < 0) {
		fprintf(stderr, "jmsg client: cannot connect to %s: %s\n", where, strerror(errno));
		*rc = JM_EXIT_CONNECT;
		return -1;
	}
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int n = poll(&p, 1, (int)cfg->timeout_ms);
	int e = n > 0 ? net_connect_result(fd) : 0;
	if (n <= 0 || e) {
		if (n == 0)
			fprintf(stderr, "jmsg client: timed out connecting to %s\n", where);
		else
			fprintf(stderr, "jmsg client: cannot connect to %s: %s\n", where, strerror(n < 0 ? errno : e));
		close(fd);
		*rc = n == 0 ? JM_EXIT_TIMEOUT : JM_EXIT_CONNECT;
		return -1;
	}
	return fd;
}

static void print_status(const flood *f, uint64_t now)
{
	printf("flood: %.1f s: queued %llu bytes (%llu messages), send() would block %llu times, "
	       "Send-Q %d bytes\n",
	       (now - f->start) / 1000.0, (unsigned long long)f->queued,
	       (unsigned long long)f->messages, (unsigned long long)f->would_block, send_q(f->fd));
	fflush(stdout);
}

static void count_sent(flood *f, size_t n)
{
	f->queued += n;
	f->at += n;
	if (f->at == f->len) {
		f->at = 0;
		f->messages++;
	}
}

/* send() would block: say so the first time, then wait for room, but wake
 * for the next status line. */
static void wait_for_room(flood *f, uint64_t now)
{
	if (!f->blocked_once) {
		printf("send() would block after %llu bytes to %s: %s\n", (unsigned long long)f->queued,
		       f->where, strerror(errno));
		f->blocked_once = true;
	}
	f->would_block++;
	uint64_t wake = f->next_status < f->end ? f->next_status : f->end;
	struct pollfd p = {.fd = f->fd, .events = POLLOUT};
	poll(&p, 1, (int)(wake > now ? (wake - now < 100 ? wake - now : 100) : 0));
}

/* Send until the end time, a status line each second.  Returns JM_EXIT_OK, or
 * JM_EXIT_CONNECT after a line on stderr if the connection failed. */
static int flood_run(flood *f)
{
	for (;;) {
		uint64_t now = el_now_ms();
		if (now >= f->next_status || now >= f->end) {
			print_status(f, now);
			f->next_status += 1000;
		}
		if (now >= f->end)
			return JM_EXIT_OK;
		ssize_t w = send(f->fd, f->msg + f->at, f->len - f->at, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0)
			count_sent(f, (size_t)w);
		else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			wait_for_room(f, now);
		else if (w == 0 || errno != EINTR) { /* EINTR: send again */
			fprintf(stderr, "jmsg client: send to %s failed after %llu bytes: %s\n", f->where,
				(unsigned long long)f->queued, strerror(errno));
			return JM_EXIT_CONNECT;
		}
	}
}

int cli_flood(const cli_config *cfg)
{
	char err[256], where[NET_ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl;
	if (net_resolve(cfg->host, cfg->port, &ss, &sl, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg client: %s\n", err);
		return JM_EXIT_CONNECT;
	}
	net_addr_str((struct sockaddr *)&ss, where, sizeof where);
	jm_buf msg = {0};
	/* Binary, as the tutorial's test client sends: the content is the
	 * action and the value, whatever they are. */
	if (app_build_request(&msg, cfg->action[0] ? cfg->action : "binary", cfg->value, false) < 0) {
		fprintf(stderr, "jmsg client: request too large for a message header\n");
		return JM_EXIT_USAGE;
	}
	int rc;
	flood f = {.where = where, .msg = jm_buf_head(&msg), .len = jm_buf_pending(&msg)};
	f.start = el_now_ms();
	f.end = f.start + cfg->duration_ms;
	f.next_status = f.start + 1000;
	f.fd = flood_connect(cfg, &ss, sl, where, &rc);
	if (f.fd < 0) {
		jm_buf_free(&msg);
		return rc;
	}
	printf("Flooding %s with %zu-byte messages for %.1f s, never reading\n", where, f.len,
	       cfg->duration_ms / 1000.0);
	fflush(stdout);
	rc = flood_run(&f);
	printf("Closing connection to %s: %llu bytes queued, send() would block %llu times\n", where,
	       (unsigned long long)f.queued, (unsigned long long)f.would_block);
	close(f.fd);
	jm_buf_free(&msg);
	return rc;
}

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
	uint64_t start = el_now_ms();
	int fd = net_connect_start(&ss, sl);
	if (fd < 0) {
		fprintf(stderr, "jmsg client: cannot connect to %s: %s\n", where, strerror(errno));
		jm_buf_free(&msg);
		return JM_EXIT_CONNECT;
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
		jm_buf_free(&msg);
		return n == 0 ? JM_EXIT_TIMEOUT : JM_EXIT_CONNECT;
	}
	printf("Flooding %s with %zu-byte messages for %.1f s, never reading\n", where,
	       jm_buf_pending(&msg), cfg->duration_ms / 1000.0);
	fflush(stdout);

	const uint8_t *m = jm_buf_head(&msg);
	size_t mlen = jm_buf_pending(&msg), at = 0;
	uint64_t queued = 0, messages = 0, would_block = 0;
	uint64_t end = start + cfg->duration_ms, next_status = start + 1000;
	int rc = JM_EXIT_OK;
	bool first_block = true;
	for (;;) {
		uint64_t now = el_now_ms();
		if (now >= next_status || now >= end) {
			printf("flood: %.1f s: queued %llu bytes (%llu messages), send() would block %llu times, "
			       "Send-Q %d bytes\n",
			       (now - start) / 1000.0, (unsigned long long)queued,
			       (unsigned long long)messages, (unsigned long long)would_block, send_q(fd));
			fflush(stdout);
			next_status += 1000;
		}
		if (now >= end)
			break;
		ssize_t w = send(fd, m + at, mlen - at, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			queued += (uint64_t)w;
			at += (size_t)w;
			if (at == mlen) {
				at = 0;
				messages++;
			}
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (first_block) {
				printf("send() would block after %llu bytes to %s: %s\n",
				       (unsigned long long)queued, where, strerror(errno));
				first_block = false;
			}
			would_block++;
			/* wait for room, but wake for the next status line */
			uint64_t wake = next_status < end ? next_status : end;
			p.events = POLLOUT;
			poll(&p, 1, (int)(wake > now ? (wake - now < 100 ? wake - now : 100) : 0));
			continue;
		}
		fprintf(stderr, "jmsg client: send to %s failed after %llu bytes: %s\n", where,
			(unsigned long long)queued, strerror(errno));
		rc = JM_EXIT_CONNECT;
		break;
	}
	printf("Closing connection to %s: %llu bytes queued, send() would block %llu times\n", where,
	       (unsigned long long)queued, (unsigned long long)would_block);
	close(fd);
	jm_buf_free(&msg);
	return rc;
}

/*
 * srv_rawsend: send exact bytes to a server, print exactly what comes back.
 *
 *   srv_rawsend [-6] [-s] [-w SECONDS] PORT < request-bytes > response-bytes
 *
 * Connects to 127.0.0.1:PORT (::1 with -6), copies stdin to the socket as
 * it arrives (so `{ printf A; sleep 1; printf B; } | srv_rawsend P` sends a
 * message in two parts), and copies everything the server sends to stdout
 * until the server closes.  It never closes or half-closes first unless -s
 * is given (then it shuts its write side at the end of stdin, as a client
 * that stops in the middle of a message would), so a clean exit proves the
 * server closed first.  The -w clock starts at the end of stdin.
 *
 * exit: 0 the server closed the connection; 3 it did not within -w seconds
 * (default 5); 4 the connection was reset; 1 any other error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int v6 = 0, shut = 0, opt;
	double wait_s = 5;
	while ((opt = getopt(argc, argv, "6sw:")) != -1) {
		if (opt == '6')
			v6 = 1;
		else if (opt == 's')
			shut = 1;
		else if (opt == 'w')
			wait_s = atof(optarg);
		else
			return 1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: srv_rawsend [-6] [-s] [-w SECONDS] PORT < bytes\n");
		return 1;
	}
	int port = atoi(argv[optind]);
	signal(SIGPIPE, SIG_IGN);

	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	int rc;
	if (v6) {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
		inet_pton(AF_INET6, "::1", &a.sin6_addr);
		rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	} else {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	}
	if (rc < 0) {
		fprintf(stderr, "srv_rawsend: connect to port %d: %s\n", port, strerror(errno));
		return 1;
	}

	char buf[65536];
	int in_open = 1;
	double deadline = 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
		int timeout = -1;
		if (!in_open) {
			double left = deadline - now_s();
			if (left <= 0)
				return 3;
			timeout = (int)(left * 1000) + 1;
		}
		int n = poll(p, in_open ? 2 : 1, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 1;
		if (n == 0)
			continue; /* deadline checked above */
		if (p[0].revents) {
			ssize_t got = read(fd, buf, sizeof buf);
			if (got == 0)
				return 0;
			if (got < 0) {
				if (errno == EINTR)
					continue;
				return errno == ECONNRESET ? 4 : 1;
			}
			if (write_all(1, buf, (size_t)got) < 0)
				return 1;
		}
		if (in_open && p[1].revents) {
			ssize_t got = read(0, buf, sizeof buf);
			if (got > 0) {
				if (write_all(fd, buf, (size_t)got) < 0) {
					if (errno == ECONNRESET || errno == EPIPE)
						continue; /* the server closed: read what it said */
					fprintf(stderr, "srv_rawsend: send: %s\n", strerror(errno));
					return 1;
				}
			} else if (got == 0 || errno != EINTR) {
				in_open = 0;
				deadline = now_s() + wait_s;
				if (shut)
					shutdown(fd, SHUT_WR);
			}
		}
	}
}

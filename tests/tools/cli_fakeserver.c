/*
 * cli_fakeserver: a server that answers anything with fixed bytes, to test
 * how the client takes a bad response.
 *
 *   cli_fakeserver PORTFILE < response-bytes
 *
 * Listens on 127.0.0.1, an ephemeral port written to PORTFILE, accepts one
 * connection, waits for the first bytes of the request, writes stdin's
 * bytes, closes and exits.  Gives up after 10 seconds.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: cli_fakeserver PORTFILE < bytes\n");
		return 1;
	}
	static char resp[1 << 20];
	size_t len = 0;
	ssize_t r;
	while (len < sizeof resp && (r = read(0, resp + len, sizeof resp - len)) > 0)
		len += (size_t)r;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	socklen_t al = sizeof a;
	if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0) {
		perror("cli_fakeserver");
		return 1;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0 || rename(tmp, argv[1]) < 0) {
		perror("cli_fakeserver: port file");
		return 1;
	}
	struct pollfd p = {.fd = l, .events = POLLIN};
	if (poll(&p, 1, 10000) <= 0)
		return 1;
	int c = accept(l, NULL, NULL);
	if (c < 0)
		return 1;
	p.fd = c;
	char req[65536];
	if (poll(&p, 1, 10000) > 0 && read(c, req, sizeof req) < 0)
		return 1;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(c, resp + off, len - off);
		if (w <= 0)
			return 1;
		off += (size_t)w;
	}
	close(c);
	close(l);
	return 0;
}

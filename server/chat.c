/*
 * chat: `jmsg server --interactive`, the tutorialspoint chat's server.
 *
 * One connection at a time (others wait in the listen backlog): it prints
 * "Connection from: ('HOST', PORT)", then for each message
 * "from connected user: TEXT", prompts "type message: " and answers with
 * the next line of standard input, without its newline.  With close
 * framing a connection carries one message each way: the server reads to
 * the peer's FIN, answers and closes.  When standard input ends the
 * connection is closed and the server stops (exit 0): it has nothing more
 * to answer with.  A connection idle for --idle-timeout is closed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/chat.h"
#include "io/net.h"
#include "server/server.h"

/* The next line of standard input into *line, without its newline.
 * Returns its length, or -1 at the end of input. */
static ssize_t read_answer(char **line, size_t *cap)
{
	printf("type message: ");
	fflush(stdout);
	ssize_t n = getline(line, cap, stdin);
	if (n < 0)
		return -1;
	if (n > 0 && (*line)[n - 1] == '\n')
		(*line)[--n] = '\0';
	if (!isatty(STDIN_FILENO)) /* a terminal shows what was typed */
		printf("%s\n", *line);
	return n;
}

/* One connection's conversation.  Returns 1 when standard input ended
 * (stop serving), 0 when the connection is over. */
static int converse(const srv_config *cfg, const jmf_framing *f, int fd, const char *peer)
{
	app_chat c;
	char *line = NULL;
	size_t cap = 0;
	int stop = 0;
	app_chat_init(&c, fd, f);
	for (;;) {
		int r = app_chat_recv(&c, cfg->idle_ms);
		if (r == APP_CHAT_CLOSED) {
			printf("Connection from %s closed\n", peer);
			break;
		}
		if (r < 0) {
			printf("Closing connection from %s: %s\n", peer,
			       r == APP_CHAT_TIMEOUT ? "idle timeout" : c.err);
			break;
		}
		printf("from connected user: ");
		fwrite(jm_buf_head(&c.msg), 1, jm_buf_pending(&c.msg), stdout);
		putchar('\n');
		ssize_t n;
		int sent = -1;
		while ((n = read_answer(&line, &cap)) >= 0 &&
		       (sent = app_chat_send(&c, line, (size_t)n)) == -1)
			fprintf(stderr, "jmsg server: not sent: %s; type another\n", c.err);
		if (n >= 0 && sent < 0) {
			printf("Closing connection from %s: %s\n", peer, c.err);
			break;
		}
		if (n < 0) {
			printf("\nStandard input ended: closing the connection from %s and stopping\n", peer);
			stop = 1;
			break;
		}
		if (f->kind == JMF_CLOSE)
			break; /* one message each way */
	}
	free(line);
	app_chat_free(&c);
	return stop;
}

int srv_run_chat(const srv_config *cfg, const jmf_framing *f)
{
	char where[NET_ADDR_STRLEN];
	signal(SIGPIPE, SIG_IGN);
	int lfd = srv_listen(cfg, 16, where, sizeof where);
	if (lfd < 0)
		return JM_EXIT_RUNTIME;
	printf("Listening on %s (interactive, %s framing)\n", where, f->name);
	fflush(stdout);
	for (;;) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		net_nodelay(fd);
		char peer[NET_ADDR_STRLEN], tuple[NET_ADDR_STRLEN + 8];
		net_sock_str(fd, 1, peer, sizeof peer);
		app_chat_peer_tuple(peer, tuple, sizeof tuple);
		printf("Connection from: %s\n", tuple);
		int stop = converse(cfg, f, fd, tuple);
		close(fd);
		if (stop)
			break;
	}
	close(lfd);
	return JM_EXIT_OK;
}

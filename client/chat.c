/*
 * chat: `jmsg client --interactive`, the tutorialspoint chat's client.
 *
 * Prompts "type message: ", sends the line read (without its newline, as
 * Python's input() gives it), waits up to --timeout for the answer and
 * prints "Received from server: TEXT"; stops at a line "q" or at the end
 * of standard input.  Input may be piped: each line waits for the answer
 * to the one before.  With close framing every line is one connection: the
 * line is sent, the write side shut, and the answer is all the server
 * sends before it closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/chat.h"
#include "client/client.h"
#include "io/net.h"

typedef struct chat {
	const cli_config *cfg;
	jmf_framing f;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char where[NET_ADDR_STRLEN];
	int fd;
	app_chat c;
} chat;

/* Connect, waiting at most --timeout.  Returns 0, or the exit status
 * after a line on stderr. */
static int chat_connect(chat *ch)
{
	int fd = net_connect_start(&ch->ss, ch->sslen);
	if (fd < 0) {
		fprintf(stderr, "jmsg client: cannot connect to %s: %s\n", ch->where, strerror(errno));
		return JM_EXIT_CONNECT;
	}
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int n = poll(&p, 1, (int)ch->cfg->timeout_ms);
	int e = n > 0 ? net_connect_result(fd) : 0;
	if (n <= 0 || e) {
		if (n == 0)
			fprintf(stderr, "jmsg client: timed out connecting to %s\n", ch->where);
		else
			fprintf(stderr, "jmsg client: cannot connect to %s: %s\n", ch->where,
				strerror(n < 0 ? errno : e));
		close(fd);
		return n == 0 ? JM_EXIT_TIMEOUT : JM_EXIT_CONNECT;
	}
	/* blocking from here: app_chat waits with poll() */
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	ch->fd = fd;
	app_chat_init(&ch->c, fd, &ch->f);
	return 0;
}

static void chat_disconnect(chat *ch)
{
	if (ch->fd < 0)
		return;
	app_chat_free(&ch->c);
	close(ch->fd);
	ch->fd = -1;
}

/* Send one line and print the answer.  Returns 0, or the exit status after
 * a line on stderr. */
static int exchange(chat *ch, const char *line, size_t n)
{
	int rc;
	if (ch->fd < 0 && (rc = chat_connect(ch)) != 0)
		return rc;
	if ((rc = app_chat_send(&ch->c, line, n)) < 0) {
		fprintf(stderr, "jmsg client: %s\n", ch->c.err);
		return rc == -1 ? JM_EXIT_INTERNAL : JM_EXIT_CONNECT;
	}
	if (ch->f.kind == JMF_CLOSE)
		shutdown(ch->fd, SHUT_WR);
	rc = app_chat_recv(&ch->c, ch->cfg->timeout_ms);
	if (rc == APP_CHAT_MESSAGE) {
		printf("Received from server: ");
		fwrite(jm_buf_head(&ch->c.msg), 1, jm_buf_pending(&ch->c.msg), stdout);
		putchar('\n');
		fflush(stdout);
		if (ch->f.kind == JMF_CLOSE)
			chat_disconnect(ch);
		return 0;
	}
	if (rc == APP_CHAT_CLOSED)
		fprintf(stderr, "jmsg client: the server closed the connection without answering\n");
	else
		fprintf(stderr, "jmsg client: %s\n", ch->c.err);
	return rc == APP_CHAT_TIMEOUT ? JM_EXIT_TIMEOUT
	       : rc == APP_CHAT_FRAMING ? JM_EXIT_MALFORMED
	       : rc == APP_CHAT_NOMEM ? JM_EXIT_INTERNAL : JM_EXIT_CONNECT;
}

/* True when the framing cannot carry the line (raw's and close's empty
 * line, a fixed-size line too long, a delimited one holding the
 * delimiter): said on stderr, and the prompt comes again. */
static bool unsendable(const chat *ch, const char *line, size_t n)
{
	jm_buf probe = {0};
	char why[200];
	int r = app_frame_encode(&ch->f, &probe, line, n, NULL, NULL, why, sizeof why);
	jm_buf_free(&probe);
	if (r != -1)
		return false;
	fprintf(stderr, "jmsg client: not sent: %s; type another\n", why);
	return true;
}

static int chat_loop(chat *ch)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	for (;;) {
		printf("type message: ");
		fflush(stdout);
		ssize_t n = getline(&line, &cap, stdin);
		if (n < 0) {
			putchar('\n'); /* end the prompt's line */
			break;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (!isatty(STDIN_FILENO)) /* a terminal shows what was typed */
			printf("%s\n", line);
		if (!strcmp(line, "q"))
			break;
		if (unsendable(ch, line, (size_t)n))
			continue;
		if ((rc = exchange(ch, line, (size_t)n)) != 0)
			break;
	}
	free(line);
	return rc;
}

int cli_chat(const cli_config *cfg, const jmf_framing *f)
{
	chat ch = {.cfg = cfg, .f = *f, .fd = -1};
	char err[256];
	signal(SIGPIPE, SIG_IGN);
	if (net_resolve(cfg->host, cfg->port, &ch.ss, &ch.sslen, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg client: %s\n", err);
		return JM_EXIT_CONNECT;
	}
	net_addr_str((struct sockaddr *)&ch.ss, ch.where, sizeof ch.where);
	/* connect first, as the seed does, so a server that is not there is
	 * said before the first prompt */
	int rc = f->kind == JMF_CLOSE ? 0 : chat_connect(&ch);
	if (rc == 0)
		rc = chat_loop(&ch);
	chat_disconnect(&ch);
	return rc;
}

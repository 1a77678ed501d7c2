/*
 * chat: one message at a time over a blocking socket (chat.h).
 */
#include "app/chat.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The decoder's messages wait in the queue; an error ends reading. */
static int on_message(void *user, const app_frame_msg *m)
{
	app_chat *c = user;
	uint32_t n = (uint32_t)m->len;
	if (jm_buf_append(&c->queue, &n, sizeof n) < 0 ||
	    jm_buf_append(&c->queue, m->payload, m->len) < 0) {
		snprintf(c->err, sizeof c->err, "out of memory");
		c->failed = c->nomem = true;
		return JM_CB_STOP;
	}
	return JM_CB_OK;
}

static void on_error(void *user, const char *id, const char *detail)
{
	app_chat *c = user;
	snprintf(c->err, sizeof c->err, "%s framing error: %s: %s", c->f.name, id, detail);
	c->failed = true;
}

void app_chat_init(app_chat *c, int fd, const jmf_framing *f)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->f = *f;
	if (f->kind != JMF_RAW)
		app_framer_init(&c->dec, f, 0, on_message, on_error, c);
}

void app_chat_free(app_chat *c)
{
	if (c->f.kind != JMF_RAW)
		app_framer_free(&c->dec);
	jm_buf_free(&c->queue);
	jm_buf_free(&c->msg);
}

/* The queue's first message into msg, if there is one. */
static bool pop(app_chat *c)
{
	uint32_t n;
	if (jm_buf_pending(&c->queue) < sizeof n)
		return false;
	memcpy(&n, jm_buf_head(&c->queue), sizeof n);
	jm_buf_consume(&c->queue, sizeof n);
	c->msg.len = c->msg.off = 0;
	if (jm_buf_append(&c->msg, jm_buf_head(&c->queue), n) < 0) {
		snprintf(c->err, sizeof c->err, "out of memory");
		return false;
	}
	jm_buf_consume(&c->queue, n);
	if (!jm_buf_pending(&c->queue))
		c->queue.len = c->queue.off = 0;
	return true;
}

/* Wait until fd is readable, up to `deadline` (0: for ever).  0 when it is,
 * -1 at the deadline. */
static int wait_readable(int fd, uint64_t deadline)
{
	for (;;) {
		int ms = -1;
		if (deadline) {
			uint64_t now = now_ms();
			if (now >= deadline)
				return -1;
			ms = deadline - now > 60000 ? 60000 : (int)(deadline - now);
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return 0; /* let recv() say what is wrong */
	}
}

/* The peer's FIN: close's message (or a message cut short) from the decoder. */
static int at_eof(app_chat *c)
{
	c->eof = true;
	if (c->f.kind != JMF_RAW && !c->failed)
		app_framer_finish(&c->dec);
	if (pop(c))
		return APP_CHAT_MESSAGE;
	if (c->failed) {
		size_t l = strlen(c->err);
		snprintf(c->err + l, sizeof c->err - l, " (the peer closed the connection)");
		return APP_CHAT_FRAMING;
	}
	return APP_CHAT_CLOSED;
}

int app_chat_recv(app_chat *c, uint64_t timeout_ms)
{
	static uint8_t buf[APP_CHAT_RAW_READ];
	uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
	for (;;) {
		if (pop(c))
			return APP_CHAT_MESSAGE;
		if (c->failed)
			return c->nomem ? APP_CHAT_NOMEM : APP_CHAT_FRAMING;
		if (c->eof)
			return APP_CHAT_CLOSED;
		if (wait_readable(c->fd, deadline) < 0) {
			snprintf(c->err, sizeof c->err, "no whole message within %llu.%03llu s",
				 (unsigned long long)(timeout_ms / 1000),
				 (unsigned long long)(timeout_ms % 1000));
			return APP_CHAT_TIMEOUT;
		}
		ssize_t n = recv(c->fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(c->err, sizeof c->err, "%s%s", strerror(errno),
				 c->f.kind != JMF_RAW && !app_framer_idle(&c->dec)
					 ? " in the middle of a message" : "");
			return APP_CHAT_RESET;
		}
		if (n == 0)
			return at_eof(c);
		if (c->f.kind == JMF_RAW) {
			c->msg.len = c->msg.off = 0;
			if (jm_buf_append(&c->msg, buf, (size_t)n) < 0) {
				snprintf(c->err, sizeof c->err, "out of memory");
				return APP_CHAT_NOMEM;
			}
			return APP_CHAT_MESSAGE;
		}
		app_framer_feed(&c->dec, buf, (size_t)n);
	}
}

int app_chat_send(app_chat *c, const void *p, size_t len)
{
	jm_buf out = {0};
	char why[200];
	int rc = app_frame_encode(&c->f, &out, p, len, NULL, NULL, why, sizeof why);
	if (rc < 0) {
		snprintf(c->err, sizeof c->err, "cannot send that in %s framing: %s", c->f.name, why);
		jm_buf_free(&out);
		return rc == -1 ? -1 : -2;
	}
	while (jm_buf_pending(&out)) {
		ssize_t n = send(c->fd, jm_buf_head(&out), jm_buf_pending(&out), MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(c->err, sizeof c->err, "cannot send: %s", strerror(errno));
			jm_buf_free(&out);
			return -2;
		}
		jm_buf_consume(&out, (size_t)n);
	}
	jm_buf_free(&out);
	return 0;
}

void app_chat_peer_tuple(const char *hp, char *out, size_t n)
{
	const char *colon = strrchr(hp, ':');
	if (!colon) {
		snprintf(out, n, "%s", hp);
		return;
	}
	const char *h = hp;
	size_t hl = (size_t)(colon - hp);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	snprintf(out, n, "('%.*s', %s)", (int)hl, h, colon + 1);
}

int app_chat_framing(jmf_framing *f, const char *cmd, const char *arg)
{
	char *text = NULL;
	size_t len = 0;
	if (!arg) {
		jmf_builtin(f, JMF_RAW);
		return 0;
	}
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return -1;
	int rc = jmf_resolve(f, arg, m);
	fclose(m);
	/* the first line names the problem; the rest (a framing file's
	 * mistakes) follow as they are */
	if (rc < 0)
		fprintf(stderr, "jmsg %s: --framing %s: %s", cmd, arg, text && *text ? text : "cannot load\n");
	free(text);
	return rc;
}

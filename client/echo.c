/*
 * echo: `jmsg client --echo`, the tutorial's multiconn-client.py on one
 * event loop.
 *
 * Each of --conns connections sends every MESSAGE (framed, each in its own
 * send, "Sending b'...' to connection N"), reads ("Received b'...' from
 * connection N") until as many bytes came back as it sent, and closes
 * ("Closing connection N").  With close framing the one message is
 * followed by shutdown(SHUT_WR) and the connection reads on until the
 * server closes.  Every byte that comes back is compared with the byte
 * sent at that place: the run exits 0 only when all came back unchanged;
 * otherwise each failing connection gets one line on stderr and the exit
 * status is the first failure's (cmd/exit.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/answer.h"
#include "app/framer.h"
#include "client/client.h"
#include "framing_codec.h"
#include "io/evloop.h"
#include "io/net.h"

#define EC_RBUF 1024  /* recv(1024), as the tutorial's client reads */

typedef struct ecl ecl;

typedef struct ecconn {
	el_watch w;
	ecl *E;
	unsigned id;
	bool connecting, done, shut;
	size_t next_msg;      /* the next message to queue */
	jm_buf out;           /* the rest of the message being sent */
	size_t got;           /* bytes that came back, all equal to those sent */
	uint64_t last_ms;
} ecconn;

struct ecl {
	const cli_config *cfg;
	jmf_framing f;
	el_loop loop;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char server[NET_ADDR_STRLEN + 16]; /* ('HOST', PORT) */
	jm_buf expect;        /* every framed message, in order */
	size_t *msg_end;      /* where each message ends in expect */
	size_t nmsg;
	ecconn *c;
	unsigned open;
	int rc;
	jm_buf logbuf;
	uint8_t rbuf[EC_RBUF];
};

static void show(ecl *E, const char *fmt1, const uint8_t *p, size_t n, const char *fmt2, unsigned id)
{
	if (E->cfg->verbosity < 1)
		return;
	E->logbuf.len = E->logbuf.off = 0;
	app_bytes_repr(&E->logbuf, p, n);
	printf("%s%.*s%s%u\n", fmt1, (int)jm_buf_pending(&E->logbuf),
	       (const char *)jm_buf_head(&E->logbuf), fmt2, id);
}

static void ec_close(ecconn *c)
{
	if (c->done)
		return;
	c->done = true;
	el_watch_del(&c->E->loop, &c->w);
	close(c->w.fd);
	if (--c->E->open == 0)
		el_stop(&c->E->loop);
}

static void ec_fail(ecconn *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ec_fail(ecconn *c, int rc, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "jmsg client: connection %u: ", c->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c->E->rc == JM_EXIT_OK)
		c->E->rc = rc;
	ec_close(c);
}

static void ec_interest(ecconn *c)
{
	bool more = jm_buf_pending(&c->out) || c->next_msg < c->E->nmsg;
	if (el_watch_set(&c->E->loop, &c->w, EL_READ | (more ? EL_WRITE : 0)) < 0)
		ec_fail(c, JM_EXIT_INTERNAL, "%s", strerror(errno));
}

static void ec_write(ecconn *c)
{
	ecl *E = c->E;
	if (!jm_buf_pending(&c->out) && c->next_msg < E->nmsg) {
		size_t from = c->next_msg ? E->msg_end[c->next_msg - 1] : 0;
		size_t to = E->msg_end[c->next_msg++];
		c->out.len = c->out.off = 0;
		if (jm_buf_append(&c->out, E->expect.data + from, to - from) < 0) {
			ec_fail(c, JM_EXIT_INTERNAL, "out of memory");
			return;
		}
		show(E, "Sending ", E->expect.data + from, to - from, " to connection ", c->id);
	}
	if (jm_buf_pending(&c->out)) {
		ssize_t n = send(c->w.fd, jm_buf_head(&c->out), jm_buf_pending(&c->out), MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			ec_fail(c, JM_EXIT_CONNECT, "cannot send: %s", strerror(errno));
			return;
		}
		if (n > 0) {
			jm_buf_consume(&c->out, (size_t)n);
			c->last_ms = E->loop.now_ms;
		}
	}
	if (!jm_buf_pending(&c->out) && c->next_msg == E->nmsg && E->f.kind == JMF_CLOSE && !c->shut) {
		shutdown(c->w.fd, SHUT_WR); /* the message ends here; reading goes on */
		c->shut = true;
	}
	ec_interest(c);
}

/* n bytes came back: each must be the byte sent at that place. */
static void ec_received(ecconn *c, const uint8_t *p, size_t n)
{
	ecl *E = c->E;
	size_t total = E->expect.len;
	show(E, "Received ", p, n, " from connection ", c->id);
	for (size_t i = 0; i < n; i++, c->got++) {
		if (c->got >= total) {
			ec_fail(c, JM_EXIT_ECHO_DIFFERS, "more bytes came back than the %zu sent", total);
			return;
		}
		if (p[i] != E->expect.data[c->got]) {
			ec_fail(c, JM_EXIT_ECHO_DIFFERS,
				"byte %zu came back as 0x%02x, not 0x%02x as sent", c->got, p[i],
				E->expect.data[c->got]);
			return;
		}
	}
	if (c->got == total && E->f.kind != JMF_CLOSE) {
		if (E->cfg->verbosity >= 1)
			printf("Closing connection %u\n", c->id);
		ec_close(c);
	}
}

static void ec_read(ecconn *c)
{
	ecl *E = c->E;
	ssize_t n = recv(c->w.fd, E->rbuf, sizeof E->rbuf, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		ec_fail(c, JM_EXIT_CONNECT, "%s after %zu of the %zu bytes sent came back",
			strerror(errno), c->got, E->expect.len);
		return;
	}
	c->last_ms = E->loop.now_ms;
	if (n > 0) {
		ec_received(c, E->rbuf, (size_t)n);
	} else if (c->got == E->expect.len) {
		if (E->cfg->verbosity >= 1)
			printf("Closing connection %u\n", c->id);
		ec_close(c);
	} else {
		ec_fail(c, JM_EXIT_ECHO_DIFFERS,
			"the server closed the connection after %zu of the %zu bytes sent came back",
			c->got, E->expect.len);
	}
}

static void ec_io(el_loop *l, el_watch *w, int mask)
{
	ecconn *c = w->data;
	(void)l;
	if (c->connecting) {
		int e = net_connect_result(w->fd);
		if (e) {
			ec_fail(c, JM_EXIT_CONNECT, "cannot connect to %s: %s", c->E->server, strerror(e));
			return;
		}
		c->connecting = false;
		ec_write(c);
		return;
	}
	if (mask & EL_READ)
		ec_read(c);
	if (!c->done && (mask & EL_WRITE))
		ec_write(c);
}

static void ec_tick(el_loop *l, void *data)
{
	ecl *E = data;
	uint64_t now = el_now_ms();
	(void)l;
	for (unsigned i = 0; i < E->cfg->conns; i++) {
		ecconn *c = &E->c[i];
		if (!c->done && now - c->last_ms >= E->cfg->timeout_ms)
			ec_fail(c, JM_EXIT_TIMEOUT, "nothing for %llu ms; %zu of the %zu bytes sent came back",
				(unsigned long long)E->cfg->timeout_ms, c->got, E->expect.len);
	}
}

/* Frame every MESSAGE into E->expect.  Returns 0, or the exit status after
 * a line on stderr. */
static int ec_frame(ecl *E)
{
	const cli_config *cfg = E->cfg;
	if (E->f.kind == JMF_CLOSE && cfg->nmessages > 1) {
		fprintf(stderr, "jmsg client: --framing %s carries one message each way per connection: "
			"give one MESSAGE, not %d\n", E->f.name, cfg->nmessages);
		return JM_EXIT_USAGE;
	}
	E->nmsg = (size_t)cfg->nmessages;
	E->msg_end = calloc(E->nmsg, sizeof *E->msg_end);
	if (!E->msg_end)
		return JM_EXIT_INTERNAL;
	for (size_t i = 0; i < E->nmsg; i++) {
		char why[200];
		const char *m = cfg->messages[i];
		int r = app_frame_encode(&E->f, &E->expect, m, strlen(m), NULL, NULL, why, sizeof why);
		if (r == -2)
			return JM_EXIT_INTERNAL;
		if (r < 0) {
			fprintf(stderr, "jmsg client: MESSAGE %zu cannot be sent in %s framing: %s\n", i + 1,
				E->f.name, why);
			return JM_EXIT_USAGE;
		}
		E->msg_end[i] = E->expect.len;
	}
	return 0;
}

/* Start every connection ("Starting connection N to ('HOST', PORT)"). */
static int ec_start(ecl *E)
{
	const cli_config *cfg = E->cfg;
	for (unsigned i = 0; i < cfg->conns; i++) {
		ecconn *c = &E->c[i];
		c->E = E;
		c->id = i + 1;
		c->last_ms = el_now_ms();
		if (cfg->verbosity >= 1)
			printf("Starting connection %u to %s\n", c->id, E->server);
		int fd = net_connect_start(&E->ss, E->sslen);
		if (fd < 0) {
			fprintf(stderr, "jmsg client: connection %u: cannot connect to %s: %s\n", c->id,
				E->server, strerror(errno));
			return JM_EXIT_CONNECT;
		}
		c->connecting = true;
		E->open++;
		if (el_watch_add(&E->loop, &c->w, fd, EL_WRITE, ec_io, c) < 0) {
			c->done = true;
			close(fd);
			return JM_EXIT_INTERNAL;
		}
	}
	return 0;
}

static int ec_run(ecl *E)
{
	const cli_config *cfg = E->cfg;
	char err[256];
	int rc = ec_frame(E);
	if (rc)
		return rc;
	if (net_resolve(cfg->host, cfg->port, &E->ss, &E->sslen, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg client: %s\n", err);
		return JM_EXIT_CONNECT;
	}
	snprintf(E->server, sizeof E->server, "('%s', %s)", cfg->host, cfg->port);
	net_raise_fd_limit(cfg->conns + 32);
	E->c = calloc(cfg->conns, sizeof *E->c);
	if (!E->c || el_init(&E->loop, NULL) < 0)
		return JM_EXIT_INTERNAL;
	el_set_hooks(&E->loop, cfg->timeout_ms / 4 < 20 ? 20 : (int)(cfg->timeout_ms / 4 > 1000 ? 1000 : cfg->timeout_ms / 4),
		     ec_tick, NULL, E);
	rc = ec_start(E);
	if (rc == 0 && el_run(&E->loop) < 0)
		rc = JM_EXIT_INTERNAL;
	return rc ? rc : E->rc;
}

int cli_echo(const cli_config *cfg, const jmf_framing *f)
{
	ecl *E = calloc(1, sizeof *E);
	if (!E)
		return JM_EXIT_INTERNAL;
	E->cfg = cfg;
	E->f = *f;
	E->loop.epfd = -1;
	signal(SIGPIPE, SIG_IGN);
	int rc = ec_run(E);
	for (unsigned i = 0; E->c && i < cfg->conns; i++) {
		if (!E->c[i].done && E->c[i].E)
			ec_close(&E->c[i]);
		jm_buf_free(&E->c[i].out);
	}
	if (E->loop.epfd >= 0)
		el_free(&E->loop);
	free(E->c);
	free(E->msg_end);
	jm_buf_free(&E->expect);
	jm_buf_free(&E->logbuf);
	free(E);
	return rc;
}

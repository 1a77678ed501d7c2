/*
 * echo: `jmsg server --echo`, the tutorial's multiconn-server.py on the
 * server's event loop.
 *
 * Without a framing (or with raw) every byte read is queued to be sent
 * back as it is, as multiconn-server.py does.  With a framing, each
 * connection has a decoder (framing_codec.h) and each whole message is
 * framed again and queued; close's one message is answered at the peer's
 * FIN.  A framing error (a non-digit length prefix, no delimiter within
 * max_payload, a payload over it, a message cut short by the peer's FIN)
 * is logged, what was queued before it is written, and that connection
 * alone is closed.  The server's limits hold: --max-conns (more are
 * closed at once, with a log line), --idle-timeout, and reading pauses
 * while a connection's queue is over SRV_OUT_HIGH.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/answer.h"
#include "app/framer.h"
#include "framing_codec.h"
#include "io/evloop.h"
#include "io/net.h"
#include "server/server.h"

#define ECHO_RBUF (64 * 1024)
/* Bytes of an echo shown in a log line; longer ones end in "...". */
#define ECHO_LOG_MAX 512

typedef struct esrv esrv;

typedef struct econn {
	el_watch w;
	esrv *s;
	app_framer dec;      /* framed only */
	jm_buf out;
	bool closing;        /* write what is queued, then close */
	bool dead;
	uint64_t last_ms;
	char peer[NET_ADDR_STRLEN];
	struct econn *prev, *next;
} econn;

struct esrv {
	const srv_config *cfg;
	jmf_framing f;
	bool framed;
	el_loop loop;
	el_watch listener;
	int lfd;
	econn *conns, *dead;
	unsigned nconns;
	jm_buf logbuf;
	uint8_t rbuf[ECHO_RBUF];
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void elog(esrv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void elog(esrv *s, const char *fmt, ...)
{
	if (s->cfg->verbosity < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static void econn_close(econn *c, const char *why)
{
	esrv *s = c->s;
	if (c->dead)
		return;
	if (why)
		elog(s, "Closing connection to %s (%s)", c->peer, why);
	else
		elog(s, "Closing connection to %s", c->peer);
	el_watch_del(&s->loop, &c->w);
	close(c->w.fd);
	c->dead = true;
	s->nconns--;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = s->dead;
	s->dead = c;
}

/* "Echoing b'...' to PEER", as multiconn-server.py logs it. */
static void log_echo(esrv *s, econn *c, const uint8_t *p, size_t n)
{
	if (s->cfg->verbosity < 1)
		return;
	s->logbuf.len = s->logbuf.off = 0;
	app_bytes_repr(&s->logbuf, p, n > ECHO_LOG_MAX ? ECHO_LOG_MAX : n);
	printf("Echoing %.*s%s to %s\n", (int)jm_buf_pending(&s->logbuf),
	       (const char *)jm_buf_head(&s->logbuf), n > ECHO_LOG_MAX ? "..." : "", c->peer);
}

static void econn_interest(econn *c)
{
	if (c->dead)
		return;
	int mask = jm_buf_pending(&c->out) ? EL_WRITE : 0;
	if (!c->closing && jm_buf_pending(&c->out) <= SRV_OUT_HIGH)
		mask |= EL_READ;
	if (el_watch_set(&c->s->loop, &c->w, mask) < 0)
		econn_close(c, strerror(errno));
}

static void econn_flush(econn *c)
{
	while (!c->dead && jm_buf_pending(&c->out)) {
		ssize_t n = send(c->w.fd, jm_buf_head(&c->out), jm_buf_pending(&c->out), MSG_NOSIGNAL);
		if (n > 0) {
			log_echo(c->s, c, jm_buf_head(&c->out), (size_t)n);
			jm_buf_consume(&c->out, (size_t)n);
			c->last_ms = c->s->loop.now_ms;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			econn_close(c, n < 0 ? strerror(errno) : "send failed");
			return;
		}
	}
	if (c->dead)
		return;
	if (!jm_buf_pending(&c->out)) {
		c->out.len = c->out.off = 0;
		if (c->closing) {
			econn_close(c, NULL);
			return;
		}
	}
	econn_interest(c);
}

/* The decoder's messages are framed again (a jmsg message with its own
 * content-type and content-encoding) and queued; an error closes this
 * connection once what was queued before it is written. */
static int on_frame(void *user, const app_frame_msg *m)
{
	econn *c = user;
	char why[200];
	int r = app_frame_encode(&c->s->f, &c->out, m->payload, m->len, m->content_type,
				 m->content_encoding, why, sizeof why);
	if (r == 0 || (r == -1 && m->len == 0)) /* close: nothing sent, nothing back */
		return JM_CB_OK;
	elog(c->s, "Cannot echo the message from %s: %s", c->peer, why);
	c->closing = true;
	return JM_CB_STOP;
}

static void on_frame_error(void *user, const char *id, const char *detail)
{
	econn *c = user;
	elog(c->s, "Framing error from %s: %s: %s", c->peer, id, detail);
	c->closing = true;
}

/* The peer's FIN: close's message is answered now; any other framing
 * reports a message cut short.  Then close once the queue is written. */
static void econn_eof(econn *c)
{
	if (c->s->framed)
		app_framer_finish(&c->dec);
	c->closing = true;
}

static void econn_read(econn *c)
{
	esrv *s = c->s;
	ssize_t n = recv(c->w.fd, s->rbuf, sizeof s->rbuf, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		bool mid = s->framed && !app_framer_idle(&c->dec);
		char why[160];
		snprintf(why, sizeof why, "%s%s", strerror(errno), mid ? " in the middle of a message" : "");
		econn_close(c, why);
		return;
	}
	c->last_ms = s->loop.now_ms;
	if (n == 0)
		econn_eof(c);
	else if (!s->framed && jm_buf_append(&c->out, s->rbuf, (size_t)n) < 0)
		econn_close(c, "out of memory");
	else if (s->framed)
		app_framer_feed(&c->dec, s->rbuf, (size_t)n);
	if (!c->dead)
		econn_flush(c);
}

static void econn_io(el_loop *l, el_watch *w, int mask)
{
	econn *c = w->data;
	(void)l;
	if (mask & EL_READ && !c->closing)
		econn_read(c);
	else if (mask & EL_WRITE)
		econn_flush(c);
}

static void econn_free(econn *c)
{
	if (c->s->framed)
		app_framer_free(&c->dec);
	jm_buf_free(&c->out);
	free(c);
}

static void accept_one(esrv *s, int fd)
{
	char peer[NET_ADDR_STRLEN];
	net_sock_str(fd, 1, peer, sizeof peer);
	if (s->nconns >= s->cfg->max_conns) {
		elog(s, "Refusing connection from %s: %u connections open (--max-conns)", peer,
		     s->nconns);
		close(fd);
		return;
	}
	econn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return;
	}
	net_nodelay(fd);
	c->s = s;
	c->last_ms = el_now_ms();
	memcpy(c->peer, peer, sizeof peer);
	if (s->framed)
		app_framer_init(&c->dec, &s->f, s->cfg->max_content, on_frame, on_frame_error, c);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	elog(s, "Accepted connection from %s", c->peer);
	if (el_watch_add(&s->loop, &c->w, fd, EL_READ, econn_io, c) < 0) {
		c->w.fd = fd;
		econn_close(c, strerror(errno));
	}
}

static void on_accept(el_loop *l, el_watch *w, int mask)
{
	esrv *s = w->data;
	(void)l;
	(void)mask;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			accept_one(s, fd);
		else if (errno != EINTR)
			return;
	}
}

static void free_dead(esrv *s)
{
	while (s->dead) {
		econn *c = s->dead;
		s->dead = c->next;
		econn_free(c);
	}
}

static void before_sleep(el_loop *l, void *data)
{
	esrv *s = data;
	free_dead(s);
	if (stop_signal) {
		elog(s, "Stopping on %s: closing %u connections",
		     stop_signal == SIGINT ? "SIGINT" : "SIGTERM", s->nconns);
		while (s->conns)
			econn_close(s->conns, NULL);
		free_dead(s);
		el_stop(l);
	}
}

static void tick(el_loop *l, void *data)
{
	esrv *s = data;
	uint64_t now = el_now_ms();
	(void)l;
	if (!s->cfg->idle_ms)
		return;
	for (econn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (now - c->last_ms >= s->cfg->idle_ms)
			econn_close(c, s->framed && !app_framer_idle(&c->dec)
					       ? "idle timeout in the middle of a message"
							    : "idle timeout");
	}
}

/* Listen, write --port-file, say where.  -1 after a line on stderr. */
static int echo_listen(esrv *s)
{
	char where[NET_ADDR_STRLEN];
	s->lfd = srv_listen(s->cfg, 511, where, sizeof where);
	if (s->lfd < 0)
		return -1;
	if (el_watch_add(&s->loop, &s->listener, s->lfd, EL_READ, on_accept, s) < 0) {
		fprintf(stderr, "jmsg server: cannot watch the listening socket: %s\n", strerror(errno));
		return -1;
	}
	printf("Listening on %s (echo, %s framing)\n", where, s->framed ? s->f.name : "raw");
	fflush(stdout);
	return 0;
}

static int echo_start(esrv *s)
{
	struct sigaction sa = {.sa_handler = on_stop};
	sigset_t block;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	net_raise_fd_limit(s->cfg->max_conns + 32);
	if (el_init(&s->loop, &block) < 0) {
		fprintf(stderr, "jmsg server: cannot start the event loop: %s\n", strerror(errno));
		return -1;
	}
	if (echo_listen(s) < 0)
		return -1;
	int tick_ms = 1000;
	if (s->cfg->idle_ms && s->cfg->idle_ms / 4 < 1000)
		tick_ms = s->cfg->idle_ms / 4 < 20 ? 20 : (int)(s->cfg->idle_ms / 4);
	el_set_hooks(&s->loop, tick_ms, tick, before_sleep, s);
	if (el_run(&s->loop) < 0) {
		fprintf(stderr, "jmsg server: event loop failed: %s\n", strerror(errno));
		return -1;
	}
	elog(s, "Stopped");
	return 0;
}

int srv_run_echo(const srv_config *cfg, const jmf_framing *f)
{
	static esrv s0; /* holds the 64 KiB read buffer: not on the stack */
	esrv *s = &s0;
	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	s->f = *f;
	s->framed = f->kind != JMF_RAW;
	s->lfd = -1;
	s->loop.epfd = -1;
	int rc = echo_start(s) == 0 ? JM_EXIT_OK : JM_EXIT_RUNTIME;
	while (s->conns)
		econn_close(s->conns, NULL);
	free_dead(s);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->loop.epfd >= 0)
		el_free(&s->loop);
	jm_buf_free(&s->logbuf);
	fflush(stdout);
	return rc;
}

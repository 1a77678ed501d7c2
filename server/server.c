/*
 * server: accept, read, decode, answer, write, close.  See server.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "server/cache.h"
#include "io/evloop.h"
#include "io/net.h"
#include "server/server.h"

#define RBUF_SIZE (64 * 1024)
#define ACCEPT_BATCH 64
/* Connections beyond --max-conns being told so at one time; more are
 * closed without a word. */
#define MAX_REJECTING 64

enum conn_state {
	CONN_OPEN,    /* reading requests */
	CONN_FLUSH,   /* last response queued: write it, then close */
	CONN_LINGER,  /* write side shut: drain input until EOF or deadline */
	CONN_DEAD,    /* closed; freed before the loop sleeps */
};

typedef struct srv srv;

typedef struct conn {
	el_watch w;
	srv *s;
	enum conn_state state;
	bool rejected;        /* beyond --max-conns: not counted */
	bool read_paused;     /* output over SRV_OUT_HIGH */
	bool linger;          /* drain before closing (peer may be sending) */
	jm_decoder dec;
	jm_buf out;
	jm_buf in;            /* read but not decoded: decoding paused for output */
	uint64_t fed;         /* bytes decoded, the stream offset of in's head */
	bool stop_for_output; /* the decoder was stopped at a message boundary */
	uint64_t last_ms;     /* last progress, for --idle-timeout */
	uint64_t msg_start;   /* when the request being read began, for
	                         --request-timeout */
	uint64_t linger_until;
	char peer[NET_ADDR_STRLEN];
	/* the request being decoded */
	bool keep_alive, json, answered;
	uint8_t first[APP_BINARY_ECHO];
	size_t nfirst;
	struct conn *prev, *next;
} conn;

struct srv {
	const srv_config *cfg;
	el_loop loop;
	el_watch listener;
	int lfd;
	app_table table;
	struct json_tokener *tok;
	srv_cache cache;
	conn *conns;          /* live connections */
	conn *dead;           /* closed this round, freed before sleeping */
	unsigned nconns, nrejecting;
	bool stopping;
	uint64_t stop_deadline;
	uint64_t accept_resume;  /* accept paused (EMFILE) until then */
	jm_buf logbuf;
	uint8_t rbuf[RBUF_SIZE];
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* ------------------------------------------------------------ logging */

static void log_line(srv *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void log_line(srv *s, int level, const char *fmt, ...)
{
	if (s->cfg->verbosity < level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* The tutorial prints the bytes it sends with -v; otherwise a summary.
 * The response is the output queue's bytes after the first `from`
 * pending ones. */
static void log_sending(srv *s, conn *c, size_t from)
{
	if (s->cfg->verbosity < 1)
		return;
	const uint8_t *msg = jm_buf_head(&c->out) + from;
	size_t n = jm_buf_pending(&c->out) - from;
	if (s->cfg->verbosity >= 2) {
		s->logbuf.len = s->logbuf.off = 0;
		app_bytes_repr(&s->logbuf, msg, n);
		printf("Sending %.*s to %s\n", (int)jm_buf_pending(&s->logbuf),
		       (const char *)jm_buf_head(&s->logbuf), c->peer);
	} else {
		printf("Sending %zu-byte response to %s\n", n, c->peer);
	}
}

static void log_request_json(srv *s, conn *c, const uint8_t *p, size_t n)
{
	if (s->cfg->verbosity < 1)
		return;
	/* The content is valid UTF-8 JSON (the codec checked it); compact it
	 * so one request is one line. */
	s->logbuf.len = s->logbuf.off = 0;
	if (jm_json_compact(&s->logbuf, (const char *)p, n) < 0)
		return;
	size_t len = jm_buf_pending(&s->logbuf);
	int shown = len > 512 ? 512 : (int)len;
	printf("Received request %.*s%s from %s\n", shown, (const char *)jm_buf_head(&s->logbuf),
	       len > 512 ? "..." : "", c->peer);
}

/* ------------------------------------------------------------ connections */

static void conn_io(el_loop *l, el_watch *w, int mask);
static void conn_flush(conn *c);

static void conn_close(conn *c, const char *why)
{
	srv *s = c->s;
	if (c->state == CONN_DEAD)
		return;
	if (why)
		log_line(s, 1, "Closing connection to %s (%s)", c->peer, why);
	else
		log_line(s, 1, "Closing connection to %s", c->peer);
	el_watch_del(&s->loop, &c->w);
	close(c->w.fd);
	c->state = CONN_DEAD;
	if (c->rejected)
		s->nrejecting--;
	else
		s->nconns--;
	/* unlink now, free before the loop sleeps: a later event in this
	 * batch may still name the watch */
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = s->dead;
	c->prev = NULL;
	s->dead = c;
}

static void conn_free(conn *c)
{
	jm_decoder_free(&c->dec);
	jm_buf_free(&c->out);
	jm_buf_free(&c->in);
	free(c);
}

/* Stop reading requests; close once the queued output is written. */
static void conn_finish(conn *c, bool linger)
{
	c->state = CONN_FLUSH;
	c->linger = c->linger || linger;
}

/* ------------------------------------------------------------ requests
 *
 * The decoder's events for one connection.  Each kind has its own handler
 * and every handler returns what the decoder is to do next: JM_CB_OK to go
 * on, JM_CB_STOP once the connection stops reading requests (it is
 * closing, or reading paused for output). */

/* Where a response is about to be queued: the count of bytes pending
 * before it.  Not out.len: appending may move the pending bytes to the
 * front of the buffer (jm_buf_reserve), which changes len but not what
 * is pending ahead of the new response. */
static size_t out_mark(const conn *c)
{
	return jm_buf_pending(&c->out);
}

/* Log the response just queued after `mark`, if there is one. */
static void log_response(conn *c, size_t mark)
{
	if (jm_buf_pending(&c->out) > mark)
		log_sending(c->s, c, mark);
}

/* A request the server will not answer: {"error": ID, "detail": ...}, ID
 * the codec's error id, then close once it is written, draining whatever
 * the peer still sends so that a reset does not destroy the response. */
static int refuse(conn *c, jm_error e, const char *detail)
{
	size_t mark = out_mark(c);
	const char *why = detail ? detail : jm_error_text(e);
	log_line(c->s, 1, "Bad request from %s: %s: %s", c->peer, jm_error_id(e), why);
	int rc = app_answer_error(&c->out, jm_error_id(e), why);
	log_response(c, mark);
	if (rc < 0)
		conn_close(c, "out of memory");
	else
		conn_finish(c, true);
	return JM_CB_STOP;
}

static int on_header(conn *c, const jm_header *h)
{
	const char *ka = jm_header_str(h, JM_FIELD_CONNECTION);
	c->keep_alive = ka && !strcmp(ka, APP_KEEP_ALIVE);
	c->json = h->content_is_json;
	c->answered = false;
	c->nfirst = 0;
	return JM_CB_OK;
}

/* Content not answered on its own: keep the first bytes, which a binary
 * request's answer echoes. */
static int keep_first_bytes(conn *c, const uint8_t *p, size_t n)
{
	if (c->nfirst < APP_BINARY_ECHO) {
		size_t k = APP_BINARY_ECHO - c->nfirst;
		if (k > n)
			k = n;
		if (k) {
			memcpy(c->first + c->nfirst, p, k);
			c->nfirst += k;
		}
	}
	return JM_CB_OK;
}

/* JSON content is answered as soon as it is whole: from the cache if the
 * same request was answered before, else checked and answered afresh.
 * Whether the connection stays open is decided at the MESSAGE event. */
static int on_json_content(conn *c, const jm_event *ev)
{
	srv *s = c->s;
	size_t mark = out_mark(c);
	int rc;

	c->answered = true;
	const jm_buf *hit = srv_cache_get(&s->cache, ev->data, ev->len, c->keep_alive);
	if (hit) {
		log_request_json(s, c, ev->data, ev->len);
		rc = jm_buf_append(&c->out, jm_buf_head(hit), jm_buf_pending(hit));
	} else {
		/* Not seen before: check it as the codec would have (the
		 * decoder skips the check so that cache hits, content already
		 * found valid, are not checked again), and refuse it as the
		 * codec's error would have been. */
		size_t at;
		char detail[160];
		jm_error e = jm_check_content(ev->header, ev->data, ev->len, &at, detail, sizeof detail);
		if (e != JM_ERR_NONE)
			return refuse(c, e, detail);
		log_request_json(s, c, ev->data, ev->len);
		rc = app_answer_json(&c->out, &s->table, s->tok, ev->data, ev->len,
				     c->keep_alive ? app_keep_alive_member() : NULL);
		if (rc == 0)
			srv_cache_put(&s->cache, ev->data, ev->len, c->keep_alive,
				      jm_buf_head(&c->out) + mark, jm_buf_pending(&c->out) - mark);
	}
	if (rc < 0) {
		conn_close(c, "out of memory");
		return JM_CB_STOP;
	}
	log_response(c, mark);
	if (rc == 1) { /* a bad_request error response: close */
		conn_finish(c, true);
		return JM_CB_STOP;
	}
	return JM_CB_OK;
}

static int on_content(conn *c, const jm_event *ev)
{
	if (c->json && !c->answered)
		return on_json_content(c, ev);
	return keep_first_bytes(c, ev->data, ev->len);
}

/* The answer to a request whose content did not answer it: binary content
 * (from its first bytes), or JSON with no content event.  Returns as the
 * app_answer functions do. */
static int answer_at_end(conn *c, const jm_header *h)
{
	srv *s = c->s;
	c->answered = true;
	if (c->json)
		return app_answer_json(&c->out, &s->table, s->tok, (const uint8_t *)"", 0, NULL);
	const char *ct = h ? jm_header_str(h, JM_FIELD_CONTENT_TYPE) : NULL;
	log_line(s, 1, "Received %s request from %s", ct ? ct : "binary", c->peer);
	return app_answer_binary(&c->out, c->first, c->nfirst,
				 c->keep_alive ? app_keep_alive_member() : NULL);
}

/* The request is whole and answered: close, pause, or read the next. */
static int on_message(conn *c, const jm_header *h)
{
	srv *s = c->s;
	size_t mark = out_mark(c);
	int rc = c->answered ? 0 : answer_at_end(c, h);

	log_response(c, mark);
	if (rc < 0) {
		conn_close(c, "out of memory");
		return JM_CB_STOP;
	}
	if (rc == 1 || !c->keep_alive) {
		/* Bytes after a one-shot request are never read: drain them
		 * rather than reset the connection under the response. */
		conn_finish(c, rc == 1);
		return JM_CB_STOP;
	}
	/* The next request begins no earlier than now. */
	c->msg_start = s->loop.now_ms;
	/* Over the mark, reading and decoding pause until the queue drains:
	 * the bytes already read wait in c->in (see conn_feed).  Answering
	 * the rest of a read instead let 64 KiB of small pipelined requests
	 * for a large search result queue hundreds of megabytes. */
	if (jm_buf_pending(&c->out) > SRV_OUT_HIGH) {
		c->read_paused = true;
		c->stop_for_output = true;
		return JM_CB_STOP;
	}
	return JM_CB_OK;
}

static int on_event(void *user, const jm_event *ev)
{
	conn *c = user;
	if (c->state != CONN_OPEN)
		return JM_CB_STOP;
	switch (ev->type) {
	case JM_EV_PROTOHEADER:
		return JM_CB_OK;
	case JM_EV_HEADER:
		return on_header(c, ev->header);
	case JM_EV_CONTENT_CHUNK:
		return keep_first_bytes(c, ev->data, ev->len);
	case JM_EV_CONTENT:
		return on_content(c, ev);
	case JM_EV_MESSAGE:
		return on_message(c, ev->header);
	case JM_EV_ERROR:
		return refuse(c, ev->error, ev->detail);
	}
	return JM_CB_OK;
}

/* Feed input.  The decoder takes it all unless a request ended the
 * conversation (an error, or a request without keep-alive): the rest is
 * never answered; or unless the output queue went over SRV_OUT_HIGH at
 * the end of a request: then the decoder stopped at that message boundary
 * and is started afresh there, and the rest waits in c->in until the
 * queue drains. */
static void conn_feed(conn *c, const uint8_t *p, size_t n)
{
	size_t used = jm_decoder_feed(&c->dec, p, n);
	c->fed += used;
	if (!c->stop_for_output)
		return;
	c->stop_for_output = false;
	jm_decoder_reset(&c->dec, c->fed);
	if (used < n && c->state == CONN_OPEN && jm_buf_append(&c->in, p + used, n - used) < 0)
		conn_close(c, "out of memory");
}

/* Decode what was held back while the output queue was full. */
static void conn_resume(conn *c)
{
	jm_buf held = c->in; /* conn_feed may hold a new rest in c->in */
	memset(&c->in, 0, sizeof c->in);
	/* A request held back began waiting now: the pause was ours, not
	 * the client's, and must not count against --request-timeout. */
	c->msg_start = c->s->loop.now_ms;
	conn_feed(c, jm_buf_head(&held), jm_buf_pending(&held));
	jm_buf_free(&held);
}

static void conn_set_interest(conn *c)
{
	int mask = 0;
	if (c->state == CONN_DEAD)
		return;
	if (jm_buf_pending(&c->out))
		mask |= EL_WRITE;
	if ((c->state == CONN_OPEN && !c->read_paused && !c->s->cfg->no_read) ||
	    c->state == CONN_LINGER)
		mask |= EL_READ;
	if (el_watch_set(&c->s->loop, &c->w, mask) < 0)
		conn_close(c, strerror(errno));
}

/* Output written and the connection is closing. */
static void conn_done(conn *c)
{
	int avail = 0;
	if (!c->linger && ioctl(c->w.fd, FIONREAD, &avail) == 0 && avail == 0) {
		conn_close(c, NULL);
		return;
	}
	shutdown(c->w.fd, SHUT_WR);
	c->state = CONN_LINGER;
	c->linger_until = el_now_ms() + SRV_LINGER_MS;
}

static void conn_flush(conn *c)
{
	for (;;) {
		if (c->state == CONN_DEAD)
			return;
		while (jm_buf_pending(&c->out) > 0) {
			ssize_t n = send(c->w.fd, jm_buf_head(&c->out), jm_buf_pending(&c->out),
					 MSG_NOSIGNAL);
			if (n > 0) {
				jm_buf_consume(&c->out, (size_t)n);
				c->last_ms = c->s->loop.now_ms;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			conn_close(c, n < 0 ? strerror(errno) : "send failed");
			return;
		}
		if (jm_buf_pending(&c->out) > 0)
			break;
		c->out.len = c->out.off = 0;
		if (c->state == CONN_FLUSH) {
			conn_done(c);
		} else if (c->state == CONN_OPEN) {
			c->read_paused = false; /* queue drained: decode and read again */
			if (jm_buf_pending(&c->in)) {
				conn_resume(c);
				continue; /* write what that answered */
			}
		}
		break;
	}
	conn_set_interest(c);
}

static void conn_eof(conn *c)
{
	if (c->state == CONN_LINGER) {
		conn_close(c, NULL);
		return;
	}
	if (c->state == CONN_OPEN) {
		/* A peer that stops mid-message gets a truncated error (it
		 * may still read: it only shut its write side). */
		if (jm_decoder_idle(&c->dec) || jm_decoder_failed(&c->dec) ||
		    jm_decoder_finish(&c->dec)) {
			if (jm_buf_pending(&c->out) == 0) {
				conn_close(c, NULL);
				return;
			}
			c->state = CONN_FLUSH;
		}
	}
	conn_flush(c);
}

static void conn_read(conn *c)
{
	srv *s = c->s;
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = recv(c->w.fd, s->rbuf, sizeof s->rbuf, 0);
		if (n > 0) {
			c->last_ms = s->loop.now_ms;
			if (jm_decoder_idle(&c->dec))
				c->msg_start = s->loop.now_ms;
			if (c->state == CONN_OPEN)
				conn_feed(c, s->rbuf, (size_t)n);
			if (c->state == CONN_DEAD)
				return;
			/* level-triggered: a short read means the socket is
			 * empty, so skip the recv() that would say EAGAIN */
			if ((size_t)n < sizeof s->rbuf || c->read_paused ||
			    (c->state != CONN_OPEN && c->state != CONN_LINGER))
				break;
			continue;
		}
		if (n == 0) {
			conn_eof(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		conn_close(c, strerror(errno));
		return;
	}
	conn_flush(c);
}

static void conn_io(el_loop *l, el_watch *w, int mask)
{
	conn *c = w->data;
	if (mask & EL_READ) {
		conn_read(c);
		return; /* conn_read flushes */
	}
	if (mask & EL_WRITE)
		conn_flush(c);
}

static conn *conn_new(srv *s, int fd, bool rejected)
{
	conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->s = s;
	c->rejected = rejected;
	c->last_ms = el_now_ms();
	net_sock_str(fd, 1, c->peer, sizeof c->peer);
	jm_decoder_config dc = {.max_content = s->cfg->max_content, .stream_content = true,
				.no_content_check = true /* see on_json_content() */};
	jm_decoder_init(&c->dec, &dc, on_event, c);
	c->w.fd = fd;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	if (rejected)
		s->nrejecting++;
	else
		s->nconns++;
	return c;
}

/* A connection just accepted on `fd`: served, told the server is full
 * (beyond --max-conns), or closed without a word (beyond MAX_REJECTING
 * of those). */
static void conn_admit(srv *s, int fd)
{
	bool over = s->nconns >= s->cfg->max_conns;
	if (over && s->nrejecting >= MAX_REJECTING) {
		close(fd);
		return;
	}
	net_nodelay(fd);
	conn *c = conn_new(s, fd, over);
	if (!c) {
		close(fd);
		return;
	}
	if (el_watch_add(&s->loop, &c->w, fd, 0, conn_io, c) < 0) {
		conn_close(c, strerror(errno));
		return;
	}
	if (over) {
		log_line(s, 1, "Refusing connection from %s: %u connections open (--max-conns)", c->peer,
			 s->nconns);
		char detail[96];
		snprintf(detail, sizeof detail, "server has %u connections open, its maximum",
			 s->cfg->max_conns);
		app_answer_error(&c->out, SRV_ERR_BUSY, detail);
		c->state = CONN_FLUSH;
		c->linger = true;
		conn_flush(c);
		return;
	}
	log_line(s, 1, "Accepted connection from %s", c->peer);
	conn_set_interest(c);
}

static void on_accept(el_loop *l, el_watch *w, int mask)
{
	srv *s = w->data;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: stop accepting for a
				 * moment instead of spinning on a readable
				 * listener. */
				fprintf(stderr, "jmsg server: cannot accept: %s\n", strerror(errno));
				el_watch_set(&s->loop, &s->listener, 0);
				s->accept_resume = el_now_ms() + 100;
			}
			return;
		}
		conn_admit(s, fd);
	}
}

/* ------------------------------------------------------------ loop hooks */

static void begin_stop(srv *s)
{
	s->stopping = true;
	s->stop_deadline = el_now_ms() + SRV_STOP_GRACE_MS;
	log_line(s, 1, "Stopping on %s: no new connections; finishing %u open",
		 stop_signal == SIGINT ? "SIGINT" : "SIGTERM", s->nconns + s->nrejecting);
	if (s->lfd >= 0) {
		el_watch_del(&s->loop, &s->listener);
		close(s->lfd);
		s->lfd = -1;
	}
	for (conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == CONN_OPEN && jm_buf_pending(&c->out) == 0)
			conn_close(c, NULL);
		else if (c->state == CONN_OPEN) {
			c->state = CONN_FLUSH;
			conn_set_interest(c);
		}
	}
}

static void before_sleep(el_loop *l, void *data)
{
	srv *s = data;
	while (s->dead) {
		conn *c = s->dead;
		s->dead = c->next;
		conn_free(c);
	}
	if (stop_signal && !s->stopping)
		begin_stop(s);
	if (s->stopping && !s->conns)
		el_stop(l);
}

/* With --no-read nothing is ever read, so a peer's FIN or reset is never
 * seen by recv(): ask TCP.  Without this every closed connection stayed
 * (in CLOSE_WAIT) and counted against --max-conns until the server
 * refused everyone. */
static bool peer_gone(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return true;
	return ti.tcpi_state == TCP_CLOSE_WAIT || ti.tcpi_state == TCP_CLOSE;
}

static void tick(el_loop *l, void *data)
{
	srv *s = data;
	uint64_t now = el_now_ms();
	if (s->accept_resume && now >= s->accept_resume && s->lfd >= 0) {
		s->accept_resume = 0;
		el_watch_set(&s->loop, &s->listener, EL_READ);
	}
	for (conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (s->stopping && now >= s->stop_deadline) {
			conn_close(c, "server stopping");
		} else if (c->state == CONN_LINGER) {
			if (now >= c->linger_until)
				conn_close(c, NULL);
		} else if (s->cfg->no_read && c->state == CONN_OPEN && peer_gone(c->w.fd)) {
			conn_close(c, "closed by the peer");
		} else if (s->cfg->idle_ms && !s->cfg->no_read && now - c->last_ms >= s->cfg->idle_ms) {
			conn_close(c, jm_decoder_idle(&c->dec) && !jm_buf_pending(&c->out)
					      ? "idle timeout"
					      : "idle timeout in the middle of a message");
		} else if (s->cfg->request_ms && c->state == CONN_OPEN && !c->read_paused &&
			   !jm_decoder_idle(&c->dec) && now - c->msg_start >= s->cfg->request_ms) {
			/* Not while reading is paused: then the wait is ours. */
			conn_close(c, "request not complete within the request timeout");
		}
	}
}

/* ------------------------------------------------------------ setup */

static int write_port_file(const char *path, int port)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The search table, from --search-table or the tutorial's.  -1 after a
 * line on stderr. */
static int load_table(srv *s)
{
	const srv_config *cfg = s->cfg;
	char err[256];
	if (cfg->table_file ? app_table_load(&s->table, cfg->table_file, cfg->max_table, err, sizeof err)
			    : app_table_default(&s->table)) {
		fprintf(stderr, "jmsg server: %s\n", cfg->table_file ? err : "out of memory");
		return -1;
	}
	return 0;
}

/* Room for --max-conns descriptors, or a warning that there is not. */
static void check_fd_limit(const srv_config *cfg)
{
	net_raise_fd_limit(cfg->max_conns + MAX_REJECTING + 32);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)cfg->max_conns + 32)
		fprintf(stderr, "jmsg server: warning: the open-file limit (ulimit -n) is %llu, so fewer "
			"than --max-conns %u connections can be accepted\n",
			(unsigned long long)rl.rlim_cur, cfg->max_conns);
}

/* SIGINT and SIGTERM set stop_signal; `block` gets both, for the loop to
 * hold them off everywhere but inside epoll_pwait(). */
static void catch_stop_signals(sigset_t *block)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(block);
	sigaddset(block, SIGINT);
	sigaddset(block, SIGTERM);
}

/* Everything but the listening socket: tokener, answer cache, descriptor
 * limit, signals, event loop.  -1 after a line on stderr. */
static int prepare(srv *s)
{
	s->tok = json_tokener_new_ex(JM_SPEC_MAX_JSON_DEPTH + 1);
	if (srv_cache_init(&s->cache) < 0) {
		fprintf(stderr, "jmsg server: out of memory\n");
		return -1;
	}
	check_fd_limit(s->cfg);
	sigset_t block;
	catch_stop_signals(&block);
	if (!s->tok || el_init(&s->loop, &block) < 0) {
		fprintf(stderr, "jmsg server: cannot start the event loop: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int srv_listen(const srv_config *cfg, int backlog, char *where, size_t n)
{
	char err[256];
	int lfd = net_listen(cfg->host, cfg->port, backlog, err, sizeof err);
	if (lfd < 0) {
		fprintf(stderr, "jmsg server: %s\n", err);
		return -1;
	}
	net_sock_str(lfd, 0, where, n);
	if (cfg->port_file && write_port_file(cfg->port_file, net_local_port(lfd)) < 0) {
		fprintf(stderr, "jmsg server: cannot write port file '%s': %s\n", cfg->port_file,
			strerror(errno));
		close(lfd);
		return -1;
	}
	return lfd;
}

/* Listen, write --port-file, watch for connections, say where.  -1 after
 * a line on stderr. */
static int start_listening(srv *s)
{
	const srv_config *cfg = s->cfg;
	char where[NET_ADDR_STRLEN];
	s->lfd = srv_listen(cfg, 511, where, sizeof where);
	if (s->lfd < 0)
		return -1;
	if (el_watch_add(&s->loop, &s->listener, s->lfd, EL_READ, on_accept, s) < 0) {
		fprintf(stderr, "jmsg server: cannot watch the listening socket: %s\n", strerror(errno));
		return -1;
	}
	/* Printed even with -q: scripts wait for it. */
	printf("Listening on %s%s\n", where, cfg->no_read ? " (--no-read: requests are never read)" : "");
	fflush(stdout);
	return 0;
}

/* A sweep per tick keeps timeouts O(connections) per tick: often enough
 * for the shortest timeout to be checked four times over. */
static int tick_interval(const srv_config *cfg)
{
	int tick_ms = 1000;
	if (cfg->idle_ms && cfg->idle_ms / 4 < (uint64_t)tick_ms)
		tick_ms = cfg->idle_ms / 4 < 20 ? 20 : (int)(cfg->idle_ms / 4);
	if (cfg->request_ms && cfg->request_ms / 4 < (uint64_t)tick_ms)
		tick_ms = cfg->request_ms / 4 < 20 ? 20 : (int)(cfg->request_ms / 4);
	return tick_ms;
}

/* Run the loop until a stop signal's connections are finished.  -1 after
 * a line on stderr. */
static int serve(srv *s)
{
	el_set_hooks(&s->loop, tick_interval(s->cfg), tick, before_sleep, s);
	if (el_run(&s->loop) < 0) {
		fprintf(stderr, "jmsg server: event loop failed: %s\n", strerror(errno));
		return -1;
	}
	before_sleep(&s->loop, s); /* free the last closed connections */
	log_line(s, 1, "Stopped");
	return 0;
}

static void teardown(srv *s)
{
	while (s->conns)
		conn_close(s->conns, NULL);
	while (s->dead) {
		conn *c = s->dead;
		s->dead = c->next;
		conn_free(c);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	el_free(&s->loop);
	if (s->tok)
		json_tokener_free(s->tok);
	app_table_free(&s->table);
	srv_cache_free(&s->cache);
	app_answer_cleanup();
	jm_buf_free(&s->logbuf);
	fflush(stdout);
}

int srv_run(const srv_config *cfg)
{
	static srv s0; /* holds the 64 KiB read buffer: not on the stack */
	srv *s = &s0;

	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	s->lfd = -1;
	s->loop.epfd = -1;
	if (load_table(s) < 0)
		return JM_EXIT_RUNTIME;
	int rc = JM_EXIT_RUNTIME;
	if (prepare(s) == 0 && start_listening(s) == 0 && serve(s) == 0)
		rc = JM_EXIT_OK;
	teardown(s);
	return rc;
}

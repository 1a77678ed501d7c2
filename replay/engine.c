/*
 * engine: the replay event loop; see engine.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "replay/engine.h"
#include "io/evloop.h"
#include "io/net.h"

/* Requests written in one sendmsg(), at most. */
#define RP_IOV_MAX 64

typedef enum conn_state { C_CONNECTING, C_OPEN, C_LINGER } conn_state;

typedef struct conn {
	struct engine *E;
	const rp_stream *s;
	el_watch w;               /* w.fd: -1 until connect() began */
	conn_state st;
	uint64_t last_progress;
	uint64_t linger_start;    /* C_LINGER: when the wait for a close began */
	/* sending */
	size_t begun;             /* requests due and queued for writing */
	size_t out_off;           /* bytes of request `sent` written */
	uint64_t last_sent;
	size_t sent;              /* requests written completely */
	/* receiving */
	jm_decoder dec;
	jm_buf live;              /* the response being decoded */
	bool live_json;
	size_t answered;
	uint64_t *answered_at;    /* [n requests] */
	bool closing;             /* decided to end; do it after this event */
	rp_end end;
	int sys_errno;
	uint64_t started;
} conn;

typedef struct engine {
	const rp_capture *c;
	const rp_engine_config *cfg;
	const rp_events *ev;
	el_loop loop;
	bool loop_ready;          /* el_init() succeeded: the signal mask to restore */
	unsigned conc;
	uint64_t start;
	size_t *order;            /* stream indexes by start time */
	size_t n_order, next;     /* next stream to start */
	conn **active;
	size_t n_active;
	bool any_connected;
	bool fatal;
	char *err;
	size_t errlen;
} engine;

static volatile sig_atomic_t interrupted;
static size_t not_started;

void rp_engine_interrupt(void)
{
	interrupted = 1;
}

bool rp_engine_interrupted(void)
{
	return interrupted != 0;
}

size_t rp_engine_not_started(void)
{
	return not_started;
}

const char *rp_end_name(rp_end e)
{
	switch (e) {
	case RP_END_DONE: return "done";
	case RP_END_CLOSED: return "closed";
	case RP_END_RESET: return "reset";
	case RP_END_TIMEOUT: return "timeout";
	case RP_END_MALFORMED: return "malformed";
	case RP_END_CONNECT: return "connect";
	case RP_END_INTERRUPTED: return "interrupted";
	}
	return "?";
}

/* ---------------------------------------------------------------- decoding */

/* Enough extra responses have been reported: stop listening. */
static bool too_chatty(conn *k)
{
	if (k->answered < k->s->n[RP_REQ] + RP_MAX_EXTRA)
		return false;
	k->closing = true;
	k->end = RP_END_DONE;
	return true;
}

static int on_event(void *user, const jm_event *ev)
{
	conn *k = user;
	engine *E = k->E;
	switch (ev->type) {
	case JM_EV_PROTOHEADER: {
		uint8_t ph[2] = {(uint8_t)(ev->header_len >> 8), (uint8_t)ev->header_len};
		k->live.len = k->live.off = 0;
		if (jm_buf_append(&k->live, ph, 2) < 0)
			goto oom;
		break;
	}
	case JM_EV_HEADER:
		if (jm_buf_append(&k->live, ev->header->raw, ev->header->raw_len) < 0)
			goto oom;
		k->live_json = ev->header->content_is_json;
		break;
	case JM_EV_CONTENT:
	case JM_EV_CONTENT_CHUNK:
		if (jm_buf_append(&k->live, ev->data, ev->len) < 0)
			goto oom;
		break;
	case JM_EV_MESSAGE: {
		rp_msg m = {
			.bytes = k->live.data,
			.len = k->live.len,
			.header_len = ev->header_len,
			.content_is_json = ev->header ? ev->header->content_is_json : k->live_json,
		};
		uint64_t now = el_now_ns();
		if (k->answered < k->s->n[RP_REQ])
			k->answered_at[k->answered] = now;
		if (E->ev->response)
			E->ev->response(E->ev->user, k->s, k->answered, &m);
		k->answered++;
		k->last_progress = now;
		if (too_chatty(k))
			return JM_CB_STOP;
		break;
	}
	case JM_EV_ERROR:
		if (strcmp(jm_error_severity(ev->error), "error") != 0)
			break;  /* a warning: the message goes on as bytes */
		if (E->ev->bad_response)
			E->ev->bad_response(E->ev->user, k->s, k->answered, ev->error, ev->detail);
		k->answered++;
		if (too_chatty(k))
			return JM_CB_STOP;
		if (!ev->can_continue) {
			k->closing = true;
			k->end = RP_END_MALFORMED;
			return JM_CB_STOP;
		}
		break;
	}
	return JM_CB_OK;
oom:
	k->closing = true;
	k->end = RP_END_RESET;
	k->sys_errno = ENOMEM;
	return JM_CB_STOP;
}

/* ---------------------------------------------------------------- connections */

static void finish(conn *k)
{
	engine *E = k->E;
	rp_stream_result r = {
		.end = k->end,
		.sys_errno = k->sys_errno,
		.sent = k->sent,
		.answered = k->answered,
		.started_ns = k->started,
		.ended_ns = el_now_ns(),
	};
	if (r.end == RP_END_CLOSED && k->answered >= k->s->n[RP_REQ])
		r.end = RP_END_DONE;
	if (k->w.fd >= 0) {
		el_watch_del(&E->loop, &k->w);
		close(k->w.fd);
	}
	/* After a fatal stop the one error line says it all. */
	if (E->ev->done && !E->fatal)
		E->ev->done(E->ev->user, k->s, &r);
	jm_decoder_free(&k->dec);
	jm_buf_free(&k->live);
	free(k->answered_at);
	for (size_t i = 0; i < E->n_active; i++) {
		if (E->active[i] == k) {
			E->active[i] = E->active[--E->n_active];
			break;
		}
	}
	free(k);
}

static void end_with(conn *k, rp_end end, int err)
{
	if (!k->closing) {
		k->closing = true;
		k->end = end;
		k->sys_errno = err;
	}
}

/* Requests queued and not yet fully written. */
static bool writing(const conn *k)
{
	return k->sent < k->begun;
}

/* Write what is due; returns false once the connection is ending. */
static void flush_out(conn *k)
{
	/* Requests due together go out in one write, as the original client
	 * that pipelined them wrote them: a request per send() would let the
	 * target answer between them and undo the pipelining on the wire. */
	while (writing(k)) {
		struct iovec iov[RP_IOV_MAX];
		int n = 0;
		for (size_t q = k->sent; q < k->begun && n < RP_IOV_MAX; q++, n++) {
			const rp_msg *m = &k->s->msg[RP_REQ][q];
			size_t skip = q == k->sent ? k->out_off : 0;
			iov[n].iov_base = m->bytes + skip;
			iov[n].iov_len = m->len - skip;
		}
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(k->w.fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			end_with(k, RP_END_RESET, errno);
			return;
		}
		k->last_progress = el_now_ns();
		size_t left = (size_t)w;
		while (left > 0) {
			size_t rest = k->s->msg[RP_REQ][k->sent].len - k->out_off;
			if (left < rest) {
				k->out_off += left;
				break;
			}
			left -= rest;
			k->out_off = 0;
			k->sent++;
		}
	}
	el_watch_set(&k->E->loop, &k->w, EL_READ | (writing(k) ? EL_WRITE : 0));
}

static void read_in(conn *k)
{
	uint8_t buf[65536];
	for (int rounds = 0; rounds < 16 && !k->closing; rounds++) {
		ssize_t r = recv(k->w.fd, buf, sizeof buf, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			end_with(k, RP_END_RESET, errno);
			return;
		}
		if (r == 0) {
			if (!jm_decoder_idle(&k->dec) && !jm_decoder_failed(&k->dec))
				jm_decoder_finish(&k->dec);  /* reports the cut response */
			end_with(k, RP_END_CLOSED, 0);
			return;
		}
		k->last_progress = el_now_ns();
		jm_decoder_feed(&k->dec, buf, (size_t)r);
		if (k->closing)
			return;
	}
}

static el_proc on_ready;

static void begin_stream(engine *E, size_t si)
{
	const rp_stream *s = &E->c->s[si];
	conn *k = calloc(1, sizeof *k);
	if (k)
		k->answered_at = calloc(s->n[RP_REQ] ? s->n[RP_REQ] : 1, sizeof *k->answered_at);
	uint64_t now = el_now_ns();
	if (!k || !k->answered_at) {
		rp_stream_result r = {.end = RP_END_CONNECT, .sys_errno = ENOMEM, .started_ns = now,
				      .ended_ns = now};
		if (E->ev->done)
			E->ev->done(E->ev->user, s, &r);
		if (k)
			free(k->answered_at);
		free(k);
		return;
	}
	k->E = E;
	k->s = s;
	k->started = now;
	k->last_progress = now;
	k->w.fd = -1;
	jm_decoder_config dc = {.max_content = E->cfg->max_content};
	jm_decoder_init(&k->dec, &dc, on_event, k);
	E->active[E->n_active++] = k;

	int fd = net_connect_start(&E->cfg->addr, E->cfg->addrlen);
	if (fd < 0) {
		end_with(k, RP_END_CONNECT, errno);
		return;
	}
	k->st = C_CONNECTING;
	/* On failure w.fd is fd all the same: finish() closes it. */
	if (el_watch_add(&E->loop, &k->w, fd, EL_WRITE, on_ready, k) < 0)
		end_with(k, RP_END_CONNECT, errno);
}

/* What the connection waits for next: a time, or RP_NEVER. */
static uint64_t conn_due(engine *E, conn *k)
{
	if (k->st != C_OPEN || k->begun >= k->s->n[RP_REQ])
		return RP_NEVER;
	rp_progress pr = {
		.started = k->started,
		.sent = k->begun,
		.last_sent = k->last_sent,
		.answered = k->answered,
		.answered_at = k->answered_at,
	};
	return rp_sched_request_due(&E->cfg->pace, k->s, k->begun, &pr);
}

static void step(engine *E, conn *k, uint64_t now)
{
	if (k->closing)
		return;
	if (k->st == C_OPEN) {
		bool queued = false;
		for (;;) {
			uint64_t due = conn_due(E, k);
			if (due == RP_NEVER || due > now)
				break;
			if (!writing(k))
				k->last_progress = now;  /* the wait for the target starts now */
			k->begun++;
			k->last_sent = now;
			queued = true;
		}
		if (queued)
			flush_out(k);
		size_t n = k->s->n[RP_REQ];
		if (!k->closing && k->sent == n && k->answered >= n) {
			/* Done as a client: say so, and give the target a moment to
			 * close or to say more than the capture did. */
			shutdown(k->w.fd, SHUT_WR);
			k->st = C_LINGER;
			k->linger_start = now;
		}
	}
	if (k->st == C_LINGER) {
		/* From the start of the wait, not from the last byte: a target
		 * that keeps sending must not keep the stream open. */
		if (now >= k->linger_start + (uint64_t)RP_LINGER_MS * 1000000u)
			end_with(k, RP_END_DONE, 0);
		return;
	}
	/* `now` may predate progress made since it was read. */
	uint64_t waited = now > k->last_progress ? now - k->last_progress : 0;
	/* The timeout runs only while the target owes us something: a
	 * connect, room to write, or a response. */
	bool owed = k->st == C_CONNECTING || writing(k) || k->answered < k->begun;
	if (owed && waited >= E->cfg->timeout_ms * 1000000u) {
		if (k->st == C_CONNECTING)
			end_with(k, RP_END_CONNECT, ETIMEDOUT);
		else
			end_with(k, RP_END_TIMEOUT, 0);
	}
}

/* A connection's socket is ready (an error or hang-up comes as both). */
static void on_ready(el_loop *l, el_watch *w, int mask)
{
	conn *k = w->data;
	engine *E = k->E;
	if (k->closing)
		return;
	if (k->st == C_CONNECTING) {
		int e = net_connect_result(w->fd);
		if (e) {
			end_with(k, RP_END_CONNECT, e);
			return;
		}
		k->st = C_OPEN;
		E->any_connected = true;
		k->started = el_now_ns();
		k->last_progress = k->started;
		el_watch_set(l, w, EL_READ);
		step(E, k, k->started);
		return;
	}
	if (mask & EL_READ)
		read_in(k);
	if (!k->closing && (mask & EL_WRITE) && writing(k))
		flush_out(k);
	if (!k->closing)
		step(E, k, el_now_ns());
}

/* ---------------------------------------------------------------- the loop */

static int by_start(const void *a, const void *b, void *arg)
{
	const rp_capture *c = arg;
	const rp_stream *x = &c->s[*(const size_t *)a], *y = &c->s[*(const size_t *)b];
	if (x->ts_begin != y->ts_begin)
		return x->ts_begin < y->ts_begin ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void reap(engine *E)
{
	for (size_t i = 0; i < E->n_active;) {
		conn *k = E->active[i];
		if (k->closing) {
			if (k->end == RP_END_CONNECT && !E->any_connected &&
			    (k->sys_errno == ECONNREFUSED || k->sys_errno == ENETUNREACH ||
			     k->sys_errno == EHOSTUNREACH || k->sys_errno == EADDRNOTAVAIL)) {
				/* Nothing ever answered: the target is not there, and
				 * every other stream would say the same. */
				snprintf(E->err, E->errlen, "cannot connect to %s: %s", E->cfg->target,
					 strerror(k->sys_errno));
				E->fatal = true;
			}
			finish(k);  /* removes k from active */
			continue;
		}
		i++;
	}
}

/* Every stream whose start time has come, while there is room. */
static void start_due(engine *E, uint64_t now)
{
	while (E->next < E->n_order && E->n_active < E->conc &&
	       rp_sched_stream_start(&E->cfg->pace, E->start, E->c->t0,
				     &E->c->s[E->order[E->next]]) <= now)
		begin_stream(E, E->order[E->next++]);
}

/* The next thing due: a stream start, a request, a timeout or the end of a
 * linger; RP_NEVER if nothing is. */
static uint64_t next_wake(engine *E)
{
	uint64_t wake = RP_NEVER;
	if (E->next < E->n_order && E->n_active < E->conc)
		wake = rp_sched_stream_start(&E->cfg->pace, E->start, E->c->t0,
					     &E->c->s[E->order[E->next]]);
	for (size_t i = 0; i < E->n_active; i++) {
		conn *k = E->active[i];
		uint64_t d = conn_due(E, k);
		uint64_t t = k->st == C_LINGER
				     ? k->linger_start + (uint64_t)RP_LINGER_MS * 1000000u
				     : k->last_progress + E->cfg->timeout_ms * 1000000u;
		if (d < wake)
			wake = d;
		if (t < wake)
			wake = t;
	}
	return wake;
}

static bool all_done(const engine *E)
{
	return E->fatal || (E->next >= E->n_order && E->n_active == 0);
}

/*
 * The schedule, run by the loop before each sleep: end the connections the
 * last events closed, start the streams and send the requests that are
 * due, check the timeouts, and sleep until the next of them.  An interrupt
 * (SIGINT and SIGTERM are let in only while the loop sleeps) ends every
 * open stream here.
 */
static void plan(el_loop *l, void *data)
{
	engine *E = data;
	reap(E);
	if (all_done(E)) {
		el_stop(l);
		return;
	}
	if (interrupted) {
		for (size_t i = 0; i < E->n_active; i++)
			end_with(E->active[i], RP_END_INTERRUPTED, 0);
		reap(E);
		el_stop(l);
		return;
	}
	uint64_t now = el_now_ns();
	start_due(E, now);
	for (size_t i = 0; i < E->n_active; i++)
		step(E, E->active[i], now);
	reap(E);
	if (all_done(E)) {
		el_stop(l);
		return;
	}
	uint64_t wake = next_wake(E);
	if (wake != RP_NEVER)
		el_wake_at(l, wake);
}

/* Everything the run needs before the first stream: a file limit that
 * allows --concurrency, the stream order, the loop. */
static int engine_open(engine *E)
{
	const rp_capture *c = E->c;
	E->conc = E->cfg->concurrency ? E->cfg->concurrency : RP_DEFAULT_CONCURRENCY;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    E->conc + 16 > rl.rlim_cur) {
		snprintf(E->err, E->errlen, "--concurrency %u needs more open files than the limit %llu "
			 "(ulimit -n)", E->conc, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	sigset_t wake_on;
	sigemptyset(&wake_on);
	sigaddset(&wake_on, SIGINT);
	sigaddset(&wake_on, SIGTERM);
	E->order = calloc(c->n ? c->n : 1, sizeof *E->order);
	E->active = calloc(E->conc, sizeof *E->active);
	E->loop_ready = el_init(&E->loop, &wake_on) == 0;
	if (!E->order || !E->active || !E->loop_ready) {
		snprintf(E->err, E->errlen, "cannot start: %s", strerror(errno ? errno : ENOMEM));
		return -1;
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->s[i].selected && c->s[i].n[RP_REQ] > 0)
			E->order[E->n_order++] = i;
	qsort_r(E->order, E->n_order, sizeof *E->order, by_start, (void *)c);
	return 0;
}

static void engine_close(engine *E)
{
	not_started = E->n_order - E->next;
	/* A fatal stop still reports the streams it leaves behind. */
	while (E->n_active > 0) {
		end_with(E->active[0], RP_END_CONNECT, ECANCELED);
		finish(E->active[0]);
	}
	if (E->loop_ready)
		sigprocmask(SIG_SETMASK, &E->loop.wait_mask, NULL);
	el_free(&E->loop);
	free(E->order);
	free(E->active);
}

int rp_engine_run(const rp_capture *c, const rp_engine_config *cfg, const rp_events *ev,
		  char *err, size_t errlen)
{
	engine E = {.c = c, .cfg = cfg, .ev = ev, .err = err, .errlen = errlen};
	E.loop.epfd = -1;
	if (engine_open(&E) < 0) {
		engine_close(&E);
		return -1;
	}
	E.start = el_now_ns();
	el_set_hooks(&E.loop, 0, NULL, plan, &E);
	if (el_run(&E.loop) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		E.fatal = true;
	}
	engine_close(&E);
	return E.fatal ? -1 : 0;
}

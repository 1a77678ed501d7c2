/*
 * load: many connections on one event loop, a fixed request, a histogram.
 *
 * The request is encoded once and copied into each connection's output
 * queue as it is sent.  Keep-alive connections keep `pipeline` requests in
 * flight each and a ring of send times pairs every response with its
 * request (responses come back in order).  One-shot connections carry one
 * request each, as the tutorial's client does: the latency then runs from
 * connect() to the response, and the rate is connections per second.
 *
 * That is a closed loop: a request goes out when an answer comes back, so a
 * server that stalls also stalls the requests, and the wait never shows in
 * the latencies (coordinated omission).  With --rate R the loop is open:
 * requests go out on a fixed schedule (rate.h), R per second over all
 * connections, whether or not answers have come back.  Each request's
 * latency runs from the time it was due, so a request that waited in the
 * client counts the wait.  A keep-alive connection holds at most
 * `pipeline` requests in flight (a one-shot one holds one, and at most
 * `conns` are open at once); a due request finds the next connection with
 * room, round robin, and when none has room it waits in the client and is
 * sent as soon as an answer makes room, still timed from when it was due.
 * The run lasts its schedule (requests / R seconds) and every scheduled
 * request is sent and awaited: a server that falls behind makes the run
 * longer, it does not drop requests.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "app/request.h"
#include "client/client.h"
#include "client/hist.h"
#include "client/rate.h"
#include "app/answer.h"
#include "io/evloop.h"
#include "io/net.h"

typedef struct load load;

typedef struct lconn {
	el_watch w;
	load *L;
	bool connecting;
	bool in_use;
	jm_decoder dec;
	jm_buf out;
	uint64_t *t0_ns;      /* ring of `pipeline` latency starts: when each
	                         request was sent, or with --rate when it was due */
	uint64_t *sent_ns;    /* --rate: ring of when each was actually sent */
	unsigned head, inflight;
	bool resp_error;      /* current response is {"error": ...} */
} lconn;

struct load {
	const cli_config *cfg;
	el_loop loop;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char where[NET_ADDR_STRLEN];
	jm_buf req;
	lconn *c;
	unsigned nconn;
	bool one_shot;
	uint64_t total;       /* requests in the run; 0: until the deadline */
	/* --rate: request `issued` is the next one in the schedule (rate.h),
	 * which starts at start_ns */
	uint64_t rate;
	unsigned rr;          /* where the search for a connection with room starts */
	el_watch timer;       /* a timerfd at the next due time */
	uint64_t armed_at;    /* when the timer fires; 0: disarmed */
	uint64_t sched_end_ns; /* the schedule's end: total / rate after start_ns */
	uint64_t behind_max_ns; /* the most any request went out after it was due */
	hist service;         /* --rate: latency from the actual send */
	uint64_t inflight;    /* requests written or queued, not yet answered */
	uint64_t issued, done, errors, conn_errors, server_errors, malformed;
	uint64_t bytes_out, bytes_in, connects;
	uint64_t start_ns, end_ns, last_progress_ms, deadline_ms;
	uint64_t now_ns;      /* read once per received batch of responses */
	bool finished, ever_connected;
	int fatal;            /* exit code when the run had to stop */
	const char *fatal_why;
	hist h;
	uint8_t rbuf[65536];
};

static volatile sig_atomic_t interrupted;
static void on_int(int sig) { interrupted = 1; }

static bool budget_left(load *L)
{
	if (L->total)
		return L->issued < L->total;
	return L->now_ns / 1000000u < L->deadline_ms;
}

static void lconn_io(el_loop *l, el_watch *w, int mask);
static void lconn_open(lconn *c);

static void check_finished(load *L)
{
	/* an open loop also runs to the end of its schedule, so that a run of
	 * --duration S lasts S seconds (the timer fires then) */
	if (L->total && L->done + L->errors >= L->total &&
	    (!L->rate || el_now_ns() >= L->sched_end_ns))
		L->finished = true;
	if (L->finished) {
		if (!L->end_ns)
			L->end_ns = el_now_ns();
		el_stop(&L->loop);
	}
}

static void lconn_close(lconn *c, bool failed)
{
	load *L = c->L;
	if (!c->in_use)
		return;
	el_watch_del(&L->loop, &c->w);
	close(c->w.fd);
	c->in_use = false;
	if (failed) {
		L->errors += c->inflight;
	}
	L->inflight -= c->inflight;
	c->inflight = 0;
	c->head = 0;
	c->out.len = c->out.off = 0;
	jm_decoder_reset(&c->dec, 0);
}

/* Queue requests up to the pipeline depth while the budget lasts. */
static void lconn_fill(lconn *c)
{
	load *L = c->L;
	unsigned depth = L->one_shot ? 1 : L->cfg->pipeline;
	uint64_t now = 0;
	while (c->inflight < depth && budget_left(L)) {
		if (!now)
			now = L->now_ns;
		if (jm_buf_append(&c->out, jm_buf_head(&L->req), jm_buf_pending(&L->req)) < 0)
			break;
		unsigned slot = (c->head + c->inflight) % depth;
		if (!L->one_shot)
			c->t0_ns[slot] = now; /* one-shot timed from connect() */
		c->inflight++;
		L->inflight++;
		L->issued++;
	}
}

static void lconn_flush(lconn *c)
{
	load *L = c->L;
	while (jm_buf_pending(&c->out)) {
		ssize_t n = send(c->w.fd, jm_buf_head(&c->out), jm_buf_pending(&c->out), MSG_NOSIGNAL);
		if (n > 0) {
			jm_buf_consume(&c->out, (size_t)n);
			L->bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		L->conn_errors++;
		lconn_close(c, true);
		return;
	}
	if (!jm_buf_pending(&c->out))
		c->out.len = c->out.off = 0;
	el_watch_set(&L->loop, &c->w, EL_READ | (jm_buf_pending(&c->out) ? EL_WRITE : 0));
}

/* --rate: start_ns + off, saturated (never 0, which means disarmed) */
static uint64_t sched_at(const load *L, uint64_t off)
{
	return off < UINT64_MAX - L->start_ns ? L->start_ns + off : UINT64_MAX - 1;
}

/* --rate: set the timer to fire at `when` (CLOCK_MONOTONIC ns, as
 * el_now_ns()); 0 disarms it. */
static void arm(load *L, uint64_t when)
{
	if (when == L->armed_at)
		return;
	struct itimerspec its = {{0, 0}, {(time_t)(when / 1000000000u), (long)(when % 1000000000u)}};
	if (timerfd_settime(L->timer.fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		L->armed_at = when;
}

/* --rate: the next connection, round robin, that can take one more request
 * now, opening it if it is closed; NULL when every one is full. */
static lconn *with_room(load *L, unsigned depth)
{
	for (unsigned k = 0; k < L->nconn && !L->finished; k++) {
		unsigned i = L->rr + k < L->nconn ? L->rr + k : L->rr + k - L->nconn;
		lconn *c = &L->c[i];
		if (!c->in_use)
			lconn_open(c);
		if (c->in_use && c->inflight < depth) {
			L->rr = i + 1 < L->nconn ? i + 1 : 0;
			return c;
		}
	}
	return NULL;
}

/*
 * --rate: send every request that is due and has somewhere to go, then set
 * the timer for the next one.  `prefer` (may be NULL) is a connection that
 * was just answered: requests waiting in the client go there first.
 *
 * Requests past the in-flight limit are not written anywhere: they are
 * only the schedule index `issued` lagging behind the clock, so the wait
 * costs no memory, and each is timed from its due time when it goes.
 */
static void pump(load *L, lconn *prefer)
{
	if (!L->rate || L->finished)
		return;
	unsigned depth = L->one_shot ? 1 : L->cfg->pipeline;
	uint64_t now = el_now_ns();
	uint64_t due_by = rate_due_by(L->rate, now - L->start_ns);
	if (due_by > L->total)
		due_by = L->total;
	lconn *last = NULL; /* written to, not yet flushed */
	while (L->issued < due_by && L->inflight < (uint64_t)L->nconn * depth) {
		lconn *c = prefer && prefer->in_use && prefer->inflight < depth ? prefer
										  : with_room(L, depth);
		if (!c)
			break;
		if (last && last != c && last->in_use && !last->connecting)
			lconn_flush(last);
		last = c;
		if (jm_buf_append(&c->out, jm_buf_head(&L->req), jm_buf_pending(&L->req)) < 0) {
			L->fatal = JM_EXIT_INTERNAL;
			L->fatal_why = "out of memory";
			L->finished = true;
			break;
		}
		uint64_t due = L->start_ns + rate_due(L->rate, L->issued);
		unsigned slot = (c->head + c->inflight) % depth;
		c->t0_ns[slot] = due;
		c->sent_ns[slot] = now;
		if (now - due > L->behind_max_ns)
			L->behind_max_ns = now - due;
		c->inflight++;
		L->inflight++;
		L->issued++;
	}
	/* a connection still connecting is flushed once it is connected */
	if (last && last->in_use && !last->connecting)
		lconn_flush(last);
	/* Waiting for room, an answer calls pump() again; with everything
	 * sent, the timer marks the schedule's end. */
	if (L->finished)
		arm(L, 0);
	else if (L->issued >= L->total)
		arm(L, L->sched_end_ns);
	else if (L->issued >= due_by)
		arm(L, sched_at(L, rate_due(L->rate, L->issued)));
	else
		arm(L, 0);
}

static void timer_fired(el_loop *l, el_watch *w, int mask)
{
	load *L = w->data;
	uint64_t expirations;
	ssize_t n = read(w->fd, &expirations, sizeof expirations);
	(void)n; /* EAGAIN: nothing to clear */
	L->armed_at = 0; /* an absolute one-shot timer disarms itself */
	pump(L, NULL);
	check_finished(L);
}

static int on_event(void *user, const jm_event *ev)
{
	lconn *c = user;
	load *L = c->L;
	switch (ev->type) {
	case JM_EV_HEADER:
		c->resp_error = false;
		break;
	case JM_EV_CONTENT:
		/* The server's error responses start this way (answer.c). */
		if (ev->len >= 9 && !memcmp(ev->data, "{\"error\"", 8))
			c->resp_error = true;
		break;
	case JM_EV_MESSAGE: {
		if (!c->inflight) {
			L->malformed++;
			L->errors++;
			return JM_CB_STOP;
		}
		uint64_t now = L->now_ns;
		unsigned depth = L->one_shot ? 1 : L->cfg->pipeline;
		uint64_t t0 = c->t0_ns[c->head];
		uint64_t sent = L->rate ? c->sent_ns[c->head] : t0;
		c->head = (c->head + 1) % depth;
		c->inflight--;
		L->inflight--;
		L->last_progress_ms = now / 1000000u;
		if (c->resp_error) {
			L->server_errors++;
			L->errors++;
		} else {
			L->done++;
			hist_record(&L->h, now - t0);
			if (L->rate)
				hist_record(&L->service, now - sent);
		}
		break;
	}
	case JM_EV_ERROR:
		L->malformed++;
		return JM_CB_STOP;
	default:
		break;
	}
	return JM_CB_OK;
}

static void lconn_read(lconn *c)
{
	load *L = c->L;
	ssize_t n = recv(c->w.fd, L->rbuf, sizeof L->rbuf, 0);
	if (n > 0) {
		L->bytes_in += (uint64_t)n;
		/* Responses read together arrived together: one clock read
		 * for the batch (reading the clock per response cost more
		 * than decoding it). */
		L->now_ns = el_now_ns();
		jm_decoder_feed(&c->dec, L->rbuf, (size_t)n);
		if (jm_decoder_failed(&c->dec)) {
			lconn_close(c, true);
		} else if (L->one_shot && c->inflight == 0) {
			/* the tutorial's client closes once it has its answer */
			lconn_close(c, false);
		} else if (!L->rate) {
			lconn_fill(c);
			lconn_flush(c);
		}
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		/* closed under requests in flight: each one failed */
		if (c->inflight)
			L->conn_errors++;
		lconn_close(c, true);
	}
	/* open loop: answers made room for requests waiting in the client */
	pump(L, c);
	check_finished(L);
	if (!L->rate && !c->in_use && !L->finished && budget_left(L))
		lconn_open(c);
}

static void lconn_io(el_loop *l, el_watch *w, int mask)
{
	lconn *c = w->data;
	load *L = c->L;
	if (c->connecting) {
		int e = net_connect_result(w->fd);
		if (e) {
			L->conn_errors++;
			lconn_close(c, true);
			if (!L->ever_connected) {
				L->fatal = JM_EXIT_CONNECT;
				L->fatal_why = strerror(e);
				L->finished = true;
			}
			check_finished(L);
			if (!L->rate && !L->finished && budget_left(L))
				lconn_open(c);
			return;
		}
		c->connecting = false;
		L->ever_connected = true;
		lconn_flush(c);
		return;
	}
	if (mask & EL_READ) {
		lconn_read(c);
		return;
	}
	if (mask & EL_WRITE)
		lconn_flush(c);
}

static void lconn_open(lconn *c)
{
	load *L = c->L;
	uint64_t t0 = L->now_ns = el_now_ns();
	int fd = net_connect_start(&L->ss, L->sslen);
	if (fd < 0) {
		L->conn_errors++;
		if (!L->rate) { /* with --rate the request waits for another connection */
			L->errors++;
			L->issued++;
		}
		if (!L->ever_connected) {
			L->fatal = JM_EXIT_CONNECT;
			L->fatal_why = strerror(errno);
			L->finished = true;
		}
		check_finished(L);
		return;
	}
	L->connects++;
	c->in_use = true;
	c->connecting = true;
	c->inflight = 0;
	c->head = 0;
	if (el_watch_add(&L->loop, &c->w, fd, EL_WRITE, lconn_io, c) < 0) {
		close(fd);
		c->in_use = false;
		L->fatal = JM_EXIT_INTERNAL;
		L->fatal_why = strerror(errno);
		L->finished = true;
		return;
	}
	if (L->rate)
		return; /* pump() gives it requests as they fall due */
	lconn_fill(c);
	if (L->one_shot)
		c->t0_ns[0] = t0;
	if (!c->inflight)
		lconn_close(c, false);
}

static void tick(el_loop *l, void *data)
{
	load *L = data;
	uint64_t now = el_now_ms();
	if (interrupted) {
		L->finished = true;
		L->fatal_why = "interrupted";
	}
	if (!L->total && now >= L->deadline_ms)
		L->finished = true;
	if (L->rate && !L->finished) {
		pump(L, NULL); /* retries connections that could not be opened */
		/* between due times with nothing in flight there is nothing to
		 * wait for: --timeout counts only waits for an answer */
		if (!L->inflight && L->armed_at)
			L->last_progress_ms = now;
	}
	if (!L->finished && now - L->last_progress_ms >= L->cfg->timeout_ms) {
		L->fatal = JM_EXIT_TIMEOUT;
		L->fatal_why = "no response within --timeout";
		L->finished = true;
	}
	check_finished(L);
}

static void before_sleep(el_loop *l, void *data)
{
	load *L = data;
	check_finished(L);
}

/* p50 p90 p99 p99.9 max min mean, in microseconds */
enum { NPCT = 7 };
static void latency_us(const hist *h, double us[NPCT])
{
	static const double pct[] = {50, 90, 99, 99.9};
	for (unsigned i = 0; i < 4; i++)
		us[i] = hist_percentile(h, pct[i]) / 1e3;
	us[4] = hist_percentile(h, 100) / 1e3;
	us[5] = hist_min(h) / 1e3;
	us[6] = hist_mean(h) / 1e3;
}

static void print_latency_json(const char *name, const double us[NPCT])
{
	printf("\"%s\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p99.9\":%.1f,"
	       "\"max\":%.1f,\"min\":%.1f,\"mean\":%.1f}",
	       name, us[0], us[1], us[2], us[3], us[4], us[5], us[6]);
}

static void print_latency_text(const char *label, const double us[NPCT])
{
	printf("%-11sp50 %.1f us  p90 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us"
	       "  min %.1f us  mean %.1f us\n",
	       label, us[0], us[1], us[2], us[3], us[4], us[5], us[6]);
}

static void report(load *L)
{
	const cli_config *cfg = L->cfg;
	double secs = (double)(L->end_ns - L->start_ns) / 1e9;
	if (secs <= 0)
		secs = 1e-9;
	double rps = (double)L->done / secs;
	double us[NPCT], sus[NPCT];
	latency_us(&L->h, us);
	latency_us(&L->service, sus);
	const char *mode = L->one_shot ? "one-shot" : "keep-alive";
	if (cfg->json) {
		printf("{\"event\":\"load_report\",\"mode\":\"%s\",\"conns\":%u,\"pipeline\":%u,"
		       "\"requests\":%llu,\"errors\":%llu,\"connect_errors\":%llu,"
		       "\"server_errors\":%llu,\"malformed\":%llu,\"connections\":%llu,"
		       "\"seconds\":%.3f,\"requests_per_sec\":%.1f,\"bytes_sent\":%llu,"
		       "\"bytes_received\":%llu,\"sent_bytes_per_sec\":%.1f,"
		       "\"received_bytes_per_sec\":%.1f,",
		       mode, L->nconn, L->one_shot ? 1 : cfg->pipeline, (unsigned long long)L->done,
		       (unsigned long long)L->errors, (unsigned long long)L->conn_errors,
		       (unsigned long long)L->server_errors, (unsigned long long)L->malformed,
		       (unsigned long long)L->connects, secs, rps, (unsigned long long)L->bytes_out,
		       (unsigned long long)L->bytes_in, L->bytes_out / secs, L->bytes_in / secs);
		print_latency_json("latency_us", us);
		if (L->rate) {
			printf(",\"rate\":%llu,\"scheduled\":%llu,\"sent\":%llu,"
			       "\"behind_max_us\":%.1f,",
			       (unsigned long long)L->rate, (unsigned long long)L->total,
			       (unsigned long long)L->issued, L->behind_max_ns / 1e3);
			print_latency_json("from_send_us", sus);
		}
		printf("}\n");
		return;
	}
	printf("%s load on %s: %u connections, %u in flight each\n", mode, L->where, L->nconn,
	       L->one_shot ? 1 : cfg->pipeline);
	if (L->rate)
		printf("schedule:  %llu requests/s open loop, %llu of %llu sent, at most %.1f ms "
		       "after they were due\n",
		       (unsigned long long)L->rate, (unsigned long long)L->issued,
		       (unsigned long long)L->total, L->behind_max_ns / 1e6);
	printf("requests:  %llu in %.2f s = %.0f requests/s%s\n", (unsigned long long)L->done, secs, rps,
	       L->one_shot ? " (one connection each)" : "");
	printf("errors:    %llu (connect/reset %llu, server error responses %llu, malformed %llu)\n",
	       (unsigned long long)L->errors, (unsigned long long)L->conn_errors,
	       (unsigned long long)L->server_errors, (unsigned long long)L->malformed);
	printf("bytes:     sent %llu (%.1f MB/s), received %llu (%.1f MB/s)\n",
	       (unsigned long long)L->bytes_out, L->bytes_out / secs / 1e6,
	       (unsigned long long)L->bytes_in, L->bytes_in / secs / 1e6);
	print_latency_text("latency:", us);
	/* what a closed-loop measure would have reported for the same run */
	if (L->rate)
		print_latency_text("from send:", sus);
}

/* The run's fixed numbers from cfg; nothing is opened yet. */
static void load_init(load *L, const cli_config *cfg)
{
	memset(L, 0, sizeof *L);
	L->cfg = cfg;
	L->one_shot = !cfg->keep_alive;
	L->nconn = cfg->conns;
	L->rate = cfg->rate;
	L->total = cfg->requests;
	if (L->rate && !L->total) /* --duration: the requests due within it */
		L->total = rate_count(L->rate, cfg->duration_ms * 1000000u);
	L->timer.fd = -1;
	hist_init(&L->h);
	hist_init(&L->service);
}

/* Past the open-file limit connect() fails with EMFILE, which read as
 * "cannot connect to the server" (exit 3) though the server was fine: say
 * what the limit is instead.  -1 after that line. */
static int check_fd_room(const load *L)
{
	net_raise_fd_limit(L->nconn + 32);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)L->nconn + 16 > rl.rlim_cur) {
		fprintf(stderr, "jmsg client: --conns %u needs more open files than the limit %llu "
			"(ulimit -n)\n", L->nconn, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

/* The server's address, the request, room for the connections, SIGINT
 * and the event loop.  Returns JM_EXIT_OK, or the exit code after a line on
 * stderr. */
static int load_prepare(load *L)
{
	const cli_config *cfg = L->cfg;
	char err[256];
	if (net_resolve(cfg->host, cfg->port, &L->ss, &L->sslen, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg client: %s\n", err);
		return JM_EXIT_CONNECT;
	}
	net_addr_str((struct sockaddr *)&L->ss, L->where, sizeof L->where);
	if (app_build_request(&L->req, cfg->action, cfg->value, cfg->keep_alive) < 0) {
		fprintf(stderr, "jmsg client: request too large for a message header\n");
		return JM_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (check_fd_room(L) < 0) {
		jm_buf_free(&L->req);
		return JM_EXIT_USAGE;
	}
	struct sigaction sa = {.sa_handler = on_int};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	if (el_init(&L->loop, &block) < 0) {
		fprintf(stderr, "jmsg client: cannot start the event loop: %s\n", strerror(errno));
		return JM_EXIT_INTERNAL;
	}
	return JM_EXIT_OK;
}

/* Each connection's latency rings and decoder; with --rate, the timer.
 * -1 when out of memory, or after a line on stderr for the timer. */
static int load_alloc(load *L)
{
	const cli_config *cfg = L->cfg;
	unsigned depth = L->one_shot ? 1 : cfg->pipeline;
	L->c = calloc(L->nconn, sizeof *L->c);
	if (!L->c)
		return -1;
	for (unsigned i = 0; i < L->nconn; i++) {
		lconn *c = &L->c[i];
		c->L = L;
		c->t0_ns = calloc(depth, sizeof *c->t0_ns);
		if (!c->t0_ns)
			return -1;
		if (L->rate && !(c->sent_ns = calloc(depth, sizeof *c->sent_ns)))
			return -1;
		/* Framing and headers are checked; each response's JSON is
		 * not, so the generator's cost stays small beside the
		 * server's (error responses are still counted, see on_event). */
		jm_decoder_config dc = {.max_content = cfg->max_content, .no_content_check = true};
		jm_decoder_init(&c->dec, &dc, on_event, c);
	}
	if (!L->rate)
		return 0;
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0 || el_watch_add(&L->loop, &L->timer, tfd, EL_READ, timer_fired, L) < 0) {
		fprintf(stderr, "jmsg client: cannot make a timer: %s\n", strerror(errno));
		if (tfd >= 0)
			close(tfd);
		L->timer.fd = -1;
		return -1;
	}
	return 0;
}

/* Open the connections, start the schedule, run the loop until the run
 * is over.  -1 after a line on stderr if the loop failed. */
static int load_run(load *L)
{
	el_set_hooks(&L->loop, 100, tick, before_sleep, L);
	L->start_ns = el_now_ns();
	L->last_progress_ms = L->start_ns / 1000000u;
	L->deadline_ms = L->last_progress_ms + L->cfg->duration_ms;
	/* With --rate, one-shot connections are opened as requests fall due. */
	for (unsigned i = 0; i < L->nconn && !L->finished && !(L->rate && L->one_shot); i++)
		lconn_open(&L->c[i]);
	if (L->rate && !L->finished) {
		/* the schedule starts once the connections are under way */
		L->start_ns = el_now_ns();
		L->sched_end_ns = sched_at(L, rate_due(L->rate, L->total));
		pump(L, NULL);
	}
	if (!L->finished && el_run(&L->loop) < 0) {
		fprintf(stderr, "jmsg client: event loop failed: %s\n", strerror(errno));
		return -1;
	}
	if (!L->end_ns)
		L->end_ns = el_now_ns();
	return 0;
}

/* The report of a run that got going, and its exit code. */
static int load_outcome(load *L)
{
	if (L->fatal == JM_EXIT_CONNECT) {
		fprintf(stderr, "jmsg client: cannot connect to %s: %s\n", L->where, L->fatal_why);
		return JM_EXIT_CONNECT;
	}
	report(L);
	if (L->fatal == JM_EXIT_INTERNAL) {
		fprintf(stderr, "jmsg client: stopped: %s\n", L->fatal_why);
		return JM_EXIT_INTERNAL;
	}
	if (L->fatal == JM_EXIT_TIMEOUT) {
		fprintf(stderr, "jmsg client: stopped: no response from %s for %.1f s\n", L->where,
			L->cfg->timeout_ms / 1000.0);
		return JM_EXIT_TIMEOUT;
	}
	return L->errors ? JM_EXIT_LOAD_ERRORS : JM_EXIT_OK;
}

static void load_free(load *L)
{
	if (L->c) {
		for (unsigned i = 0; i < L->nconn; i++) {
			lconn_close(&L->c[i], false);
			jm_decoder_free(&L->c[i].dec);
			jm_buf_free(&L->c[i].out);
			free(L->c[i].t0_ns);
			free(L->c[i].sent_ns);
		}
		free(L->c);
	}
	if (L->timer.fd >= 0) {
		el_watch_del(&L->loop, &L->timer);
		close(L->timer.fd);
	}
	jm_buf_free(&L->req);
	el_free(&L->loop);
}

int cli_load(const cli_config *cfg)
{
	static load L0; /* the histogram and read buffer are large */
	load *L = &L0;

	load_init(L, cfg);
	int rc = load_prepare(L);
	if (rc != JM_EXIT_OK)
		return rc;
	rc = JM_EXIT_INTERNAL;
	if (load_alloc(L) == 0 && load_run(L) == 0)
		rc = load_outcome(L);
	load_free(L);
	return rc;
}

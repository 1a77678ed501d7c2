/*
 * workers: one reader, N analysis threads, one merged output.  See
 * workers.h.
 *
 * Records.  The reader numbers every record it sends (seq): a segment goes
 * to one worker; an expiry tick, the stall flush and the end of the
 * capture go to all.  Each carries the clock one engine would have before
 * it.  A worker tags its output with the record's seq and, in a record
 * that all workers share, with the seq of the segment that last touched
 * the stream the output is about (kept per flow in a flow extension).
 *
 * Progress.  A worker publishes `done`, the seq of the last record it
 * finished (its output queued first).  It has finished everything before
 * seq s when done >= s, or when done equals `pushed`, the last record the
 * reader gave it: then it only waits for records the reader has not sent.
 * The merger (the reader's thread) writes the chunks of every seq that all
 * workers have finished.
 *
 * t0.  A text line's time counts from the capture's first packet: the
 * reader stores it (t0_ns, then have_t0 with release) before it sends the
 * first record that holds a segment, and a worker looks for it before each
 * record it takes (live, expiry ticks may come before any packet).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/analyze.h"
#include "analyzer/merge.h"
#include "analyzer/report.h"
#include "analyzer/ring.h"
#include "stall/sockdiag.h"
#include "analyzer/workers.h"

/* Ring per worker: 8 MiB shared out, 1 to 4 MiB each. */
#define WK_RING_TOTAL (8u << 20)
/* The reader wakes the workers and merges every this many packets. */
#define WK_FLUSH_PACKETS 4096

enum { REC_SEG = 1, REC_TICK, REC_STALL_END, REC_FINISH };
/* Where a segment's payload is: after the record, in the capture's map
 * (cap_stable: no copy at all), or in an allocation of its own. */
enum { PAY_HERE, PAY_MAPPED, PAY_HEAP };

struct rec {
	uint8_t type;
	uint8_t payload_at;
	uint64_t seq;
	double now;                   /* the engine's clock before this record */
	int64_t now_ns;
	cap_segment seg;              /* REC_SEG; the payload follows */
};
#define REC_SMALL offsetof(struct rec, seg)

struct wk_run;

struct worker {
	struct wk_run *k;
	unsigned index;
	pthread_t th;
	bool started;
	ring ring;
	an_engine *e;
	flow_table *ft;
	int ext;                      /* per flow: seq of its last segment */
	report rep;
	an_sink rsink;                /* the report's own callbacks */
	stall_tracker *stall;
	tf_clock clock;               /* text times, the report's and stall's */
	jm_buf sline;
	FILE *out;                    /* writes go to cur */
	/* the record being processed */
	uint8_t type;
	uint64_t seq, sub;
	merge_chunk *cur;
	merge_queue *q;
	an_stats st;
	uint64_t pushed_local;        /* reader's copy of pushed */
	_Alignas(64) _Atomic uint64_t done;
	_Alignas(64) _Atomic uint64_t pushed;
};

struct wk_run {
	const wk_options *o;
	unsigned n;
	struct worker *w;
	merger mg;
	cap_source *src;
	double idle;
	/* one engine's clock and expiry schedule, and stall_cli's last_ts */
	double now, last_expire, last_ts;
	int64_t now_ns;
	uint64_t seq;
	uint64_t since_flush;
	_Atomic bool have_t0;         /* t0_ns is set (live, ticks may come first) */
	int64_t t0_ns;                /* the capture's first packet */
	/* capture_drops lines: the reader's own queue (index n) */
	report drep;
	FILE *dout;
	merge_chunk *dcur;
};

/* ---------------------------------------------------------------- hash */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* An endpoint folded to 64 bits: address halves and port, each spread
 * over the word by an odd multiplier so that a change in any byte moves
 * many bits. */
static uint64_t ep_fold(const flow_ep *e)
{
	uint64_t a, b;
	memcpy(&a, e->addr, 8);
	memcpy(&b, e->addr + 8, 8);
	return a * 0x9e3779b97f4a7c15ull ^ b * 0xc2b2ae3d27d4eb4full ^
	       (uint64_t)e->port * 0x165667b19e3779f9ull;
}

/* Not the flow table's seeded hash, on purpose: the stream numbers of a
 * --workers run follow the split, and a run must print the same lines
 * every time.  Traffic crafted to land on one worker only takes away the
 * parallelism; each worker's flow table is seeded (tcp/flow.c), so no
 * flood of colliding flows slows a lookup down. */
unsigned wk_pick(const flow_ep *a, const flow_ep *b, unsigned n)
{
	/* A sum does not care which endpoint is which. */
	uint64_t h = mix64(ep_fold(a) + ep_fold(b));
	return (unsigned)(((h >> 32) * n) >> 32);
}

/* ---------------------------------------------------------------- worker output */

static merge_chunk *chunk(struct worker *w)
{
	if (!w->cur)
		w->cur = merge_take(w->q, w->seq, w->sub); /* grows as written */
	return w->cur;
}

static void cut(struct worker *w)
{
	if (w->cur) {
		merge_push(w->q, w->cur);
		w->cur = NULL;
	}
}

static ssize_t out_write(void *cookie, const char *buf, size_t n)
{
	struct worker *w = cookie;
	if (!chunk(w) || merge_chunk_append(&w->cur, buf, n))
		return -1;
	return (ssize_t)n;
}

static FILE *chunk_file(void *cookie, ssize_t (*fn)(void *, const char *, size_t))
{
	cookie_io_functions_t io = {.write = fn};
	FILE *f = fopencookie(cookie, "w", io);
	if (f)
		setvbuf(f, NULL, _IONBF, 0); /* every fwrite lands in the chunk */
	return f;
}

/* ---------------------------------------------------------------- worker sink */

/* In a record all workers share, output is keyed by the stream's last
 * activity; the stream is still in the table while it ends. */
static void key_stream(struct worker *w, const flow_ep *a, const flow_ep *b)
{
	if (w->type == REC_SEG)
		return;
	flow_key fk;
	bool lo;
	flow_key_make(&fk, a, b, &lo);
	flow *f = flow_table_get(w->ft, &fk, false, 0, NULL);
	if (!f)
		return;
	uint64_t sub = *(uint64_t *)flow_ext(w->ft, f, w->ext);
	if (sub != w->sub) {
		cut(w);
		w->sub = sub;
	}
}

static void on_segment(void *user, flow *f, an_dir dir, const cap_segment *seg)
{
	struct worker *w = user;
	*(uint64_t *)flow_ext(w->ft, f, w->ext) = w->seq;
	stall_segment(w->stall, f, dir, seg);
}

static void on_stream(void *user, const an_stream_info *si)
{
	struct worker *w = user;
	key_stream(w, si->s.client, si->s.server);
	merge_chunk *c = chunk(w);
	if (c) {
		c->delta += si->phase == AN_BEGIN ? 1 : -1;
		if (c->delta > c->rise)
			c->rise = c->delta;
	}
	w->rsink.stream(w->rsink.user, si);
}

static void on_message(void *user, const an_message *m)
{
	struct worker *w = user;
	key_stream(w, m->s.client, m->s.server);
	w->rsink.message(w->rsink.user, m);
}

static void on_problem(void *user, const an_problem *p)
{
	struct worker *w = user;
	key_stream(w, p->s.client, p->s.server);
	w->rsink.problem(w->rsink.user, p);
}

/* As stall_main.c's stall_cli writes them. */
static void on_stall(void *user, const stall_event *ev)
{
	struct worker *w = user;
	key_stream(w, &ev->receiver, &ev->sender);
	w->sline.len = w->sline.off = 0;
	int rc = w->rep.json ? stall_event_json(&w->sline, ev)
			     : stall_event_text(&w->sline, ev, &w->clock);
	if (rc || jm_buf_append(&w->sline, "\n", 1))
		return;
	fwrite(jm_buf_head(&w->sline), 1, jm_buf_pending(&w->sline), w->out);
}

static void on_stall_note(void *user, uint64_t stream, double ts, const char *note)
{
	struct worker *w = user;
	if (w->rep.json) {
		w->sline.len = w->sline.off = 0;
		if (jm_json_quote(&w->sline, note, strlen(note)))
			return;
		fprintf(w->out, "{\"event\":\"stall_note\",\"ts\":%.6f,\"stream\":%llu,\"note\":%.*s}\n",
			ts, (unsigned long long)stream, (int)jm_buf_pending(&w->sline),
			(const char *)jm_buf_head(&w->sline));
	} else {
		fprintf(w->out, "stall note, stream %llu: %s\n", (unsigned long long)stream, note);
	}
}

/* ---------------------------------------------------------------- worker thread */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (;;) {
		size_t size;
		struct rec *r = ring_wait(&w->ring, &size);
		if (!w->clock.have_t0 && atomic_load_explicit(&w->k->have_t0, memory_order_acquire)) {
			w->clock.t0 = w->k->t0_ns;
			w->clock.have_t0 = true;
		}
		w->type = r->type;
		w->seq = r->seq;
		w->sub = 0;
		switch (r->type) {
		case REC_SEG:
			if (r->payload_at == PAY_HERE)
				r->seg.payload = (const uint8_t *)(r + 1);
			an_engine_clock(w->e, r->now, r->now_ns);
			an_engine_segment(w->e, &r->seg);
			if (r->payload_at == PAY_HEAP)
				free((void *)r->seg.payload);
			break;
		case REC_TICK:
			an_engine_clock(w->e, r->now, r->now_ns);
			an_engine_tick(w->e, r->now);
			break;
		case REC_STALL_END:
			stall_flush(w->stall, r->now);
			break;
		case REC_FINISH:
			an_engine_clock(w->e, r->now, r->now_ns);
			an_engine_finish(w->e);
			an_engine_stats(w->e, &w->st);
			break;
		}
		uint8_t type = r->type;
		uint64_t seq = r->seq;
		cut(w);
		ring_release(&w->ring);
		atomic_store_explicit(&w->done, seq, memory_order_release);
		if (type == REC_FINISH)
			return NULL;
	}
}

static int worker_init(struct wk_run *k, struct worker *w, unsigned i, const an_config *cfg,
		       size_t ring_bytes)
{
	const wk_options *o = k->o;
	w->k = k;
	w->index = i;
	w->q = &k->mg.q[i];
	if (ring_init(&w->ring, ring_bytes))
		return -1;
	if (!(w->out = chunk_file(w, out_write)))
		return -1;
	w->clock.mode = o->time;
	report_init(&w->rep, w->out, o->json, o->quiet, &w->clock, cfg->max_hex);
	w->rep.color = o->color;
	report_sink(&w->rep, &w->rsink);
	an_sink sink = {
		.user = w, .segment = on_segment, .stream = on_stream,
		.message = on_message, .problem = on_problem,
	};
	if (!(w->e = an_engine_new(cfg, &sink)))
		return -1;
	w->ft = an_engine_flows(w->e);
	flow_table_number(w->ft, i, k->n);
	stall_config sc = *o->stall;
	sc.series = false;
	sc.plot_stream = -1;
	if (!(w->stall = stall_new(&sc, on_stall, on_stall_note, w)) || stall_attach(w->stall, w->e))
		return -1;
	w->ext = an_engine_add_ext(w->e, sizeof(uint64_t), NULL, NULL);
	return w->ext < 0 ? -1 : 0;
}

static void worker_free(struct worker *w)
{
	an_engine_free(w->e);
	stall_free(w->stall);
	if (w->out)
		fclose(w->out);
	free(w->cur);
	report_free(&w->rep);
	jm_buf_free(&w->sline);
	ring_free(&w->ring);
}

/* ---------------------------------------------------------------- reader */

static uint64_t limit(struct wk_run *k)
{
	uint64_t lim = UINT64_MAX;
	for (unsigned i = 0; i < k->n; i++) {
		uint64_t d = atomic_load_explicit(&k->w[i].done, memory_order_acquire);
		uint64_t p = d == k->w[i].pushed_local ? k->seq + 1 : d + 1;
		if (p < lim)
			lim = p;
	}
	return lim;
}

static void flush_all(struct wk_run *k)
{
	for (unsigned i = 0; i < k->n; i++)
		ring_flush(&k->w[i].ring);
}

static void merge_some(struct wk_run *k)
{
	merger_emit(&k->mg, limit(k));
}

static struct rec *reserve(struct wk_run *k, struct worker *w, size_t size)
{
	struct rec *r = ring_try_reserve(&w->ring, size);
	if (!r) {
		/* Before waiting: no worker may sleep on records it was not
		 * told about, and what is done can go out. */
		flush_all(k);
		merge_some(k);
		r = ring_reserve(&w->ring, size);
	}
	return r;
}

static void commit(struct worker *w, uint64_t seq)
{
	ring_commit(&w->ring);
	w->pushed_local = seq;
	atomic_store_explicit(&w->pushed, seq, memory_order_release);
}

/* A record without a segment, to every worker. */
static void send_all(struct wk_run *k, uint8_t type, double now)
{
	k->seq++;
	for (unsigned i = 0; i < k->n; i++) {
		struct rec *r = reserve(k, &k->w[i], REC_SMALL);
		r->type = type;
		r->payload_at = PAY_HERE;
		r->seq = k->seq;
		r->now = now;
		r->now_ns = k->now_ns;
		commit(&k->w[i], k->seq);
	}
}

static void every_so_often(struct wk_run *k)
{
	if (++k->since_flush >= WK_FLUSH_PACKETS) {
		k->since_flush = 0;
		flush_all(k);
		merge_some(k);
	}
}

/* Every packet's time, and live the clock: as an_engine_tick() and
 * stall_cli_tick() take it in one engine. */
static void pkt_cb(void *user, double ts)
{
	struct wk_run *k = user;
	if (!atomic_load_explicit(&k->have_t0, memory_order_relaxed) &&
	    cap_first_time(k->src, &k->t0_ns))
		atomic_store_explicit(&k->have_t0, true, memory_order_release);
	if (ts > k->now)
		k->now = ts;
	if (ts > k->last_ts)
		k->last_ts = ts;
	if (k->idle > 0 && k->now - k->last_expire >= AN_EXPIRE_EVERY) {
		k->last_expire = k->now;
		send_all(k, REC_TICK, k->now);
	}
	every_so_often(k);
}

static void seg_cb(void *user, const cap_segment *seg)
{
	struct wk_run *k = user;
	struct worker *w = &k->w[wk_pick(&seg->src, &seg->dst, k->n)];
	size_t len = seg->payload_len;
	uint8_t at = cap_stable(k->src, seg->payload) ? PAY_MAPPED
		   : sizeof(struct rec) + len > ring_max_record(&w->ring) ? PAY_HEAP : PAY_HERE;
	struct rec *r = reserve(k, w, sizeof(struct rec) + (at == PAY_HERE ? len : 0));
	r->type = REC_SEG;
	r->payload_at = at;
	r->seq = ++k->seq;
	r->now = k->now;
	r->now_ns = k->now_ns;
	r->seg = *seg;
	if (at == PAY_HEAP) {
		uint8_t *p = malloc(len ? len : 1);
		if (p)
			memcpy(p, seg->payload, len);
		else
			r->seg.payload_len = 0; /* no memory: as if the snapshot cut it */
		r->seg.payload = p;
	} else if (at == PAY_HERE) {
		memcpy(r + 1, seg->payload, len);
	}
	commit(w, k->seq);
	/* What an_engine_segment() does to the clock. */
	if (seg->ts_ns > k->now_ns) {
		k->now_ns = seg->ts_ns;
		k->now = seg->ts;
	}
}

static ssize_t drops_write(void *cookie, const char *buf, size_t n)
{
	struct wk_run *k = cookie;
	if (!k->dcur && !(k->dcur = merge_chunk_new(k->seq, 0, 256)))
		return -1;
	if (merge_chunk_append(&k->dcur, buf, n))
		return -1;
	return (ssize_t)n;
}

static void drops_cb(void *user, int64_t now_ns, const cap_stats *cs)
{
	struct wk_run *k = user;
	k->seq++;
	report_capture_drops(&k->drep, now_ns, cs);
	if (k->dcur) {
		merge_push(&k->mg.q[k->n], k->dcur);
		k->dcur = NULL;
	}
	merge_some(k);
}

static void batch_cb(void *user)
{
	struct wk_run *k = user;
	flush_all(k);
	merge_some(k);
	fflush(k->o->out);
}

/* -l on a pipe (cap_on_batch: after every packet): the workers finish
 * what they were given and their lines go out, before the reader waits
 * for the next packet, which may be long in coming.  They are woken and
 * busy for microseconds, so the reader polls. */
static void sync_cb(void *user)
{
	struct wk_run *k = user;
	flush_all(k);
	for (unsigned i = 0; i < k->n; i++)
		while (atomic_load_explicit(&k->w[i].done, memory_order_acquire) !=
		       k->w[i].pushed_local)
			nanosleep(&(struct timespec){0, 20000}, NULL);
	merge_some(k);
	fflush(k->o->out);
}

static void sum_stats(an_stats *a, const an_stats *b)
{
	a->segments += b->segments;
	a->skipped += b->skipped;
	a->after_end += b->after_end;
	a->bad_resets += b->bad_resets;
	a->streams += b->streams;
	a->requests += b->requests;
	a->responses += b->responses;
	for (int i = 0; i < JM_PROB_COUNT; i++)
		a->problems[i] += b->problems[i];
	for (int i = 0; i < JM_ERR_COUNT; i++)
		a->errors[i] += b->errors[i];
	for (int i = 0; i < JM_FERR_COUNT; i++)
		a->ferrors[i] += b->ferrors[i];
	a->mem_peak += b->mem_peak;
	a->table_mem += b->table_mem;
	a->undecoded_streams += b->undecoded_streams;
	a->undecoded_bytes += b->undecoded_bytes;
	a->no_heuristic = b->no_heuristic;
	a->framed = b->framed;
}

static size_t ring_size(unsigned n)
{
	size_t b = WK_RING_TOTAL / n;
	if (b < (1u << 20))
		b = 1u << 20;
	if (b > (4u << 20))
		b = 4u << 20;
	return b;
}

/* The run's shared state, or NULL when out of memory. */
static struct wk_run *run_new(cap_source *src, const wk_options *o)
{
	unsigned n = o->workers;
	struct wk_run *k = calloc(1, sizeof *k);
	if (!k || !(k->w = calloc(n, sizeof *k->w)) || merger_init(&k->mg, n + 1, o->out)) {
		if (k)
			free(k->w);
		free(k);
		return NULL;
	}
	k->o = o;
	k->n = n;
	k->src = src;
	k->idle = o->cfg->idle_timeout;
	k->last_expire = -1;
	return k;
}

/* The limits of one engine, shared out. */
static an_config share_limits(const an_config *whole, unsigned n)
{
	an_config cfg = *whole;
	if (cfg.memcap)
		cfg.memcap = cfg.memcap / n ? cfg.memcap / n : 1;
	if (cfg.max_streams)
		cfg.max_streams = (cfg.max_streams + n - 1) / n;
	return cfg;
}

/* Starts every worker thread; on a failure, those already running are
 * told to end and false is returned. */
static bool start_workers(struct wk_run *k, char *err, size_t errlen)
{
	unsigned n = k->n, started = 0;
	/* Signals are the reader's: it is the one that stops the capture. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; started < n; started++) {
		int e = pthread_create(&k->w[started].th, NULL, worker_main, &k->w[started]);
		if (e) {
			snprintf(err, errlen, "cannot start worker thread %u of %u: %s", started + 1, n,
				 strerror(e));
			break;
		}
		k->w[started].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started < n) {
		/* Those running end at once: a finish with nothing to finish. */
		for (unsigned i = 0; i < started; i++) {
			struct rec *r = ring_reserve(&k->w[i].ring, REC_SMALL);
			r->type = REC_FINISH;
			r->payload_at = PAY_HERE;
			r->seq = 1;
			ring_commit(&k->w[i].ring);
			ring_flush(&k->w[i].ring);
		}
		return false;
	}
	return true;
}

/* As one engine ends: stalls still on (until the last packet, or
 * live until now), then every stream still open; then the summary. */
static bool finish_run(struct wk_run *k)
{
	const wk_options *o = k->o;
	double end = k->last_ts;
	if (o->live && sockdiag_now() > end)
		end = sockdiag_now();
	send_all(k, REC_STALL_END, end);
	send_all(k, REC_FINISH, k->now);
	flush_all(k);
	an_stats as;
	memset(&as, 0, sizeof as);
	for (unsigned i = 0; i < k->n; i++) {
		pthread_join(k->w[i].th, NULL);
		k->w[i].started = false;
		sum_stats(&as, &k->w[i].st);
	}
	merger_emit(&k->mg, UINT64_MAX);
	const an_engine *es[WK_MAX];
	for (unsigned i = 0; i < k->n; i++)
		es[i] = k->w[i].e;
	an_engines_busiest_ports(es, k->n, &as);
	as.peak_streams = (uint64_t)k->mg.peak;
	cap_stats cs;
	cap_get_stats(k->src, &cs);
	report rep;
	tf_clock clock = {.mode = o->time};
	report_init(&rep, o->out, o->json, o->quiet, &clock, o->cfg->max_hex);
	rep.color = o->color;
	report_summary(&rep, &cs, &as);
	report_free(&rep);
	fflush(o->out);
	return analyze_failed(o->fail_on, &as, &cs);
}

static void run_free(struct wk_run *k)
{
	for (unsigned i = 0; i < k->n; i++) {
		if (k->w[i].started)
			pthread_join(k->w[i].th, NULL);
		worker_free(&k->w[i]);
	}
	if (k->dout)
		fclose(k->dout);
	free(k->dcur);
	report_free(&k->drep);
	merger_free(&k->mg);
	free(k->w);
	free(k);
}

int wk_run(cap_source *src, const wk_options *o, char *err, size_t errlen)
{
	unsigned n = o->workers;
	struct wk_run *k = run_new(src, o);
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	an_config cfg = share_limits(o->cfg, n);

	int rc = -2;
	k->dout = chunk_file(k, drops_write);
	if (!k->dout) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	report_init(&k->drep, k->dout, o->json, o->quiet, NULL, o->cfg->max_hex);
	for (unsigned i = 0; i < n; i++) {
		if (worker_init(k, &k->w[i], i, &cfg, ring_size(n))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (!start_workers(k, err, errlen))
		goto out;

	cap_on_drops(src, drops_cb);
	cap_on_batch(src, o->live ? batch_cb : o->linebuf ? sync_cb : NULL);
	rc = cap_run(src, o->count, seg_cb, pkt_cb, k, err, errlen);
	if (finish_run(k) && rc == 0)
		rc = 1;
out:
	run_free(k);
	return rc;
}

/*
 * stall: wire-side window tracking, kernel-side queue tracking, and the
 * episodes that join them.  See stall.h for what is tracked and why.
 *
 * Sides are indexed 0 = client, 1 = server; a data direction d (an_dir) is
 * sent by side d and received by side !d, so "the receiver of d" is !d.
 */
#include "stall/stall.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stall/plot.h"
#include "tcp/community_id.h"
#include "tcp/seq.h"

#define MAX_SPANS 64

/* ---------------------------------------------------------------- state */

struct wside {                  /* what one side has sent */
	bool seen_syn;
	int16_t wscale_opt;     /* from its SYN; -1 absent */
	bool have_nxt;
	uint32_t nxt;           /* highest sequence sent, + SYN/FIN */
	bool have_ack;
	uint32_t ack;           /* latest acknowledgement it sent */
	uint16_t win_raw;
	uint64_t win, max_win;  /* scaled (raw if the scale is unknown) */
	bool have_first;        /* first non-SYN advertisement, scale known */
	bool have_first_ack;
	uint32_t first_ack, first_edge;
	bool fin, rst;
};

struct ksamp {
	bool have;
	double ts;
	uint32_t rq, wq, notsent, snd_wnd, rcv_wnd, unacked;
	bool has_br, has_snd_wnd, has_rwl, has_notsent, has_rcv_wnd;
	uint64_t br, rwl;
};

struct kside {                  /* one side's socket on this host */
	struct ksamp cur, prev;
	uint64_t batch;         /* batch of cur */
	sockdiag_proc proc;
};

struct dstate {                 /* one data direction */
	bool w_open;            /* the wire condition holds */
	bool k_open;            /* the kernel condition holds */
	bool ep_open;           /* an episode (either view) is open */
	bool probe_pending;
	bool zw_on;             /* the receiver's window is zero */
	uint64_t rwl_start;
	bool have_rwl_start;
	stall_event *ev;        /* the episode's figures so far; allocated
	                           only while an episode is open, so an idle
	                           stream costs no more than its window state */
};

struct series_pt {
	double ts;
	double a, b;            /* wire: window, in flight; kernel: Recv-Q, Send-Q */
};

struct series {
	struct series_pt *pts;
	size_t n, cap;
	uint32_t stride, skip;  /* keep one point in `stride` */
};

struct flow_series {
	uint64_t stream;
	flow_ep ep[2];
	double first_ts, last_ts;
	struct series w[2], k[2]; /* per data direction */
	plot_span spans[MAX_SPANS];
	an_dir span_dir[MAX_SPANS];
	size_t n_spans;
	double worst_ms;
	an_dir worst_dir;
};

struct st_flow {
	bool init;
	uint64_t stream;
	flow_ep ep[2];          /* client, server */
	struct wside w[2];
	struct kside *k;        /* [2], from the first socket sample on */
	struct dstate d[2];
	bool scale_noted, reach_noted, any_sock;
	uint64_t last_frame;    /* of the stream's latest segment */
	struct flow_series *ser;
};

struct stall_tracker {
	stall_config cfg;
	stall_event_fn on_event;
	stall_note_fn on_note;
	void *user;
	flow_table *ft;
	int ext;
	sockdiag_sampler *sampler;
	uint64_t batch_seq;
	bool finishing;
	double finish_ts;
	bool reach_noted;
	bool have_t0;
	double t0;              /* first segment's time: text lines count from it */
	size_t series_live;
	struct flow_series *keep;
	stall_stats st;
	char note[256];
};

static bool ep_eq(const flow_ep *a, const flow_ep *b)
{
	return a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

static struct st_flow *st_of(stall_tracker *t, flow *f)
{
	return flow_ext(t->ft, f, t->ext);
}

/* ---------------------------------------------------------------- series */

static void series_add(struct series *s, double ts, double a, double b)
{
	if (s->skip) {
		s->skip--;
		return;
	}
	if (s->n == s->cap) {
		if (s->cap == STALL_SERIES_POINTS) {
			/* Full: keep every other point and record half as often.
			 * The picture keeps its shape; memory stays fixed. */
			for (size_t i = 0; i < s->n / 2; i++)
				s->pts[i] = s->pts[2 * i];
			s->n /= 2;
			s->stride = s->stride ? s->stride * 2 : 2;
		} else {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct series_pt *np = realloc(s->pts, cap * sizeof *np);
			if (!np)
				return;
			s->pts = np;
			s->cap = cap;
		}
	}
	s->pts[s->n++] = (struct series_pt){ts, a, b};
	s->skip = s->stride ? s->stride - 1 : 0;
}

static void flow_series_free(struct flow_series *fs)
{
	if (!fs)
		return;
	for (int i = 0; i < 2; i++) {
		free(fs->w[i].pts);
		free(fs->k[i].pts);
	}
	free(fs);
}

/* ---------------------------------------------------------------- episodes */

static double min_ms(const stall_tracker *t) { return t->cfg.stall_ms; }

static bool ep_begin(struct st_flow *fs, an_dir d)
{
	struct dstate *ds = &fs->d[d];
	if (ds->ep_open)
		return true;
	ds->ev = calloc(1, sizeof *ds->ev);
	if (!ds->ev)
		return false;   /* no memory: this episode goes unreported */
	ds->ep_open = true;
	ds->ev->stream = fs->stream;
	ds->ev->dir = d;
	ds->ev->side = d == AN_C2S ? "server" : "client";
	ds->ev->receiver = fs->ep[!d];
	ds->ev->sender = fs->ep[d];
	ds->ev->wscale = -1;
	ds->have_rwl_start = false;
	return true;
}

static bool wire_qualifies(const stall_tracker *t, const stall_event *ev)
{
	if (!ev->wire)
		return false;
	bool has_data = ev->window_full || ev->probes || ev->max_inflight;
	return has_data && (ev->wire_end - ev->wire_start) * 1000.0 >= min_ms(t);
}

static bool kernel_qualifies(const stall_tracker *t, const stall_event *ev)
{
	return ev->kernel && (ev->kernel_end - ev->kernel_start) * 1000.0 >= min_ms(t);
}

static void remember_span(stall_tracker *t, struct st_flow *fs, const stall_event *ev)
{
	struct flow_series *s = fs->ser;
	if (!s)
		return;
	if (s->n_spans < MAX_SPANS) {
		s->spans[s->n_spans] = (plot_span){ev->start, ev->end, NULL};
		s->span_dir[s->n_spans] = ev->dir;
		s->n_spans++;
	}
	if (ev->duration_ms > s->worst_ms) {
		s->worst_ms = ev->duration_ms;
		s->worst_dir = ev->dir;
	}
}

/* Close the episode of direction d: report it if either view held long
 * enough. */
static void ep_close(stall_tracker *t, struct st_flow *fs, an_dir d, const char *why, bool open)
{
	struct dstate *ds = &fs->d[d];
	if (!ds->ep_open)
		return;
	ds->ep_open = false;
	ds->w_open = ds->k_open = ds->zw_on = false;
	ds->probe_pending = false;
	stall_event *ev = ds->ev;
	ds->ev = NULL;
	bool w = wire_qualifies(t, ev), k = kernel_qualifies(t, ev);
	if (!w && !k) {
		free(ev);
		return;
	}
	double start = INFINITY, end = -INFINITY;
	if (ev->wire) {
		start = ev->wire_start;
		end = ev->wire_end;
	}
	if (ev->kernel) {
		if (ev->kernel_start < start)
			start = ev->kernel_start;
		if (ev->kernel_end > end)
			end = ev->kernel_end;
	}
	ev->start = start;
	ev->end = end;
	ev->duration_ms = (end - start) * 1000.0;
	ev->open = open;
	ev->ended_by = why;
	ev->t0 = t->t0;
	if (ev->wire) {
		ev->frame = ev->start_frame;
		ev->frame_last = ev->end_frame ? ev->end_frame : fs->last_frame;
	}
	t->st.stalls++;
	if (ev->wire && ev->kernel)
		t->st.both++;
	else if (ev->wire)
		t->st.wire_only++;
	else
		t->st.kernel_only++;
	remember_span(t, fs, ev);
	if (t->on_event)
		t->on_event(t->user, ev);
	free(ev);
}

/* ---------------------------------------------------------------- wire */

static bool scale_known(const struct st_flow *fs)
{
	return fs->w[0].seen_syn && fs->w[1].seen_syn;
}

static int shift_of(const struct st_flow *fs, int side)
{
	if (!scale_known(fs))
		return -1;
	if (fs->w[0].wscale_opt < 0 || fs->w[1].wscale_opt < 0)
		return 0;              /* RFC 7323: both must offer it */
	int s = fs->w[side].wscale_opt;
	return s > 14 ? 14 : s;
}

/* The wire condition for data direction d, and the bytes in flight. */
static bool wire_cond(const struct st_flow *fs, an_dir d, uint64_t *inflight)
{
	const struct wside *S = &fs->w[d], *R = &fs->w[!d];
	*inflight = 0;
	if (!R->have_ack || !S->have_nxt)
		return false;
	int32_t diff = seq_diff(S->nxt, R->ack);
	if (diff > 0)
		*inflight = (uint64_t)diff;
	if (R->win_raw == 0)
		return true;
	if (!scale_known(fs) || !*inflight)
		return false;
	uint32_t edge = R->ack + (uint32_t)R->win;
	return seq_leq(edge, S->nxt);
}

struct seg_marks {
	bool probe;             /* probe in direction d */
	bool full;              /* window full in direction d */
	bool zero;              /* zero window for direction !d */
	bool update;            /* window update for direction !d */
	bool probe_ack;         /* answer to a probe of direction !d */
};

static void wire_eval(stall_tracker *t, struct st_flow *fs, an_dir d, const cap_segment *seg,
		      const struct seg_marks *m, bool ack_dir)
{
	struct dstate *ds = &fs->d[d];
	uint64_t inflight;
	bool cond = wire_cond(fs, d, &inflight);
	bool was = ds->w_open;
	if (cond && !was && !ep_begin(fs, d))
		cond = false;
	if (cond && !was) {
		if (!ds->ev->wire) {
			ds->ev->wire = true;
			ds->ev->wire_start = seg->ts;
			ds->ev->start_frame = seg->frame;
		}
		ds->w_open = true;
		ds->ev->end_frame = 0;
	}
	if (cond || was) {
		stall_event *ev = ds->ev;
		ev->wscale = shift_of(fs, !d);
		if (inflight > ev->max_inflight)
			ev->max_inflight = inflight;
		if (!ack_dir) {
			ev->probes += m->probe;
			ev->window_full += m->full;
		} else {
			const struct wside *Rw = &fs->w[!d];
			if (m->zero && !ds->zw_on) {
				ds->zw_on = true;
				if (!ev->zw_start_frame) {
					ev->zw_start = seg->ts;
					ev->zw_start_frame = seg->frame;
				}
			} else if (ds->zw_on && Rw->win_raw && !(seg->flags & CAP_RST)) {
				ds->zw_on = false;
				ev->zw_end = seg->ts;
				ev->zw_end_frame = seg->frame;
			}
			ev->zero_windows += m->zero;
			ev->window_updates += m->update;
			ev->probe_acks += m->probe_ack;
		}
		const struct wside *R = &fs->w[!d];
		if (ev->wscale >= 0) {
			/* Two lower bounds, both assuming the window is the free
			 * space of the receive buffer: how far the window shrank
			 * from its largest, and how many bytes were acknowledged
			 * beyond what the right edge advanced since the first
			 * advertisement (bytes taken in and never freed). */
			int64_t a = R->max_win >= R->win ? (int64_t)(R->max_win - R->win) : 0;
			if (R->have_first) {
				int64_t b = (int64_t)(uint32_t)(R->ack - R->first_ack) -
					    seq_diff(R->ack + (uint32_t)R->win, R->first_edge);
				if (b > a)
					a = b;
			}
			ev->have_estimate = true;
			if ((uint64_t)a > ev->recvq_estimate)
				ev->recvq_estimate = (uint64_t)a;
		}
		ev->wire_end = seg->ts;
	}
	if (was && !cond) {
		ds->w_open = false;
		ds->ev->end_frame = seg->frame;
		ds->probe_pending = false;
		if (!ds->k_open)
			ep_close(t, fs, d, "window_opened", false);
	}
	if (fs->ser) {
		const struct wside *R = &fs->w[!d];
		if (R->have_ack)
			series_add(&fs->ser->w[d], seg->ts, (double)R->win, (double)inflight);
	}
}

static void flow_init(stall_tracker *t, flow *f, struct st_flow *fs, an_dir dir,
		      const cap_segment *seg)
{
	fs->init = true;
	fs->stream = f->id;
	fs->ep[0] = dir == AN_C2S ? seg->src : seg->dst;
	fs->ep[1] = dir == AN_C2S ? seg->dst : seg->src;
	fs->w[0].wscale_opt = fs->w[1].wscale_opt = -1;
	bool want = t->cfg.series && t->series_live < STALL_SERIES_STREAMS &&
		    (t->cfg.plot_stream < 0 || (uint64_t)t->cfg.plot_stream == f->id);
	if (want) {
		fs->ser = calloc(1, sizeof *fs->ser);
		if (fs->ser) {
			fs->ser->stream = f->id;
			fs->ser->ep[0] = fs->ep[0];
			fs->ser->ep[1] = fs->ep[1];
			fs->ser->first_ts = seg->ts;
			fs->ser->worst_ms = -1;
			t->series_live++;
		}
	}
}

/* The stream's state, set up by its first segment; the kernel view is
 * brought up to this segment's time first. */
static struct st_flow *segment_flow(stall_tracker *t, flow *f, an_dir dir, const cap_segment *seg)
{
	if (t->sampler)
		stall_poll(t, seg->ts);
	struct st_flow *fs = st_of(t, f);
	if (!t->have_t0) {
		t->have_t0 = true;
		t->t0 = seg->ts;
	}
	if (!fs->init) {
		flow_init(t, f, fs, dir, seg);
		if (t->sampler)
			sockdiag_sampler_watch(t->sampler, &f->key);
	}
	if (fs->ser)
		fs->ser->last_ts = seg->ts;
	fs->last_frame = seg->frame;
	return fs;
}

/* A zero-window probe or a segment that fills the window, against the
 * receiver's state R. */
static void data_marks(const struct st_flow *fs, const struct wside *R, const cap_segment *seg,
		       bool plain, struct seg_marks *m)
{
	if (plain && R->have_ack && R->win_raw == 0) {
		if (seg->payload_wire == 0 && seg->seq == R->ack - 1)
			m->probe = true;     /* Linux: empty, one byte behind */
		else if (seg->payload_wire == 1 && seg->seq == R->ack)
			m->probe = true;     /* one byte at the acknowledged point */
	}
	if (seg->payload_wire && R->have_ack && scale_known(fs) && R->win_raw) {
		uint32_t end = seg->seq + seg->payload_wire;
		if (end == R->ack + (uint32_t)R->win)
			m->full = true;
	}
}

/* What wire_eval's Recv-Q estimate measures from, after W took a new
 * acknowledgement and window: the largest window, the first
 * acknowledgement and the first right edge. */
static void estimate_bases(const struct st_flow *fs, struct wside *W, const cap_segment *seg)
{
	uint8_t fl = seg->flags;
	/* A SYN's window is never scaled: not a fair maximum. */
	if (!(fl & CAP_SYN) && W->win > W->max_win)
		W->max_win = W->win;
	/* From the handshake's ack: bytes taken in before the
	 * first scaled advertisement count as unread too. */
	if (!W->have_first_ack) {
		W->have_first_ack = true;
		W->first_ack = seg->ack;
	}
	if (!(fl & CAP_SYN) && !W->have_first && scale_known(fs)) {
		W->have_first = true;
		W->first_edge = seg->ack + (uint32_t)W->win;
	}
}

/* A midstream pickup: the scale is unknown and stays so; each stall of this
 * stream says so ("window_scale":"unknown") instead of a guess, and only
 * zero windows are judged. */
static void note_unknown_scale(stall_tracker *t, struct st_flow *fs, uint8_t fl)
{
	if (!scale_known(fs) && !(fl & CAP_SYN) && !fs->scale_noted) {
		fs->scale_noted = true;
		t->st.streams_unknown_scale++;
	}
}

/* A reset ends the episodes of both directions at this segment. */
static void close_on_reset(stall_tracker *t, struct st_flow *fs, const cap_segment *seg)
{
	for (int d = 0; d < 2; d++)
		if (fs->d[d].ep_open) {
			fs->d[d].ev->wire_end = fs->d[d].ev->wire ? seg->ts : fs->d[d].ev->wire_end;
			if (fs->d[d].ev->wire)
				fs->d[d].ev->end_frame = seg->frame;
			if (fs->d[d].ev->kernel)
				fs->d[d].ev->kernel_end = seg->ts > fs->d[d].ev->kernel_end
							 ? seg->ts : fs->d[d].ev->kernel_end;
			ep_close(t, fs, (an_dir)d, "reset", false);
		}
}

void stall_segment(stall_tracker *t, flow *f, an_dir dir, const cap_segment *seg)
{
	struct st_flow *fs = segment_flow(t, f, dir, seg);
	int X = dir, Y = !dir;
	struct wside *W = &fs->w[X], *R = &fs->w[Y];
	uint8_t fl = seg->flags;
	struct seg_marks m = {0};

	if (fl & CAP_SYN) {
		W->seen_syn = true;
		W->wscale_opt = seg->wscale;
	}
	if (fl & CAP_RST) {
		W->rst = true;
	} else {
		/* Data direction X -> Y: probes and window full, judged against
		 * the receiver's window as it stood before this segment. */
		bool plain = !(fl & (CAP_SYN | CAP_FIN));
		data_marks(fs, R, seg, plain, &m);
		if (m.probe)
			fs->d[X].probe_pending = true;

		uint32_t end = seg->seq + seg->payload_wire + ((fl & CAP_SYN) ? 1 : 0) +
			       ((fl & CAP_FIN) ? 1 : 0);
		if (!W->have_nxt || seq_gt(end, W->nxt)) {
			W->nxt = end;
			W->have_nxt = true;
		}
		if (fl & CAP_FIN)
			W->fin = true;

		/* X's acknowledgement and window, for data direction Y -> X. */
		if (fl & CAP_ACK) {
			int sh = (fl & CAP_SYN) ? 0 : shift_of(fs, X);
			if (sh < 0)
				sh = 0;       /* unknown: raw, judged only at zero */
			bool same_ack = W->have_ack && seg->ack == W->ack;
			if (plain && !seg->payload_wire && same_ack && seg->window != W->win_raw)
				m.update = true;
			/* An answer still at zero; a window update that reopens
			 * is counted as an update, not as a probe's answer. */
			if (plain && !seg->payload_wire && !seg->window && fs->d[Y].probe_pending) {
				m.probe_ack = true;
				fs->d[Y].probe_pending = false;
			}
			if (!W->have_ack || seq_leq(W->ack, seg->ack)) {
				W->ack = seg->ack;
				W->have_ack = true;
				W->win_raw = seg->window;
				W->win = (uint64_t)seg->window << sh;
				estimate_bases(fs, W, seg);
			}
			if (plain && seg->window == 0)
				m.zero = true;
		}
	}
	note_unknown_scale(t, fs, fl);
	wire_eval(t, fs, (an_dir)X, seg, &m, false);
	wire_eval(t, fs, (an_dir)Y, seg, &m, true);
	if (fl & CAP_RST)
		close_on_reset(t, fs, seg);
}

/* ---------------------------------------------------------------- kernel */

static void ksamp_from(struct ksamp *k, const sockdiag_sock *s, double ts)
{
	memset(k, 0, sizeof *k);
	k->have = true;
	k->ts = ts;
	k->rq = s->rqueue;
	k->wq = s->wqueue;
	if ((k->has_br = sockdiag_has(s, tcpi_bytes_received)))
		k->br = s->info.tcpi_bytes_received;
	if ((k->has_snd_wnd = sockdiag_has(s, tcpi_snd_wnd)))
		k->snd_wnd = s->info.tcpi_snd_wnd;
	if ((k->has_rwl = sockdiag_has(s, tcpi_rwnd_limited)))
		k->rwl = s->info.tcpi_rwnd_limited;
	if ((k->has_notsent = sockdiag_has(s, tcpi_notsent_bytes)))
		k->notsent = s->info.tcpi_notsent_bytes;
	k->has_rcv_wnd = sockdiag_rcv_wnd(s, &k->rcv_wnd);
	k->unacked = s->info.tcpi_unacked;   /* 0 when tcp_info is absent */
}

static void fig_add(stall_fig *f, uint32_t v, bool first)
{
	if (!f->have || first) {
		f->have = true;
		f->start = f->peak = f->end = v;
		return;
	}
	if (v > f->peak)
		f->peak = v;
	f->end = v;
}

/* The kernel condition for data direction d, from the receiver's samples
 * (r now, rprev the one before) and the sender's (s, sprev); rp and sp say
 * whether this batch sampled them.  *r_cond: the receiver read nothing. */
static bool kernel_cond(bool rp, const struct ksamp *r, const struct ksamp *rprev, bool sp,
			const struct ksamp *s, const struct ksamp *sprev, bool *r_cond)
{
	bool s_cond = false;
	*r_cond = false;
	if (rp && r->rq > 0 && rprev->have && rprev->rq > 0) {
		int64_t read;
		if (r->has_br && rprev->has_br)
			read = (int64_t)(r->br - rprev->br) - ((int64_t)r->rq - (int64_t)rprev->rq);
		else
			read = r->rq < rprev->rq ? 1 : 0;
		*r_cond = read <= 0;
	}
	if (sp && s->wq > 0) {
		if (s->has_snd_wnd)
			s_cond = s->snd_wnd == 0;
		else if (s->has_rwl && sprev->have && sprev->has_rwl)
			s_cond = s->rwl > sprev->rwl;
	}
	return *r_cond || s_cond;
}

/* The kernel view of an episode begins: at this sample, or at the one
 * before if nothing was read since. */
static void kernel_begin(struct dstate *ds, const struct kside *Rk, const struct kside *Sk,
			 bool r_cond, bool sp, double ts)
{
	const struct ksamp *rprev = &Rk->prev, *s = &Sk->cur, *sprev = &Sk->prev;
	stall_event *ev = ds->ev;
	ev->kernel = true;
	/* Nothing was read since the previous sample: the
	 * stall began no later than that sample. */
	bool from_prev = r_cond && rprev->have;
	ev->kernel_start = from_prev ? rprev->ts : ts;
	if (from_prev)
		fig_add(&ev->recvq, rprev->rq, true);
	if (from_prev && sprev->have && sp) {
		fig_add(&ev->sendq, sprev->wq, true);
		if (sprev->has_notsent)
			fig_add(&ev->notsent, sprev->notsent, true);
	}
	if (sp && s->has_rwl) {
		ds->rwl_start = (from_prev && sprev->have && sprev->has_rwl) ? sprev->rwl : s->rwl;
		ds->have_rwl_start = true;
	}
}

/* One more sample of an open kernel view: the queues' figures, the
 * windows, the processes. */
static void kernel_sample(struct dstate *ds, const struct kside *Rk, const struct kside *Sk,
			  bool rp, bool sp, double ts)
{
	const struct ksamp *r = &Rk->cur, *s = &Sk->cur;
	stall_event *ev = ds->ev;
	ev->samples++;
	if (rp) {
		fig_add(&ev->recvq, r->rq, false);
		if ((ev->have_rcv_wnd = r->has_rcv_wnd))
			ev->rcv_wnd = r->rcv_wnd;
	}
	if (sp) {
		fig_add(&ev->unacked, s->unacked, false);
		if ((ev->have_snd_wnd = s->has_snd_wnd))
			ev->snd_wnd = s->snd_wnd;
		fig_add(&ev->sendq, s->wq, false);
		if (s->has_notsent)
			fig_add(&ev->notsent, s->notsent, false);
		if (s->has_rwl) {
			if (!ds->have_rwl_start) {
				ds->rwl_start = s->rwl;
				ds->have_rwl_start = true;
			}
			ev->rwnd_limited_ms = (s->rwl - ds->rwl_start) / 1000;
		}
	}
	if (Rk->proc.pid)
		ev->receiver_proc = Rk->proc;
	if (Sk->proc.pid)
		ev->sender_proc = Sk->proc;
	ev->kernel_end = ts;
}

static void kernel_eval(stall_tracker *t, struct st_flow *fs, an_dir d, double ts)
{
	struct dstate *ds = &fs->d[d];
	struct kside *Rk = &fs->k[!d], *Sk = &fs->k[d];
	bool rp = Rk->cur.have && Rk->batch == t->batch_seq;
	bool sp = Sk->cur.have && Sk->batch == t->batch_seq;
	const struct ksamp *r = &Rk->cur, *s = &Sk->cur;

	bool r_cond;
	bool cond = kernel_cond(rp, r, &Rk->prev, sp, s, &Sk->prev, &r_cond);
	if (cond && !ds->k_open && !ep_begin(fs, d))
		cond = false;
	if (cond && !ds->k_open) {
		ds->k_open = true;
		if (!ds->ev->kernel)
			kernel_begin(ds, Rk, Sk, r_cond, sp, ts);
	}
	if (ds->k_open)
		kernel_sample(ds, Rk, Sk, rp, sp, ts);
	if (ds->k_open && !cond) {
		ds->k_open = false;
		if (!ds->w_open)
			ep_close(t, fs, d, "drained", false);
	}
	if (fs->ser && (rp || sp))
		series_add(&fs->ser->k[d], ts, rp ? (double)r->rq : NAN, sp ? (double)s->wq : NAN);
}

void stall_kernel(stall_tracker *t, const sockdiag_batch *b)
{
	if (!t->ft)
		return;
	t->batch_seq++;
	t->st.batches++;
	for (size_t i = 0; i < b->n; i++) {
		const sockdiag_sock *s = &b->socks[i];
		flow_key k;
		bool lo;
		flow_key_make(&k, &s->local, &s->remote, &lo);
		flow *f = flow_table_get(t->ft, &k, false, 0, NULL);
		if (!f)
			continue;
		struct st_flow *fs = st_of(t, f);
		if (!fs->init)
			continue;
		int side = ep_eq(&s->local, &fs->ep[0]) ? 0 : ep_eq(&s->local, &fs->ep[1]) ? 1 : -1;
		if (side < 0)
			continue;
		if (!fs->k && !(fs->k = calloc(2, sizeof *fs->k)))
			continue;
		struct kside *ks = &fs->k[side];
		if (ks->batch != t->batch_seq)  /* a 4-tuple listed twice: first wins */
			ks->prev = ks->cur;
		else
			continue;
		ksamp_from(&ks->cur, s, b->ts);
		ks->batch = t->batch_seq;
		if (b->procs && b->procs[i].pid)
			ks->proc = b->procs[i];
		fs->any_sock = true;
	}
	for (flow *f = flow_table_oldest(t->ft); f; f = flow_newer(f)) {
		struct st_flow *fs = st_of(t, f);
		if (!fs->init)
			continue;
		for (int d = 0; fs->k && d < 2; d++)
			kernel_eval(t, fs, (an_dir)d, b->ts);
		if (!fs->any_sock && !t->reach_noted && (fs->d[0].w_open || fs->d[1].w_open)) {
			t->reach_noted = true;
			if (t->on_note)
				t->on_note(t->user, fs->stream, b->ts,
					   "no socket of this stream is on this host: its queues are out of "
					   "reach, only the wire view is reported (said once)");
		}
	}
}

void stall_poll(stall_tracker *t, double now)
{
	if (!t->sampler)
		return;
	sockdiag_batch *b;
	while ((b = sockdiag_sampler_next(t->sampler, now))) {
		stall_kernel(t, b);
		sockdiag_batch_free(b);
	}
}

/* ---------------------------------------------------------------- life */

static double score_of(const struct flow_series *s)
{
	return s ? s->worst_ms : -2;
}

static void keep_series(stall_tracker *t, struct st_flow *fs)
{
	struct flow_series *s = fs->ser;
	fs->ser = NULL;
	if (!s)
		return;
	t->series_live--;
	bool wanted = t->cfg.plot_stream >= 0 ? (uint64_t)t->cfg.plot_stream == s->stream
					       : score_of(s) > score_of(t->keep);
	if (wanted) {
		flow_series_free(t->keep);
		t->keep = s;
	} else {
		flow_series_free(s);
	}
}

static void close_flow(stall_tracker *t, struct st_flow *fs, double ts)
{
	for (int d = 0; d < 2; d++) {
		struct dstate *ds = &fs->d[d];
		if (!ds->ep_open)
			continue;
		const char *why;
		bool open = false;
		if (fs->w[0].rst || fs->w[1].rst)
			why = "reset";
		else if (t->finishing) {
			why = "capture_end";
			open = true;
		} else if (fs->w[0].fin && fs->w[1].fin)
			why = "closed";
		else
			why = "expired";
		if (ds->ev->wire && ds->w_open && ts > ds->ev->wire_end)
			ds->ev->wire_end = ts;
		ep_close(t, fs, (an_dir)d, why, open);
	}
}

static void st_fini(flow *f, void *ext, void *user)
{
	stall_tracker *t = user;
	struct st_flow *fs = ext;
	if (!fs->init)
		return;
	close_flow(t, fs, t->finishing ? t->finish_ts : f->last_ts);
	keep_series(t, fs);
	if (t->sampler)
		sockdiag_sampler_unwatch(t->sampler, &f->key);
	free(fs->k);
	fs->k = NULL;
}

stall_tracker *stall_new(const stall_config *c, stall_event_fn on_event, stall_note_fn on_note,
			 void *user)
{
	stall_tracker *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	if (c)
		t->cfg = *c;
	else
		t->cfg.plot_stream = -1;
	if (t->cfg.stall_ms <= 0)
		t->cfg.stall_ms = STALL_DEFAULT_MS;
	t->on_event = on_event;
	t->on_note = on_note;
	t->user = user;
	t->ext = -1;
	return t;
}

void stall_free(stall_tracker *t)
{
	if (!t)
		return;
	flow_series_free(t->keep);
	free(t);
}

int stall_attach_table(stall_tracker *t, flow_table *ft)
{
	t->ft = ft;
	t->ext = flow_table_add_ext(ft, sizeof(struct st_flow), st_fini, t);
	return t->ext < 0 ? -1 : 0;
}

int stall_attach(stall_tracker *t, an_engine *e)
{
	t->ft = an_engine_flows(e);
	t->ext = an_engine_add_ext(e, sizeof(struct st_flow), st_fini, t);
	return t->ext < 0 ? -1 : 0;
}

void stall_use_sampler(stall_tracker *t, sockdiag_sampler *s)
{
	t->sampler = s;
}

void stall_flush(stall_tracker *t, double ts)
{
	if (t->sampler)
		stall_poll(t, ts > sockdiag_now() ? ts : sockdiag_now());
	t->finishing = true;
	t->finish_ts = ts;
	if (!t->ft)
		return;
	for (flow *f = flow_table_oldest(t->ft); f; f = flow_newer(f)) {
		struct st_flow *fs = st_of(t, f);
		if (fs->init)
			close_flow(t, fs, ts);
	}
}

void stall_get_stats(const stall_tracker *t, stall_stats *st)
{
	*st = t->st;
}

/* ---------------------------------------------------------------- output */

static int put_ep(jm_buf *o, const flow_ep *e)
{
	char b[64];
	flow_ep_format(e, b, sizeof b);
	return jm_json_quote(o, b, strlen(b));
}

static int put_fig(jm_buf *o, const char *name, const stall_fig *f)
{
	if (!f->have)
		return jm_buf_printf(o, ",\"%s\":null", name);
	return jm_buf_printf(o, ",\"%s\":{\"start\":%u,\"peak\":%u,\"end\":%u}", name, f->start,
			     f->peak, f->end);
}

static int put_proc(jm_buf *o, const char *name, const sockdiag_proc *p)
{
	if (!p->pid)
		return jm_buf_printf(o, ",\"%s\":null", name);
	int rc = jm_buf_printf(o, ",\"%s\":{\"pid\":%d,\"fd\":%d,\"comm\":", name, (int)p->pid,
			       p->fd);
	rc |= jm_json_quote(o, p->comm, strlen(p->comm));
	return rc | jm_buf_printf(o, "}");
}

/* The "wire" member of an event's JSON, from the comma before it. */
static int put_wire(jm_buf *o, const stall_event *ev)
{
	if (!ev->wire)
		return jm_buf_printf(o, ",\"wire\":null");
	int rc = jm_buf_printf(o, ",\"wire\":{\"start\":%.6f,\"end\":", ev->wire_start);
	rc |= ev->open && !ev->end_frame ? jm_buf_printf(o, "null")
					 : jm_buf_printf(o, "%.6f", ev->wire_end);
	rc |= jm_buf_printf(o, ",\"start_frame\":%llu,\"end_frame\":",
			    (unsigned long long)ev->start_frame);
	rc |= ev->end_frame ? jm_buf_printf(o, "%llu", (unsigned long long)ev->end_frame)
			    : jm_buf_printf(o, "null");
	if (ev->zw_start_frame)
		rc |= jm_buf_printf(o, ",\"zero_window_start\":%.6f,\"zero_window_start_frame\":%llu",
				    ev->zw_start, (unsigned long long)ev->zw_start_frame);
	else
		rc |= jm_buf_printf(o, ",\"zero_window_start\":null,\"zero_window_start_frame\":null");
	if (ev->zw_end_frame)
		rc |= jm_buf_printf(o, ",\"zero_window_end\":%.6f,\"zero_window_end_frame\":%llu",
				    ev->zw_end, (unsigned long long)ev->zw_end_frame);
	else
		rc |= jm_buf_printf(o, ",\"zero_window_end\":null,\"zero_window_end_frame\":null");
	if (ev->wscale >= 0)
		rc |= jm_buf_printf(o, ",\"window_scale\":%d", ev->wscale);
	else
		rc |= jm_buf_printf(o, ",\"window_scale\":\"unknown\"");
	rc |= jm_buf_printf(o, ",\"zero_windows\":%llu,\"window_full\":%llu,\"window_updates\":%llu"
			       ",\"zero_window_probes\":%llu,\"probe_acks\":%llu"
			       ",\"max_bytes_in_flight\":%llu",
			    (unsigned long long)ev->zero_windows, (unsigned long long)ev->window_full,
			    (unsigned long long)ev->window_updates, (unsigned long long)ev->probes,
			    (unsigned long long)ev->probe_acks, (unsigned long long)ev->max_inflight);
	if (ev->have_estimate)
		rc |= jm_buf_printf(o, ",\"recvq_estimate\":%llu"
				       ",\"recvq_estimate_from\":\"window shrinkage\"}",
				    (unsigned long long)ev->recvq_estimate);
	else
		rc |= jm_buf_printf(o, ",\"recvq_estimate\":null}");
	return rc;
}

/* The "kernel" member of an event's JSON, from the comma before it. */
static int put_kernel(jm_buf *o, const stall_event *ev)
{
	if (!ev->kernel)
		return jm_buf_printf(o, ",\"kernel\":null");
	int rc = jm_buf_printf(o, ",\"kernel\":{\"start\":%.6f,\"end\":%.6f,\"samples\":%u",
			       ev->kernel_start, ev->kernel_end, ev->samples);
	rc |= put_fig(o, "recvq", &ev->recvq);
	rc |= put_fig(o, "sendq", &ev->sendq);
	rc |= put_fig(o, "notsent", &ev->notsent);
	rc |= put_fig(o, "unacked", &ev->unacked);
	rc |= ev->have_snd_wnd ? jm_buf_printf(o, ",\"snd_wnd\":%u", ev->snd_wnd)
			       : jm_buf_printf(o, ",\"snd_wnd\":null");
	rc |= ev->have_rcv_wnd ? jm_buf_printf(o, ",\"rcv_wnd\":%u", ev->rcv_wnd)
			       : jm_buf_printf(o, ",\"rcv_wnd\":null");
	rc |= jm_buf_printf(o, ",\"rwnd_limited_ms\":%llu", (unsigned long long)ev->rwnd_limited_ms);
	rc |= put_proc(o, "receiver_process", &ev->receiver_proc);
	rc |= put_proc(o, "sender_process", &ev->sender_proc);
	return rc | jm_buf_printf(o, "}");
}

int stall_event_json(jm_buf *o, const stall_event *ev)
{
	char cid[COMMUNITY_ID_LEN];
	community_id(&ev->receiver, &ev->sender, 6, 0, cid);
	int rc = jm_buf_printf(o, "{\"event\":\"stall\",\"ts\":%.6f,\"stream\":%llu,\"side\":\"%s\",\"receiver\":",
			       ev->start, (unsigned long long)ev->stream, ev->side);
	rc |= put_ep(o, &ev->receiver);
	rc |= jm_buf_printf(o, ",\"sender\":");
	rc |= put_ep(o, &ev->sender);
	rc |= jm_buf_printf(o, ",\"community_id\":\"%s\"", cid);
	if (ev->frame)
		rc |= jm_buf_printf(o, ",\"frame\":%llu,\"frame_last\":%llu",
				    (unsigned long long)ev->frame, (unsigned long long)ev->frame_last);
	else
		rc |= jm_buf_printf(o, ",\"frame\":null,\"frame_last\":null");
	rc |= jm_buf_printf(o, ",\"start\":%.6f", ev->start);
	if (ev->open)
		rc |= jm_buf_printf(o, ",\"end\":null,\"open\":true");
	else
		rc |= jm_buf_printf(o, ",\"end\":%.6f,\"open\":false", ev->end);
	rc |= jm_buf_printf(o, ",\"duration_ms\":%.3f,\"ended_by\":\"%s\"", ev->duration_ms,
			    ev->ended_by);
	rc |= put_wire(o, ev);
	rc |= put_kernel(o, ev);
	return rc | jm_buf_printf(o, "}");
}

int stall_event_text(jm_buf *o, const stall_event *ev, tf_clock *clock)
{
	char r[64], s[64], t[TF_MAX];
	flow_ep_format(&ev->receiver, r, sizeof r);
	flow_ep_format(&ev->sender, s, sizeof s);
	/* A double holds a time since 1970 to about 0.2 us: whole microseconds. */
	tf_format(clock, (int64_t)llround(ev->start * 1e6) * 1000, t);
	int rc = jm_buf_printf(o, "%s stall stream %llu: %s %s stopped reading %s for %.1f ms%s (%s)",
			       t, (unsigned long long)ev->stream, ev->side, r, s,
			       ev->duration_ms,
			       ev->open ? ", still stalled at the end of the capture" : "",
			       ev->ended_by);
	if (ev->wire) {
		rc |= jm_buf_printf(o, "; wire: frames %llu-", (unsigned long long)ev->start_frame);
		rc |= ev->end_frame ? jm_buf_printf(o, "%llu", (unsigned long long)ev->end_frame)
				    : jm_buf_printf(o, "end");
		rc |= jm_buf_printf(o, ", %llu zero windows, %llu window full, "
				       "%llu zero-window probes (%llu acked), max %llu bytes in flight",
				    (unsigned long long)ev->zero_windows,
				    (unsigned long long)ev->window_full, (unsigned long long)ev->probes,
				    (unsigned long long)ev->probe_acks,
				    (unsigned long long)ev->max_inflight);
		if (ev->have_estimate)
			rc |= jm_buf_printf(o, ", Recv-Q ~%llu (estimate)",
					    (unsigned long long)ev->recvq_estimate);
		else
			rc |= jm_buf_printf(o, ", window scale unknown");
	}
	if (ev->kernel) {
		rc |= jm_buf_printf(o, "; kernel:");
		if (ev->recvq.have)
			rc |= jm_buf_printf(o, " Recv-Q %u/%u/%u", ev->recvq.start, ev->recvq.peak,
					    ev->recvq.end);
		if (ev->sendq.have)
			rc |= jm_buf_printf(o, " Send-Q %u/%u/%u", ev->sendq.start, ev->sendq.peak,
					    ev->sendq.end);
		rc |= jm_buf_printf(o, " (start/peak/end), rwnd_limited %llu ms",
				    (unsigned long long)ev->rwnd_limited_ms);
		if (ev->receiver_proc.pid)
			rc |= jm_buf_printf(o, ", %s process %s[%d]", ev->side, ev->receiver_proc.comm,
					    (int)ev->receiver_proc.pid);
	}
	return rc;
}

/* ---------------------------------------------------------------- plot */

static struct flow_series *plot_pick(stall_tracker *t)
{
	struct flow_series *best = t->keep;
	if (!t->ft)
		return best;
	for (flow *f = flow_table_oldest(t->ft); f; f = flow_newer(f)) {
		struct st_flow *fs = st_of(t, f);
		if (!fs->init || !fs->ser)
			continue;
		if (t->cfg.plot_stream >= 0 ? (uint64_t)t->cfg.plot_stream == fs->ser->stream
					    : score_of(fs->ser) > score_of(best))
			best = fs->ser;
	}
	return best;
}

static int split(const struct series *s, int which, double **tv, double **vv)
{
	*tv = malloc((s->n ? s->n : 1) * sizeof **tv);
	*vv = malloc((s->n ? s->n : 1) * sizeof **vv);
	if (!*tv || !*vv)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		(*tv)[i] = s->pts[i].ts;
		(*vv)[i] = which ? s->pts[i].b : s->pts[i].a;
	}
	return 0;
}

/* The words of the plot of direction d, whose receiver is `rname` and
 * sender `sname`, with ns stalls shown. */
struct plot_words {
	char n0[96], n1[96], n2[96], n3[96];   /* the series' names */
	char title[200], sub[200], note[200], p0[96], p1[96];
};

static void plot_words(struct plot_words *w, const struct flow_series *s, an_dir d, size_t ns,
		       bool kernel)
{
	const char *rname = d == AN_C2S ? "server" : "client";
	const char *sname = d == AN_C2S ? "client" : "server";
	snprintf(w->n0, sizeof w->n0, "window advertised by the %s (wire)", rname);
	snprintf(w->n1, sizeof w->n1, "bytes in flight from the %s (wire)", sname);
	snprintf(w->n2, sizeof w->n2, "Recv-Q of the %s socket (kernel)", rname);
	snprintf(w->n3, sizeof w->n3, "Send-Q of the %s socket (kernel)", sname);
	char a[64], b[64];
	/* Recv-Q sits with the window it eats into; Send-Q, often MiB
	 * against KiB, gets its own scale below. */
	snprintf(w->p0, sizeof w->p0, "the %s's receive side", rname);
	snprintf(w->p1, sizeof w->p1, "the %s's send side", sname);
	flow_ep_format(&s->ep[d], a, sizeof a);
	flow_ep_format(&s->ep[!d], b, sizeof b);
	snprintf(w->title, sizeof w->title, "jmsg stream %llu: %s \xe2\x86\x92 %s",
		 (unsigned long long)s->stream, a, b);
	if (ns)
		snprintf(w->sub, sizeof w->sub, "%zu stall%s: the %s stopped reading (longest %.0f ms)",
			 ns, ns == 1 ? "" : "s", rname, s->worst_ms);
	else
		snprintf(w->sub, sizeof w->sub, "no stall in this direction");
	snprintf(w->note, sizeof w->note, "%s", kernel ? "shaded: stall intervals"
		 : "shaded: stall intervals; no kernel samples (offline capture, or sockets of another host)");
}

static int write_svg_file(const char *path, const plot_spec *p, char *err, size_t errlen)
{
	int rc = -1;
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	if (plot_write_svg(f, p) < 0 || ferror(f))
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
	else
		rc = 0;
	if (fclose(f) && !rc) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

int stall_plot(stall_tracker *t, const char *path, char *err, size_t errlen)
{
	struct flow_series *s = plot_pick(t);
	if (!s) {
		if (t->cfg.plot_stream >= 0)
			snprintf(err, errlen, "no stream %lld in the capture to plot",
				 (long long)t->cfg.plot_stream);
		else
			snprintf(err, errlen, "no stream in the capture to plot");
		return -1;
	}
	an_dir d = s->worst_ms >= 0 ? s->worst_dir : AN_C2S;
	double *tv[4] = {0}, *vv[4] = {0};
	int rc = -1;
	if (split(&s->w[d], 0, &tv[0], &vv[0]) || split(&s->w[d], 1, &tv[1], &vv[1]) ||
	    split(&s->k[d], 0, &tv[2], &vv[2]) || split(&s->k[d], 1, &tv[3], &vv[3])) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	plot_span spans[MAX_SPANS];
	size_t ns = 0;
	for (size_t i = 0; i < s->n_spans; i++)
		if (s->span_dir[i] == d) {
			spans[ns] = s->spans[i];
			spans[ns].label = "stall";
			ns++;
		}
	bool kernel = s->k[d].n > 0;
	struct plot_words w;
	plot_words(&w, s, d, ns, kernel);
	plot_series ser[4] = {
		{w.n0, "#1f77b4", 0, tv[0], vv[0], s->w[d].n, 2.0},
		{w.n1, "#ff7f0e", 0, tv[1], vv[1], s->w[d].n, 1.5},
		{w.n2, "#2ca02c", 0, tv[2], vv[2], s->k[d].n, 2.0},
		{w.n3, "#d62728", 1, tv[3], vv[3], s->k[d].n, 1.5},
	};
	plot_spec p = {
		.title = w.title, .subtitle = w.sub,
		.panel_title = {w.p0, kernel ? w.p1 : NULL},
		.note = w.note, .t0 = s->first_ts, .t_min = s->first_ts,
		.t_max = s->last_ts > s->first_ts ? s->last_ts : s->first_ts + 1,
		.series = ser, .n_series = kernel ? 4 : 2, .spans = spans, .n_spans = ns,
	};
	for (size_t i = 0; i < ns; i++)
		if (spans[i].t1 > p.t_max)
			p.t_max = spans[i].t1;
	rc = write_svg_file(path, &p, err, errlen);
out:
	for (int i = 0; i < 4; i++) {
		free(tv[i]);
		free(vv[i]);
	}
	return rc;
}

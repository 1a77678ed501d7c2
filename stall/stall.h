/*
 * stall: Recv-Q / Send-Q stalls, seen from the wire and from the kernel.
 *
 * A stall is an application that stopped reading: its socket's receive
 * queue fills, its TCP advertises a shrinking and then a zero window, and
 * the peer's unsent data piles up in the peer's send queue.
 *
 * Wire view (live and offline).  Per direction of every stream, what
 * Wireshark's TCP analysis tracks:
 *   - the window scale from the SYNs: known when both SYNs were seen (0 if
 *     either lacked the option), unknown when the stream was picked up
 *     midstream; then only zero windows are judged, never "window full";
 *   - the receiver's advertised window (scaled) and its right edge;
 *   - bytes in flight: the sender's highest sequence sent minus the
 *     receiver's latest acknowledgement;
 *   - zero windows, window full (the sender reached the right edge),
 *     window updates, and zero-window probes with their acks.  Probes are
 *     either one byte at the acknowledged point (RFC 9293, Wireshark's
 *     definition) or, as Linux sends them, an empty segment one byte
 *     behind it (Wireshark shows those as keep-alives).  Linux answers
 *     out-of-window segments at most twice a second, so probes and acks
 *     are counted separately.
 * The condition "the receiver advertises a zero window, or the sender's
 * bytes in flight fill the window" is evaluated after every segment; an
 * interval where it holds, while the sender shows it has data (it filled
 * the window, probed, or had bytes in flight), for at least stall_ms is a
 * stall.  Its start and end are the capture times of the segments that
 * made the condition true and false.  Checksums are never looked at.
 *
 * Kernel view (live, this host's sockets).  Batches from sockdiag.h are
 * matched to streams by their endpoints.  The receiver's socket stalls
 * when its Recv-Q stays above zero and nothing was read between two
 * samples (tcpi_bytes_received grew by exactly the growth of Recv-Q); the
 * sender's socket stalls when its Send-Q is above zero while the peer
 * advertises a zero window (tcpi_snd_wnd == 0, or tcpi_rwnd_limited
 * growing on kernels without tcpi_snd_wnd).
 *
 * Both views of one direction of one stream are one episode: it begins
 * when either view sees the condition and ends when neither does, and is
 * reported once, with the wire figures, the kernel figures, or both.
 *
 * Memory: the per-stream state lives in the flow record (flow.h
 * extension).  Time series for the plot are kept only when asked, at most
 * STALL_SERIES_POINTS per series (older points are thinned out, not
 * dropped) and for at most STALL_SERIES_STREAMS streams at a time.
 */
#ifndef JM_STALL_STALL_H
#define JM_STALL_STALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcp/capture.h"
#include "tcp/flow.h"
#include "stall/sockdiag.h"
#include "tcp/stream.h"
#include "tcp/timefmt.h"

#define STALL_DEFAULT_MS 200.0
#define STALL_DEFAULT_SAMPLE_MS 100.0
#define STALL_SERIES_POINTS 2048
#define STALL_SERIES_STREAMS 256
/* Up to this many streams, the kernel view looks their sockets up one by
 * one (cheap); beyond, it lists the ports' sockets (a walk of the kernel's
 * whole table each sample). */
#define STALL_SAMPLE_TARGETS 256

typedef struct stall_config {
	double stall_ms;          /* shortest stall reported; 0: STALL_DEFAULT_MS */
	bool series;              /* keep time series for stall_plot() */
	int64_t plot_stream;      /* stream to keep for the plot; -1: the worst */
} stall_config;

/* A queue's figures over a stall, from the kernel. */
typedef struct stall_fig {
	bool have;
	uint32_t start, peak, end;
} stall_fig;

typedef struct stall_event {
	uint64_t stream;
	an_dir dir;               /* direction of the data that could not flow */
	const char *side;         /* the receiver that stopped reading: "server" or "client" */
	flow_ep receiver, sender;
	double start, end;        /* union of both views */
	double t0;                /* time of the tracker's first segment */
	uint64_t frame, frame_last; /* wire view: its first frame, and its
	                             end's or (open) the stream's latest;
	                             0: the kernel view alone saw it */
	double duration_ms;
	bool open;                /* still stalled when the capture ended */
	const char *ended_by;     /* window_opened, drained, closed, reset, expired, capture_end */

	bool wire;                /* the wire view saw it */
	double wire_start, wire_end;
	uint64_t start_frame, end_frame; /* end_frame 0: open */
	double zw_start, zw_end;  /* first zero window, and the segment that
	                             reopened it (frames 0: none / not reopened) */
	uint64_t zw_start_frame, zw_end_frame;
	int wscale;               /* receiver's window scale; -1 unknown */
	uint64_t zero_windows;    /* zero-window segments from the receiver */
	uint64_t window_full;     /* segments that filled the receiver's window */
	uint64_t window_updates;
	uint64_t probes, probe_acks;
	uint64_t max_inflight;
	bool have_estimate;       /* recvq_estimate is meaningful (scale known) */
	uint64_t recvq_estimate;  /* largest window shrinkage: an estimate */

	bool kernel;              /* the kernel view saw it */
	double kernel_start, kernel_end;
	uint32_t samples;
	stall_fig recvq;          /* receiver's socket */
	stall_fig sendq;          /* sender's socket */
	stall_fig notsent;        /* sender's tcpi_notsent_bytes */
	stall_fig unacked;        /* sender's tcpi_unacked (segments) */
	bool have_snd_wnd, have_rcv_wnd;
	uint32_t snd_wnd;         /* sender's tcpi_snd_wnd, last sample: the
	                             peer's window as the sender sees it */
	uint32_t rcv_wnd;         /* receiver's tcpi_rcv_wnd, last sample */
	uint64_t rwnd_limited_ms; /* sender's tcpi_rwnd_limited growth */
	sockdiag_proc receiver_proc, sender_proc;
} stall_event;

typedef void (*stall_event_fn)(void *user, const stall_event *ev);
/* One-off notes (a midstream stream's unknown window scale, sockets out
 * of reach): one line, no newline. */
typedef void (*stall_note_fn)(void *user, uint64_t stream, double ts, const char *note);

typedef struct stall_tracker stall_tracker;

stall_tracker *stall_new(const stall_config *c, stall_event_fn on_event, stall_note_fn on_note,
			 void *user);
void stall_free(stall_tracker *t);

/* Register the per-stream state; before the first segment.  -1 on error. */
int stall_attach(stall_tracker *t, an_engine *e);
/* The same for a bare flow table (tests). */
int stall_attach_table(stall_tracker *t, flow_table *ft);

/* The kernel view: batches are drained from `s` up to each segment's time
 * (and by stall_poll), so both views advance in time order.  NULL: off. */
void stall_use_sampler(stall_tracker *t, sockdiag_sampler *s);

/* Every TCP segment of a tracked stream, with its flow and direction (the
 * an_sink.segment hook). */
void stall_segment(stall_tracker *t, flow *f, an_dir dir, const cap_segment *seg);
/* One batch of socket samples (stall_poll feeds these from the sampler). */
void stall_kernel(stall_tracker *t, const sockdiag_batch *b);
/* Drain sampler batches taken up to `now` (live: call when idle). */
void stall_poll(stall_tracker *t, double now);
/* End of capture at time `ts`: drain the sampler and report every stall
 * still open as open.  Call before an_engine_finish(). */
void stall_flush(stall_tracker *t, double ts);

typedef struct stall_stats {
	uint64_t stalls, wire_only, kernel_only, both;
	uint64_t streams_unknown_scale;
	uint64_t batches;
} stall_stats;
void stall_get_stats(const stall_tracker *t, stall_stats *st);

/* One JSON object (no newline) / one text line (no newline) for ev. */
int stall_event_json(jm_buf *out, const stall_event *ev);
/* The text line's time is the clock's (timefmt.h). */
int stall_event_text(jm_buf *out, const stall_event *ev, tf_clock *clock);

/* Write the SVG plot of one stream (config plot_stream, or the stream with
 * the longest stall).  Returns 0, or -1 with err set (no series kept, no
 * stream to show, cannot write the file). */
int stall_plot(stall_tracker *t, const char *path, char *err, size_t errlen);

/* ---------------------------------------------------------------- jmsg analyze
 *
 * The glue between `jmsg analyze` and this module (stall_main.c), so the
 * command needs one call per option, segment, packet and at the end:
 *
 *   stall_cli_init(&sc);
 *   ... stall_cli_option(&sc, name, optarg, err, n) for each STALL_CLI_OPTIONS
 *   stall_cli_start(&sc, engine, live, &cfg, json, stdout, err, n);
 *   an_sink.segment -> stall_cli_segment(); each packet -> stall_cli_tick()
 *   stall_cli_flush(&sc); an_engine_finish(e); stall_cli_finish(&sc, ...);
 *   stall_cli_free(&sc);
 */
typedef struct stall_cli {
	stall_config cfg;
	double sample_ms;
	const char *plot_path;
	bool no_kernel;
	bool json;
	bool live;
	FILE *out;
	stall_tracker *t;
	sockdiag_sampler *sampler;
	double last_ts;
	tf_clock *clock;          /* text lines' times, shared with the report */
	jm_buf line;
} stall_cli;

/* Long option names handled by stall_cli_option(), all with an argument
 * except "no-kernel". */
#define STALL_CLI_OPTIONS "stall-ms", "sample-ms", "plot", "plot-stream", "no-kernel"

void stall_cli_init(stall_cli *c);
/* The options' lines for --help. */
const char *stall_cli_usage(void);
/* 0, or -1 with one line in err (a bad value). */
int stall_cli_option(stall_cli *c, const char *name, const char *arg, char *err, size_t errlen);
/* Attach to the engine; live captures also start the kernel sampler (if
 * it cannot start, a one-line warning goes to stderr and the wire view
 * goes on).  -1 with err set on no memory. */
int stall_cli_start(stall_cli *c, an_engine *e, bool live, const an_config *cfg, bool json,
		    FILE *out, tf_clock *clock, char *err, size_t errlen);
void stall_cli_segment(stall_cli *c, flow *f, an_dir dir, const cap_segment *seg);
void stall_cli_tick(stall_cli *c, double ts);
/* Before an_engine_finish(): stalls still open are reported as open. */
void stall_cli_flush(stall_cli *c);
/* After an_engine_finish(): stops sampling, writes --plot.  -1 with err
 * set if the plot could not be written. */
int stall_cli_finish(stall_cli *c, char *err, size_t errlen);
void stall_cli_free(stall_cli *c);

#endif

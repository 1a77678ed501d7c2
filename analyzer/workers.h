/*
 * workers: `jmsg analyze --workers N`, one capture analyzed by N threads.
 *
 * The calling thread reads the capture (cap_run) and deals each TCP
 * segment to a worker chosen by a hash of its two endpoints that does not
 * depend on their order, so both directions of a stream meet in one
 * worker.  Segments travel through one bounded ring per worker (ring.h),
 * copied with their payload, or pointing into the file when it is mapped
 * (cap_options.map, cap_stable: analyze.c maps files for workers); when a
 * ring is full the reader waits (live, the kernel's capture ring holds the
 * packets meanwhile).  Each worker owns
 * an engine (stream.h), a stall tracker (stall.h, the wire view) and a
 * report (report.h) that writes into chunks tagged with the record being
 * processed; the reader merges the chunks back into capture order
 * (merge.h) and writes them, then the summary.
 *
 * The output is what one engine gives, byte for byte, but for the stream
 * numbers: worker w of N numbers its streams w, w + N, w + 2N...  To get
 * there:
 *   - the reader keeps the engine's clock as one engine would (the latest
 *     packet time, the latest tracked segment's time) and gives it with
 *     every record, so stream ends and problems carry the same times;
 *   - it runs the idle-expiry schedule of one engine (AN_EXPIRE_EVERY) and
 *     sends each expiry tick to every worker, as one record; so is the
 *     end of the capture.  Streams that end there are ordered across
 *     workers by their last activity, as one engine's activity list
 *     orders them;
 *   - text lines count time from the capture's first packet: the reader
 *     sets it before it sends its first record (--time delta, which counts
 *     from the line before in the merged output, needs one thread);
 *   - the merger replays stream begins and ends in merged order to count
 *     the streams open at once (the summary's peak_streams).
 * Segments on ports that are not tracked are counted by the reader and go
 * to no worker.
 *
 * What differs from one engine: --memcap and --max-streams are shared out
 * evenly (each worker gets 1/N of them), so once a limit is reached the
 * stream that gives way is the least recently active of its worker, not of
 * the capture; so is the table of recently closed four-tuples (tcp/conn.c's
 * CLOSED_SLOTS), whose collisions differ.  One engine's expiry stops at the
 * first stream, oldest activity first, that is not idle yet; a worker does
 * not see the others' streams, so when capture times go backwards a stream
 * behind such a one can end at an earlier tick than with one engine.  The kernel view of stalls (live socket sampling) and
 * --plot need one tracker for all streams: analyze.c refuses --plot and
 * --plot-stream with workers and turns the kernel view off.  Live, output
 * lags the packets by up to one block timeout (CAP_BLOCK_TIMEOUT_MS).
 */
#ifndef JM_ANALYZER_WORKERS_H
#define JM_ANALYZER_WORKERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stall/stall.h"
#include "tcp/capture.h"
#include "tcp/flow.h"
#include "tcp/stream.h"
#include "tcp/timefmt.h"

#define WK_MAX 64

typedef struct wk_options {
	unsigned workers;          /* 2..WK_MAX */
	const an_config *cfg;      /* one engine's; the limits are shared out */
	const stall_config *stall; /* stall_ms; series and plots are not kept */
	bool json, quiet;
	bool live;
	uint64_t count;            /* stop after this many packets; 0: no limit */
	tf_mode time;              /* text times; not TF_DELTA */
	int fail_on;               /* analyze.h's AN_FAIL_* */
	FILE *out;
	bool color;                /* report.color */
	bool linebuf;              /* -l: reading a pipe, every packet's lines
				    * go out before the next is read */
} wk_options;

/* Analyze src to its end, cap_break() or o->count packets, writing every
 * event and then the summary to o->out.  Returns 0, or 1 when the capture
 * held what o->fail_on names; -1 with err set when reading failed (the
 * summary was written); -2 with err set when the workers could not start
 * (nothing was written). */
int wk_run(cap_source *src, const wk_options *o, char *err, size_t errlen);

/* The worker (0..n-1) for a segment between endpoints a and b; the same
 * with a and b swapped. */
unsigned wk_pick(const flow_ep *a, const flow_ep *b, unsigned n);

#endif

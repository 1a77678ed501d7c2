/*
 * report: the analyzer's output, as text lines (tshark-like) or JSON lines.
 *
 * report_sink() fills an an_sink (stream.h) whose callbacks write to the
 * report's FILE, each event line with one fwrite (outbuf.h), so other
 * writers to the same FILE (stall events) interleave by whole lines.  JSON lines carry one object per event:
 *
 *   {"event":"message", "ts" (first byte), "stream", "client", "server",
 *    "community_id", "frame", "frame_last" (see an_message), "dir",
 *    "offset", "index" (n-th message of its direction), "header_len",
 *    "header":{...as sent...}, "content_type", "content_encoding",
 *    "content_length", "content":<JSON> | "content_hex":"..." (+
 *    "content_hex_truncated":true past --max-hex), "content_error"? (a
 *    content error: the content is shown as hex, and an error event
 *    follows), "warning"?, "ts_last" (last byte), "latency_ms"? (a
 *    response paired with its request)}
 *   {"event":"error", "ts", "stream", "client", "server", "community_id",
 *    "frame", "frame_last", "dir", "offset", "kind", "severity", "detail",
 *    "bytes"?, and for an error of a message's header: "msg_offset",
 *    "protoheader", "header_text" (valid UTF-8) | "header_hex", each cut
 *    to --max-hex bytes (+ "header_truncated":true)}
 *   {"event":"stream", "ts", "stream", "client", "server", "community_id",
 *    "phase":"begin"|"end", "state", "midstream", "requests", "responses",
 *    "bytes_c2s", "bytes_s2c", "gap_bytes"}
 *   {"event":"summary", "packets", "bytes", "tcp_segments",
 *    "segments_tracked", "streams", "peak_streams", "messages", "requests",
 *    "responses", "problems", "by_kind":{id: count}, and live
 *    "kernel_received", "kernel_dropped", "if_dropped"}  last
 *   {"event":"capture_drops", "ts" (wall clock), "kernel_received",
 *    "kernel_dropped", "if_dropped"}  live, as soon as the kernel's drop
 *    counters grow; the counts are totals since the capture started
 *
 * Text lines in colour (report.color, --color): the direction (request
 * cyan, response green), problems by severity (error red, warning
 * yellow, note bold), a message's warning, the summary's problems.
 *
 * Times are seconds since the epoch, with microseconds, or nanoseconds when
 * the capture has them.  Text lines show the time as the report's clock
 * says (timefmt.h: by default seconds since the capture's first packet),
 * then the stream, its endpoints, the direction and the frames ("#F", or
 * "#F-L" when the event spans several).
 *
 * The header is written as its raw bytes (valid JSON: the codec checked
 * it), and JSON content likewise; raw line breaks, which JSON allows as
 * whitespace, are squeezed out so every event stays on one line.
 */
#ifndef JM_ANALYZER_REPORT_H
#define JM_ANALYZER_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "tcp/capture.h"
#include "analyzer/outbuf.h"
#include "tcp/stream.h"
#include "tcp/timefmt.h"

#define REPORT_TEXT_CONTENT 256   /* content bytes shown on a text line */

typedef struct report {
	bool json;
	bool quiet;               /* problems and the summary only */
	bool color;               /* text: ANSI colours (set after report_init;
				   * JSON is never coloured) */
	tf_clock *clock;          /* text times (shared with stall lines) */
	size_t max_hex;           /* header bytes shown in an error */
	ob_writer ob;               /* each event line goes to the FILE whole */
} report;

/* clock: the text time column's (timefmt.h), shared with every other
 * writer of the same lines; max_hex: an_config.max_hex. */
void report_init(report *r, FILE *out, bool json, bool quiet, tf_clock *clock, size_t max_hex);
void report_free(report *r);
void report_sink(report *r, an_sink *sink);
void report_summary(report *r, const cap_stats *cs, const an_stats *as);
/* Live: the kernel has dropped packets since the last call (cap_on_drops).
 * Shown with -q too: it explains the gaps that follow. */
void report_capture_drops(report *r, int64_t now_ns, const cap_stats *cs);

#endif

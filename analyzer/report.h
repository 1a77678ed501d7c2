/*
 * report: the analyzer's output, as text lines (tshark-like) or JSON lines.
 *
 * report_sink() fills an an_sink (stream.h) whose callbacks write to the
 * report's FILE, each event line with one fwrite (outbuf.h), so other
 * writers to the same FILE (stall events) interleave by whole lines.  JSON lines carry one object per event:
 *
 *   {"event":"message", "ts" (first byte), "stream", "client", "server",
 *    "dir", "offset", "index" (n-th message of its direction), "header_len",
 *    "header":{...as sent...}, "content_type", "content_encoding",
 *    "content_length", "content":<JSON> | "content_hex":"..." (+
 *    "content_hex_truncated":true past --max-hex), "warning"?, "ts_last"
 *    (last byte), "latency_ms"? (a response paired with its request)}
 *   {"event":"error", "ts", "stream", "client", "server", "dir", "offset",
 *    "kind", "severity", "detail", "bytes"?}
 *   {"event":"stream", "phase":"begin"|"end", "stream", "client", "server",
 *    "state", "ts", "midstream", "requests", "responses", "bytes_c2s",
 *    "bytes_s2c", "gap_bytes"}
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
 * the capture has them.  Text lines show seconds since the first event.
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

#define REPORT_TEXT_CONTENT 256   /* content bytes shown on a text line */

typedef struct report {
	bool json;
	bool quiet;               /* problems and the summary only */
	bool color;               /* text: ANSI colours (set after report_init;
				   * JSON is never coloured) */
	bool have_t0;
	int64_t t0;               /* text times are relative to the first event (ns) */
	ob_writer ob;               /* each event line goes to the FILE whole */
} report;

void report_init(report *r, FILE *out, bool json, bool quiet);
void report_free(report *r);
void report_sink(report *r, an_sink *sink);
void report_summary(report *r, const cap_stats *cs, const an_stats *as);
/* Live: the kernel has dropped packets since the last call (cap_on_drops).
 * Shown with -q too: it explains the gaps that follow. */
void report_capture_drops(report *r, int64_t now_ns, const cap_stats *cs);

#endif

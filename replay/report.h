/*
 * report: what a replay found, for people (one line per differing
 * response, a summary) or for programs (--json: the same as JSON lines).
 *
 * It receives the engine's events, compares each live response with the
 * captured one (diff.h), and prints each stream's lines once the stream is
 * over, in stream order whatever order the streams finish in, so two runs
 * of the same replay print the same lines.  Only finished streams wait in
 * memory for an earlier one, at most about --concurrency of them.
 *
 * Lines (text):
 *   stream S response I: PATH: CAPTURED -> LIVE; PATH: ...
 *   stream S response I: missing: WHY
 *   stream S response I: extra response, not in the capture: SUMMARY
 *   stream S response I: malformed: ERROR-ID: DETAIL
 *   stream S: cannot connect to HOST:PORT: REASON
 *   stream S: incomplete capture: WHAT (replayed as far as it is known)
 *   stream S: not replayed: WHY
 *   replay: N streams, ... (the summary, last)
 * With --verbose, identical responses get a line too.
 */
#ifndef JM_REPLAY_REPORT_H
#define JM_REPLAY_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd/exit.h"
#include "replay/conv.h"
#include "replay/diff.h"
#include "replay/engine.h"

typedef struct rp_counts {
	uint64_t streams;         /* replayed (connected or tried) */
	uint64_t skipped;         /* selected but with no request to send */
	uint64_t incomplete;      /* replayed only as far as the capture goes */
	uint64_t requests;        /* sent completely */
	uint64_t responses;       /* live responses compared with captured ones */
	uint64_t identical, different, missing, extra, unchecked;
	uint64_t errors;          /* connection errors and malformed responses */
	uint64_t connect_errors;
} rp_counts;

typedef struct rp_report rp_report;

rp_report *rp_report_new(const rp_capture *c, const rp_ignore *ign, FILE *out, bool json,
			 bool verbose, const char *target, uint64_t timeout_ms);
void rp_report_free(rp_report *r);

/* Engine callbacks; pass rp_report_events(r) to rp_engine_run(). */
rp_events rp_report_events(rp_report *r);

/* Print what is left, then the summary line; returns the exit code
 * (JM_EXIT_REPLAY_FAILED when `interrupted`). */
int rp_report_finish(rp_report *r, double seconds, bool interrupted);
void rp_report_counts(const rp_report *r, rp_counts *out);

#endif

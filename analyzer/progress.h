/*
 * progress: while jmsg analyze reads files, one line on stderr (a
 * terminal), redrawn in place: how much of the files is read, the packets
 * and the packets per second of the last moments.
 *
 *   jmsg analyze: 42% of 3 files, 1234567 packets, 812345 packets/s
 *
 * Without a known size (a pipe) the percentage is left out.  The line
 * appears once reading has taken PROGRESS_AFTER_MS (a small file shows
 * nothing), is redrawn at most every CAP_PROGRESS_MS, and is erased by
 * progress_stop(), before anything else goes to stderr.
 *
 * When stdout is the same terminal, the event lines must not land on the
 * progress line: progress_out() gives a FILE for stdout that erases the
 * line before each write, and the line is drawn only after a whole line
 * went out.  Everything runs on the thread that reads the capture (with
 * workers, the reader also writes stdout), so no lock is needed.
 */
#ifndef JM_ANALYZER_PROGRESS_H
#define JM_ANALYZER_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tcp/capture.h"

#define PROGRESS_AFTER_MS 500

typedef struct progress {
	cap_source *src;
	FILE *term;               /* stderr */
	int64_t start_ms, last_ms;
	uint64_t last_packets;
	double rate;              /* packets per second, lately */
	bool shown;               /* the line is on the terminal */
	bool line_start;          /* stdout's last byte was a newline */
	FILE *out;                /* progress_out()'s FILE, or NULL */
} progress;

/* Start showing src's progress on term (a terminal). */
void progress_start(progress *p, cap_source *src, FILE *term);
/* A FILE to write stdout's lines through (stdout itself when it is not a
 * terminal, or when memory ran out); closed by progress_free(). */
FILE *progress_out(progress *p);
/* Erase the line and draw no more (reading is over; what is written to
 * stderr next starts on a clean line). */
void progress_stop(progress *p);
/* progress_out()'s FILE flushed and closed. */
void progress_free(progress *p);
/* The line for what cap_get_progress() says, rate packets/s, into buf. */
void progress_format(const cap_progress *cp, double rate, char *buf, size_t n);

#endif

/*
 * engine: replay's network side.  One event loop (io/evloop.h), one
 * non-blocking connection per replayed stream, at most `concurrency` open
 * at once.  Before each sleep the engine plans: it starts the streams and
 * sends the requests sched.h says are due, and sets the loop's wake-up for
 * the next of them (or of the timeouts below).
 *
 * For each stream it connects to the target (IPv4 or IPv6), sends the
 * stream's requests when sched.h says they are due, and reads the
 * target's responses through a jm_decoder as they come, whatever is being
 * sent, so a target that answers while we still write never deadlocks
 * against us.  Writes stop at EAGAIN and resume when the socket is
 * writable again: the target's own flow control paces a replay that runs
 * ahead of it.
 *
 * When every request is sent and as many responses as requests have
 * come, the engine half-closes (as a client that is done) and waits
 * RP_LINGER_MS for the target to close, reporting anything more it sends
 * as extra responses.  That wait is fixed from its start, and a stream
 * ends after RP_MAX_EXTRA extra responses: a target that keeps talking
 * can neither keep a replay running nor fill its memory with reports.  A connection with no progress (no byte sent or
 * received) for `timeout_ms` while it waits for the target ends with the
 * remaining responses missing.  One connection's failure ends only that
 * stream; a refused first connection ends the replay, since the target is
 * plainly not there.
 *
 * The engine compares nothing: it hands each live response to the caller
 * (report.h does the comparing and printing).
 */
#ifndef JM_REPLAY_ENGINE_H
#define JM_REPLAY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "jmsg.h"
#include "replay/conv.h"
#include "replay/sched.h"

#define RP_DEFAULT_CONCURRENCY 32
#define RP_DEFAULT_TIMEOUT_MS 10000
/* How long a finished connection waits for the target to close. */
#define RP_LINGER_MS 1000
/* Extra responses (beyond the requests sent) reported per stream before
 * the engine stops listening to it. */
#define RP_MAX_EXTRA 16

typedef struct rp_engine_config {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *target;        /* HOST:PORT, for messages */
	rp_pace pace;
	unsigned concurrency;
	uint64_t timeout_ms;
	uint64_t max_content;      /* largest live response content */
} rp_engine_config;

typedef enum rp_end {
	RP_END_DONE,               /* every response came (the target may still
				      have closed early after that) */
	RP_END_CLOSED,             /* the target closed before answering all */
	RP_END_RESET,              /* connection reset or broken */
	RP_END_TIMEOUT,            /* no progress for timeout_ms */
	RP_END_MALFORMED,          /* a response broke the framing */
	RP_END_CONNECT,            /* could not connect */
	RP_END_INTERRUPTED,        /* rp_engine_interrupt() was called */
} rp_end;

typedef struct rp_stream_result {
	rp_end end;
	int sys_errno;             /* RESET, CONNECT: why */
	size_t sent;               /* requests written completely */
	size_t answered;           /* live responses, malformed ones included */
	uint64_t started_ns, ended_ns;
} rp_stream_result;

typedef struct rp_events {
	void *user;
	/* Live response number `index` of stream `s`; `live` is valid during
	 * the call only. */
	void (*response)(void *user, const rp_stream *s, size_t index, const rp_msg *live);
	/* Live response number `index` could not be decoded. */
	void (*bad_response)(void *user, const rp_stream *s, size_t index, jm_error e,
			     const char *detail);
	/* The stream's connection is over. */
	void (*done)(void *user, const rp_stream *s, const rp_stream_result *r);
} rp_events;

/* Replay every selected stream of `c` that has a request.  Returns 0, or
 * -1 with one line in err when the replay could not run at all (no
 * target, no event loop).  SIGINT and SIGTERM are blocked while it runs
 * except while the loop sleeps, so a handler that calls
 * rp_engine_interrupt() is seen at once; the mask is restored after. */
int rp_engine_run(const rp_capture *c, const rp_engine_config *cfg, const rp_events *ev,
		  char *err, size_t errlen);

/* Stop soon: open streams end as interrupted, no new one starts.  Safe
 * from a signal handler. */
void rp_engine_interrupt(void);
bool rp_engine_interrupted(void);
/* Streams the last run never started (after an interrupt or a fatal
 * error). */
size_t rp_engine_not_started(void);

const char *rp_end_name(rp_end e);

#endif

/*
 * conv: the conversations a capture holds, as replay needs them.
 *
 * A capture is read once, by the analyzer engine (tcp/stream.h: the
 * same reassembly and decoding as `jmsg analyze`), into one rp_stream per
 * TCP stream: the client's requests and the server's responses, in order,
 * each as the complete message bytes with its capture times.  What the
 * capture does not know is written down, not guessed:
 *
 *   - a direction is "cut" at its first capture problem (gap, snapshot
 *     truncation, conflicting overlap, memcap, resync) or codec error:
 *     messages after it are not kept, because their position in the
 *     conversation is no longer certain;
 *   - a stream picked up mid-way keeps only what follows its first whole
 *     request; responses to requests the capture never saw are dropped;
 *   - a message cut by the end of the capture is not kept.
 *
 * Each request also records how many captured responses had fully
 * arrived before the client began sending it (`after_responses`): that is
 * what lets a replay keep the capture's pipelining, waiting for exactly
 * the responses the original client waited for and no more.
 *
 * Memory is counted (message bytes plus records) and capped by the caller;
 * past the cap the load fails with a message, it never grows unbounded.
 */
#ifndef JM_REPLAY_CONV_H
#define JM_REPLAY_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jmsg.h"

/* One message: protoheader, JSON header and content, contiguous. */
typedef struct rp_msg {
	uint8_t *bytes;
	size_t len;
	uint16_t header_len;
	bool content_is_json;       /* decoded as JSON (text/json, utf-8) */
	double ts_first, ts_last;   /* capture times of its first and last byte */
	uint32_t after_responses;   /* requests: responses complete before it */
} rp_msg;

static inline const char *rp_msg_header(const rp_msg *m)
{
	return (const char *)m->bytes + JM_SPEC_PROTOHEADER_SIZE;
}
static inline const uint8_t *rp_msg_content(const rp_msg *m)
{
	return m->bytes + JM_SPEC_PROTOHEADER_SIZE + m->header_len;
}
static inline size_t rp_msg_content_len(const rp_msg *m)
{
	return m->len - JM_SPEC_PROTOHEADER_SIZE - m->header_len;
}

enum { RP_REQ = 0, RP_RESP = 1 };

/* Why a direction stops being known. */
typedef struct rp_cut {
	bool cut;
	bool is_codec;              /* codec error, else a capture problem */
	jm_error error;
	jm_problem prob;
	uint64_t offset;            /* stream offset in that direction */
	uint64_t kept;              /* messages kept before it */
} rp_cut;

typedef struct rp_stream {
	uint64_t id;                /* the analyzer's stream number */
	char client[64], server[64];
	double ts_begin;            /* first segment */
	bool midstream;
	bool reset;                 /* ended by a TCP reset in the capture */
	bool ended;                 /* closed in the capture (FIN or RST) */
	bool trailing_partial[2];   /* capture ended inside a message */
	rp_cut cut[2];
	size_t dropped_unpaired;    /* midstream: responses to unseen requests */
	rp_msg *msg[2];             /* RP_REQ, RP_RESP */
	size_t n[2], cap[2];
	bool selected;
} rp_stream;

typedef struct rp_capture {
	rp_stream *s;               /* in stream number order */
	size_t n, cap;
	size_t mem, memcap;         /* bytes held; 0: no cap */
	bool over_memcap;
	double t0;                  /* ts_begin of the first selected stream */
} rp_capture;

void rp_capture_init(rp_capture *c, size_t memcap);
void rp_capture_free(rp_capture *c);

/* Building (also used directly by tests): add a stream, then its
 * messages in capture order.  Return NULL / -1 when memory or the cap
 * ran out (c->over_memcap says which). */
rp_stream *rp_capture_add_stream(rp_capture *c, uint64_t id, double ts_begin);
rp_stream *rp_capture_find(rp_capture *c, uint64_t id);
int rp_stream_add(rp_capture *c, rp_stream *s, int dir, const void *bytes, size_t len,
		  uint16_t header_len, bool content_is_json, double ts_first, double ts_last);
/* Mark direction `dir` as known only up to here. */
void rp_stream_cut(rp_stream *s, int dir, bool is_codec, jm_error e, jm_problem p,
		   uint64_t offset);

/* After building: fill after_responses, pick t0 among selected streams. */
void rp_capture_finish(rp_capture *c);

/* How many requests a replay of `s` sends, and how many of their
 * responses the capture holds for comparison. */
size_t rp_stream_requests(const rp_stream *s);
size_t rp_stream_known_responses(const rp_stream *s);
/* True when the capture does not hold the whole conversation. */
bool rp_stream_incomplete(const rp_stream *s);
/* One line saying what is missing ("gap in the client's data at offset
 * 224: replaying 1 of its requests"), or "" if complete. */
void rp_stream_describe_cut(const rp_stream *s, char *buf, size_t len);

/* ---------------------------------------------------------------- loading */

/* A list of stream numbers and ranges: "0,3,5-9". */
typedef struct rp_select {
	struct { uint64_t lo, hi; } *r;
	size_t n;
} rp_select;

/* Parse LIST; -1 if malformed. */
int rp_select_parse(rp_select *sel, const char *list);
bool rp_select_has(const rp_select *sel, uint64_t id);  /* empty: all */
void rp_select_free(rp_select *sel);

typedef struct rp_load_config {
	const uint16_t *ports;      /* server ports; none: the spec's default */
	size_t n_ports;
	const rp_select *select;
	bool raw;                   /* keep requests as captured, else re-encode */
	uint64_t max_content;
	size_t memcap;
	bool no_heuristic;          /* only those ports (tcp/stream.h, other ports) */
	struct an_stats *stats;     /* if not NULL: the engine's (tcp/stream.h), after loading */
} rp_load_config;

/* Read a pcap/pcapng file into `c` (initialised here).  Returns 0, or -1
 * with one line (no program name) in err. */
int rp_load_pcap(rp_capture *c, const char *path, const rp_load_config *cfg, char *err,
		 size_t errlen);

/* Re-encode a request: its content-type, content-encoding and every
 * member other than the four required ones kept, byteorder and layout
 * those of this machine's encoder.  `header` is the raw JSON header. */
int rp_reencode(jm_buf *out, const jm_header *h, const void *content, size_t content_len);

#endif

/*
 * stream_int: what the files of the stream engine share, private to them
 * (the engine's interface is stream.h):
 *
 *   stream.c   the engine: segments in, reassembly and decoder callbacks,
 *              messages and problems out, memory, arrival times, stats
 *   conn.c     a connection's begin and end: the stream a segment belongs
 *              to, resets, and the four-tuples of streams that just ended
 *   hunt.c     the hunt for a message boundary after a gap, a decoder
 *              failure or a mid-stream pickup
 *   pair.c     which response answers which request
 *   probe.c    flows on other ports: held until their first data says
 *              whether they speak the protocol
 *   frame.c    another framing than jmsg (an_config.framing): each
 *              direction through a jmf_decoder (framing_codec.h)
 */
#ifndef JM_TCP_STREAM_INT_H
#define JM_TCP_STREAM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp/reasm.h"
#include "tcp/stream.h"

enum hunt_why { HUNT_MIDSTREAM, HUNT_GAP, HUNT_ERROR };

/* When bytes arrived: from stream offset `off` on, at capture time `ts`
 * (ns), in frame `frame`, until the next mark.  See "arrival times" in
 * stream.c. */
struct ts_mark {
	uint64_t off;
	int64_t ts;
	uint64_t frame;
};
#define MARKS_INLINE 2

struct an_stream;

/* Fields in the order a segment touches them: what every segment reads
 * first, the decoder (large, mostly cold) last, so a segment of a stream
 * that is not in cache costs as few cache misses as possible. */
struct an_half {
	struct an_stream *st;
	an_dir dir;
	bool seen;                /* any segment from this side */
	bool hunting;             /* looking for a message boundary */
	jm_error warn;
	uint64_t drop_left;       /* content bytes being dropped (memcap) */
	struct ts_mark *tm_heap;  /* arrival times: this ring, or tm_in if NULL */
	uint32_t tm_head, tm_len, tm_cap; /* tm_cap a power of two */
	struct ts_mark tm_in[MARKS_INLINE];
	int64_t msg_ts;           /* first byte of the current message (ns) */
	uint64_t msg_frame;       /* ... and the frame that brought it */
	uint64_t msg_off;         /* ... and its offset */
	const uint8_t *content;
	size_t content_len;
	size_t prefix_len;
	size_t reserved;          /* JSON content bytes counted against the caps */
	size_t hunt_held;         /* hunt buffer bytes counted against the caps */
	uint64_t index, bytes;
	reasm r;
	enum hunt_why why;
	uint64_t hunt_off;        /* stream offset of hunt's first pending byte */
	uint64_t skipped;         /* bytes passed over while hunting */
	uint64_t gap_bytes;
	jm_buf hunt;              /* bytes from the earliest possible boundary */
	jm_buf feed;              /* verified bytes being fed to the decoder */
	uint8_t *prefix;          /* first max_hex bytes of streamed content */
	/* Another framing (frame.c): its decoder, the bytes its buffer holds
	 * (counted against the caps), whether a cap refused it more, and
	 * when the partial message's first byte and the latest chunk came. */
	jmf_decoder *fdec;
	size_t fheld;
	bool fcapped;
	struct ts_mark fstart, flast;
	jm_decoder dec;
};

struct an_stream {
	an_engine *e;
	flow *f;
	bool client_is_lo;
	bool midstream;
	int64_t *rq;              /* first-byte times (ns) of unanswered requests */
	size_t rq_head, rq_len, rq_cap;
	uint64_t rq_forgot;       /* unanswered requests older than rq[], forgotten */
	bool rq_closed;           /* messages were lost: queue no more requests */
	uint64_t requests, responses;
	uint64_t last_frame;      /* of the stream's latest segment */
	char cid[COMMUNITY_ID_LEN]; /* its Community ID, or "" until asked */
	struct an_half h[2];
};

struct closed_slot;

/* The codec's header buffers and the content prefixes of ended streams are
 * kept for the next streams (most streams are short, and allocating them
 * for each one was a tenth of the time): at most SPARES of each, and only
 * decoder buffers of at most SPARE_MAX bytes and prefixes of at most
 * SPARE_PREFIX_MAX. */
#define SPARES 256
#define SPARE_MAX (16u << 10)
#define SPARE_PREFIX_MAX 4096

struct an_engine {
	an_config cfg;
	an_sink sinks[AN_MAX_SINKS];   /* the listeners, in the order added */
	int n_sinks;
	flow_table *ft;
	int ext;
	size_t ext_off;           /* flow_table_ext_offset(ft, ext) */
	reasm_mem mem;
	an_stats st;
	double now, last_expire;
	int64_t now_ns;
	uint64_t now_frame;       /* the segment being processed; 0 between */
	uint8_t portmap[65536 / 8];
	char detail[256];
	bool finishing;
	struct closed_slot *closed; /* CLOSED_SLOTS, allocated at the first close */
	flow_table *probes;       /* flows on other ports (probe.c), or NULL */
	size_t probe_off;
	uint64_t *port_bytes;     /* undecoded payload bytes by port, or NULL */
	uint16_t port_lo, port_hi; /* the ports port_bytes counts, lowest and highest */
	bool role_set;            /* the next stream's client, from probe.c */
	bool role_client_is_lo;
	jm_decoder_spare dec_spare[SPARES];
	size_t n_dec_spare;
	uint8_t *prefix_spare[SPARES];
	size_t n_prefix_spare;
};

static inline bool port_tracked(const an_engine *e, uint16_t p)
{
	return e->portmap[p >> 3] & (1u << (p & 7));
}

/* stream.c */
an_stream_id sid(const struct an_stream *s);
void problem(struct an_half *h, bool is_codec, int kind, uint64_t off, uint64_t bytes,
	     const char *detail);
/* The frame a stream's event happens in: the segment being processed, or
 * between segments (expiry, the end of the capture) the stream's last. */
static inline uint64_t frame_now(const an_engine *e, const struct an_stream *s)
{
	return e->now_frame ? e->now_frame : s->last_frame;
}
struct an_stream *stream_of(an_engine *e, flow *f);
void half_init(an_engine *e, struct an_stream *s, an_dir d);

void stream_segment(an_engine *e, const cap_segment *seg);

/* conn.c */
bool stream_closed_recently(an_engine *e, const flow_key *k, bool src_is_lo, uint32_t seq);
struct an_stream *segment_stream(an_engine *e, const flow_key *k, const cap_segment *seg,
				 bool src_is_lo);
void stream_reset(an_engine *e, struct an_stream *s, an_dir d, uint32_t seq);
void stream_end(an_engine *e, struct an_stream *s, an_state state);

/* hunt.c */
bool hunt_account(struct an_half *h, size_t want);
void hunt_begin(struct an_half *h, enum hunt_why why, uint64_t off);
bool hunt_bytes(struct an_half *h, uint64_t off, const uint8_t *p, size_t n);

/* probe.c */
void probe_segment(an_engine *e, const flow_key *k, const cap_segment *seg, bool src_is_lo);
void probe_expire(an_engine *e, double before);
void probe_finish(an_engine *e);

/* frame.c */
static inline bool framed(const an_engine *e)
{
	return e->cfg.framing.kind != JMF_JMSG;
}
bool frame_half_init(struct an_half *h);
void frame_half_free(struct an_half *h);
void frame_data(struct an_half *h, uint64_t off, const uint8_t *p, size_t n);
void frame_gap(struct an_half *h, uint64_t n);
void frame_finish(struct an_half *h);

/* pair.c */
void pairing_loss(struct an_half *h);
bool pairing_seen(struct an_half *h, int64_t first_ns, int64_t last_ns, double *latency_ms);

/* stream.c: a decoded message counted in its stream and the engine's
 * stats, then handed to every sink (jmsg's and the framings' alike). */
void message_emit(struct an_stream *s, an_dir d, const an_message *m);

#endif

/*
 * stream: the analyzer engine.  TCP segments in (from capture.h), decoded
 * conversations out, through the callbacks of an an_sink:
 *
 *   segment   every TCP segment of a tracked stream, with its flow and
 *             direction, before reassembly (the per-segment hook: stall
 *             analysis reads seq/ack/window/options from cap_segment).
 *             Segments that start no stream (a stray ACK, FIN or RST of
 *             an unknown 4-tuple) are not passed; on a port that is not
 *             configured, only once the flow is found to speak the
 *             protocol (the segments held until then first, in order).
 *   stream    a stream begins (phase "begin") or ends ("end": closed,
 *             reset, expired, or still open when the capture ended)
 *   message   one decoded message: header, content, timing, pairing
 *   problem   a codec error (jm_error) or a capture problem (jm_problem)
 *
 * Per stream and direction it runs reasm.h (reassembly) into a jm_decoder
 * (proto/jmsg.h).  After a gap, a decoder failure or a mid-stream pickup
 * it hunts for the next plausible message boundary: a protoheader whose
 * whole JSON header is present and valid, and resumes there (problem
 * "resync").  A message's ts_first is the capture time of the segment
 * that brought its first byte, however many segments the hunt held
 * before it could prove the message.
 *
 * Pairing.  Responses answer requests in order on each stream (pipelining
 * included); a paired response carries latency_ms, from its request's
 * first byte to its own last byte.  That order is known only while every
 * message of the stream since its SYN has been seen.  A message whose
 * boundaries are known counts in it even when it is not reported: one the
 * codec rejects but skips whole (a bad header field with a readable
 * content-length, content that is not JSON), or one whose content a
 * memory cap dropped.  Such a request is one the server may answer (it
 * answers it or closes; a server that passed over it silently and went on
 * would be paired one off), and such a response answers the oldest
 * request.  Once messages may have been lost in a direction (a gap,
 * framing lost to a codec error, bytes held while hunting for a boundary
 * dropped for a memory cap, or a direction picked up without its SYN,
 * whose earlier bytes the capture never saw) no later request is queued,
 * and after a loss in the server's direction the queued ones are
 * forgotten too: a response is paired only with a request queued before
 * any loss, and otherwise carries no latency rather than a wrong one.  So
 * nothing is paired on a stream picked up mid-stream.  At most 1024
 * unanswered requests are kept per stream: beyond that the oldest are
 * forgotten and counted, and as many responses, the oldest, which answer
 * them, carry no latency; every later one pairs with its own request.  How many requests
 * were still unanswered when the capture began cannot be told from TCP:
 * acknowledgment numbers and capture times can show that a response does
 * not answer a captured request (it was sent before the server had all of
 * it), never that it does.  A client that keeps requests in flight sends
 * the first captured one while the server still owes answers to requests
 * the capture missed, and the next answer, sent after the server got the
 * captured request (its ACK covers it), answers one of those.  (Wireshark's
 * generated dissector pairs in order from the first message it sees.)
 *
 * A stream ends with FINs from both sides, a reset (one whose sequence
 * number is near the sender's: a forged or stray one is passed over),
 * idle expiry or the end of the capture.  For 60 s of capture time after
 * FINs or a reset, segments of the same four-tuple with sequence numbers
 * near the old ones (retransmissions, data that was in flight) start no
 * new stream; a SYN, or data far from the old numbers, does.
 *
 * The side that sent the SYN is the client; a stream picked up without
 * its SYN takes the side using one of the configured ports as the server.
 *
 * Other ports.  A flow on none of the configured ports is decoded when
 * its first data speaks the protocol (unless no_heuristic): jm_sniff(),
 * the rule of the Wireshark dissector's heuristic, on the first bytes of
 * a direction (see probe.c).  Until one direction says yes or no, the
 * flow's segments are held as copies, at most AN_PROBE_HOLD payload bytes
 * per direction (a protoheader and the largest header), and the segment
 * that passes that, and
 * AN_PROBE_SEGMENTS segments, counted against memcap (and twice
 * stream_memcap a flow); past a limit the flow is not decoded.  Found,
 * the held segments go through the engine at their own capture times, as
 * if the port had been configured; picked up without a SYN, the server is
 * the side whose first message is a response (a JSON content with a
 * "result" key, as the tutorial's), else the one with the lower port.  A
 * flow that fails the test, or whose capture ends undecided, is not
 * decoded: only its payload bytes are counted (undecoded_streams,
 * undecoded_bytes and an_engines_busiest_ports()), on a bare record that
 * lives until the flow ends, as a stream would; at most max_streams of
 * them are kept too.
 *
 * Other framings (an_config.framing other than jmsg; framing.h; frame.c).
 * Each direction runs through a jmf_decoder instead: the same reassembly,
 * streams, resets and capture problems, and the decoder's messages and
 * errors.  Only the configured ports are decoded (no heuristic: any bytes
 * are a message of most framings).  A gap, or a direction picked up
 * without its SYN, goes to jmf_decoder_gap(): fixed and delimited (and
 * raw) resume where the framing allows ("resync" with the bytes passed
 * over), a length prefix and close stop with no_resync.  A direction's
 * end (FIN, reset, idle expiry, end of capture) is jmf_decoder_finish():
 * close and raw give their last message, the others a truncated_* error
 * if a message was cut short.  Nothing is paired: a message is a request
 * when the client sent it, a response otherwise, and carries no latency.
 * A message's ts and frame are those of the chunk its first byte came in;
 * ts_last and frame_last those of the segment that completed it: for
 * close its FIN, once every byte before it is in, as Wireshark shows it;
 * for raw, that of its last byte (its end is known only later, when the
 * other side sends or the direction ends).  The decoder's buffer counts against stream_memcap
 * and memcap: past a cap, a "memcap" problem and the direction is not
 * decoded further.
 *
 * Memory is bounded: held out-of-order bytes, buffered JSON contents and
 * bytes held while hunting for a boundary (with the capture time of each
 * segment among them) are counted per stream direction
 * (stream_memcap) and in total (memcap); when a cap would be passed the
 * data is dropped with a "memcap" problem.  (The codec's own header buffer,
 * at most 65535 bytes per direction, and the max_hex prefix are not
 * counted: both are bounded per direction.)  The number of
 * streams is capped too (max_streams): the least recently active is
 * expired to make room.
 *
 * To keep per-stream state of your own, call an_engine_add_ext() before
 * the first segment and find it with flow_ext() (flow.h).
 */
#ifndef JM_TCP_STREAM_H
#define JM_TCP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing_codec.h"
#include "jmsg.h"
#include "tcp/capture.h"
#include "tcp/community_id.h"
#include "tcp/flow.h"

#define AN_MAX_PORTS 64
/* Idle expiry runs at most this often (capture time, seconds): at the
 * first an_engine_tick() at least this long after the last one that ran. */
#define AN_EXPIRE_EVERY 1.0
/* Other ports (see above): held payload bytes per direction while
 * undecided, held segments a flow, and for a direction picked up without
 * its SYN, how many segment starts are tested. */
#define AN_PROBE_HOLD ((size_t)JM_SPEC_PROTOHEADER_SIZE + JM_SPEC_MAX_HEADER_LEN)
#define AN_PROBE_SEGMENTS 1024
#define AN_PROBE_TRIES 8
/* Ports the summary names for TCP that held no message, busiest first. */
#define AN_NOTE_PORTS 5

typedef enum an_dir { AN_C2S = 0, AN_S2C = 1 } an_dir;

typedef struct an_config {
	uint16_t ports[AN_MAX_PORTS];  /* server ports; none: JM_SPEC_DEFAULT_PORT */
	size_t n_ports;
	double idle_timeout;           /* seconds of capture time; 0: never */
	size_t memcap;                 /* bytes, all streams; 0: no cap */
	size_t stream_memcap;          /* bytes, one stream */
	size_t max_streams;            /* 0: no cap */
	uint64_t max_content;          /* decoder limit; 0: the spec's default */
	size_t max_hex;                /* non-JSON content bytes kept per message */
	bool full_content;             /* keep whole non-JSON contents (replay) */
	uint32_t overlap_history;      /* delivered bytes kept to check overlaps */
	bool no_heuristic;             /* only the configured ports are decoded */
	jmf_framing framing;           /* how messages are cut (framing.h):
				        * jmsg (the default) or another; see
				        * "Other framings" above */
} an_config;

void an_config_defaults(an_config *c);

/* What a stream is: ids and endpoints, as reports show them. */
typedef struct an_stream_id {
	uint64_t id;
	const flow_ep *client, *server;
	char *cid;                     /* an_community_id()'s, made when first asked */
} an_stream_id;

/* The stream's Community ID (community_id.h, "1:..."), computed the first
 * time it is asked for and kept with the stream. */
const char *an_community_id(const an_stream_id *s);

typedef struct an_message {
	an_stream_id s;
	an_dir dir;
	uint64_t index;                /* n-th message in this direction, from 0 */
	uint64_t offset;               /* of its first byte in its direction */
	double ts_first, ts_last;      /* capture times of first and last byte */
	int64_t ts_first_ns, ts_last_ns; /* the same, exact, in nanoseconds */
	uint64_t frame, frame_last;    /* the frames (cap_segment.frame) after
				        * which its first byte, and then its last,
				        * had arrived with every byte before them
				        * (the last: where Wireshark shows it) */
	uint16_t header_len;
	const jm_header *header;       /* raw bytes in header->raw */
	bool content_is_json;          /* content is validated JSON text */
	uint64_t content_length;
	const uint8_t *content;        /* whole if JSON or full_content, else a prefix */
	size_t content_kept;
	bool content_cut;              /* content_kept < content_length */
	jm_error warning;              /* JM_ERR_NONE or a warning-level codec error */
	jm_error content_error;        /* JM_ERR_NONE, or the content error
				        * (content_not_json, content_not_utf8) the
				        * problem event after this one reports:
				        * the content is then shown as bytes */
	bool has_latency;              /* a response paired with its request */
	double latency_ms;
	/* Another framing (an_config.framing not jmsg): framing is its name,
	 * header NULL, header_len 0; content_length is the payload's length
	 * (the framing removed), wire_length the message's bytes on the wire;
	 * content_is_text when the payload is valid UTF-8 (then content is
	 * all of it, else its first max_hex bytes). */
	const char *framing;           /* NULL: the jmsg protocol */
	uint64_t wire_length;
	bool content_is_text;
} an_message;

typedef struct an_problem {
	an_stream_id s;
	an_dir dir;
	double ts;
	int64_t ts_ns;
	uint64_t frame, frame_last;    /* codec errors: the frame of the bad
				        * message's first byte, and the frame it
				        * was found in; others: both the latter */
	uint64_t offset;
	bool is_codec;                 /* codec error (error) or capture problem (prob) */
	bool is_framing;               /* with is_codec: another framing's error, ferror */
	jm_framing_error ferror;
	jm_error error;
	jm_problem prob;
	uint64_t bytes;                /* gap, truncated_capture, memcap, resync: bytes */
	const char *detail;
	/* Codec errors of the header (header_*, content_length_*): where the
	 * message starts, its protoheader, and the header bytes that were
	 * read (at most header_len; header NULL when there are none). */
	bool has_header;
	uint64_t msg_offset;
	uint16_t protoheader;
	const uint8_t *header;
	size_t header_kept;
} an_problem;

typedef enum an_phase { AN_BEGIN, AN_END } an_phase;
typedef enum an_state { AN_OPEN, AN_CLOSED, AN_RESET, AN_EXPIRED } an_state;

typedef struct an_stream_info {
	an_stream_id s;
	an_phase phase;
	an_state state;
	double ts;
	int64_t ts_ns;
	bool midstream;
	uint64_t requests, responses;
	uint64_t bytes[2];             /* payload bytes delivered, per direction */
	uint64_t gaps[2];              /* bytes missing, per direction */
} an_stream_info;

typedef struct an_sink {
	void *user;
	void (*segment)(void *user, flow *f, an_dir dir, const cap_segment *seg);
	void (*stream)(void *user, const an_stream_info *si);
	void (*message)(void *user, const an_message *m);
	void (*problem)(void *user, const an_problem *p);
} an_sink;

typedef struct an_stats {
	uint64_t segments;             /* TCP segments of decoded streams */
	uint64_t skipped;              /* other TCP segments */
	uint64_t after_end;            /* late segments of a stream that ended
				        * with FINs or a reset, passed over */
	uint64_t bad_resets;           /* resets far from the sender's sequence
				        * numbers, not believed */
	uint64_t streams, peak_streams;
	uint64_t requests, responses;
	uint64_t problems[JM_PROB_COUNT];
	uint64_t errors[JM_ERR_COUNT];
	uint64_t ferrors[JM_FERR_COUNT]; /* another framing's errors */
	size_t mem_peak;               /* held and buffered bytes, peak */
	size_t table_mem;              /* flow table records and buckets */
	uint64_t undecoded_streams;    /* TCP flows with payload, not decoded */
	uint64_t undecoded_bytes;      /* their payload bytes */
	uint16_t undecoded_ports[AN_NOTE_PORTS]; /* their busiest server ports */
	size_t n_undecoded_ports;
	size_t undecoded_port_count;   /* how many ports in all */
	bool no_heuristic;             /* the config's: they were not tested */
	bool framed;                   /* another framing: only its ports decoded */
} an_stats;

typedef struct an_engine an_engine;

an_engine *an_engine_new(const an_config *cfg, const an_sink *sink);
/* Another listener, with its own user pointer, after those already there
 * (the sink given to an_engine_new is the first).  Each callback goes to
 * every listener that has it, in the order they were added.  Before any
 * segment; at most AN_MAX_SINKS in all.  Returns 0, or -1 when full. */
#define AN_MAX_SINKS 4
int an_engine_listen(an_engine *e, const an_sink *sink);
/* Flushes nothing: call an_engine_finish() first to end open streams. */
void an_engine_free(an_engine *e);

/* Per-stream state for another module; see flow.h.  Before any segment. */
int an_engine_add_ext(an_engine *e, size_t size, flow_fini_fn fini, void *user);
flow_table *an_engine_flows(an_engine *e);

/* One TCP segment, in capture order. */
void an_engine_segment(an_engine *e, const cap_segment *seg);
/* Set the engine's clock: `now` as an_engine_tick() keeps it (the latest
 * packet time) and `now_ns`, the time of the latest TCP segment given to
 * the engine, which stream ends and problems carry.  For a caller that shares
 * one capture between several engines (jmsg analyze --workers), so each
 * sees the clock the whole capture has reached; a single engine never
 * needs it. */
void an_engine_clock(an_engine *e, double now, int64_t now_ns);
/* Capture time moved on: expire streams idle longer than idle_timeout. */
void an_engine_tick(an_engine *e, double now);
/* End of capture: every open stream is flushed and ends (state open). */
void an_engine_finish(an_engine *e);

void an_engine_stats(const an_engine *e, an_stats *st);
/* The busiest ports (by payload bytes) of the flows no engine of es[0..n)
 * decoded, into st->undecoded_ports (for a caller that sums the stats of
 * several engines; an_engine_stats() fills them for one). */
void an_engines_busiest_ports(const an_engine *const *es, size_t n, an_stats *st);

const char *an_state_name(an_state s);

#endif

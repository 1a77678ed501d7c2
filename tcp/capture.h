/*
 * capture: packets in (libpcap, live or from a pcap/pcapng file), TCP
 * segments out.
 *
 * cap_parse() is the pure part: one captured frame and its link type in,
 * one parsed cap_segment out.  Link types: Ethernet (802.1Q/802.1ad tags),
 * BSD loopback (DLT_NULL, DLT_LOOP), Linux cooked v1 and v2, raw IP.  IPv4
 * and IPv6 (extension headers skipped).  Every field is read through
 * checked helpers: a frame too short for its headers is CAP_SHORT, never an
 * out-of-bounds read.  Checksums are never verified (loopback captures
 * leave them unfilled).
 *
 * Per-segment hook: consumers that need TCP header details (stall analysis:
 * seq, ack, window, window scale, timestamps, flags, payload length) read
 * them straight from cap_segment; the analyzer engine passes each segment,
 * with its flow and direction, to an_sink.segment (see stream.h).
 */
#ifndef JM_TCP_CAPTURE_H
#define JM_TCP_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp/flow.h"

#define CAP_DEFAULT_SNAPLEN 262144
/* The kernel ring a live capture reads from (memory locked by the kernel
 * for as long as the capture runs).  At the heaviest loopback load this
 * machine makes it holds about a second of traffic: bursts while the
 * analyzer is busy land in it instead of being dropped. */
#define CAP_DEFAULT_BUFFER (128u << 20)
/* Live, packets are read in blocks (TPACKET_V3): the kernel hands over a
 * block when it is full or this many milliseconds after its first packet,
 * so a quiet link still shows its events this soon. */
#define CAP_BLOCK_TIMEOUT_MS 100

/* TCP flags, as on the wire. */
enum {
	CAP_FIN = 0x01, CAP_SYN = 0x02, CAP_RST = 0x04, CAP_PSH = 0x08,
	CAP_ACK = 0x10, CAP_URG = 0x20, CAP_ECE = 0x40, CAP_CWR = 0x80,
};

typedef struct cap_segment {
	double ts;                /* capture time, seconds since the epoch */
	int64_t ts_ns;            /* the same in nanoseconds, exact */
	uint64_t frame;           /* frame number, from 1: as Wireshark numbers
				   * the file's packets (see cap_frames) */
	uint32_t caplen, wirelen; /* of the whole frame */
	uint8_t ip_version;       /* 4 or 6 */
	flow_ep src, dst;         /* IPv4 as IPv4-mapped IPv6 */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;          /* as sent, unscaled */
	int16_t wscale;           /* window scale option, -1 if absent */
	uint16_t mss;             /* MSS option, 0 if absent */
	bool has_ts;              /* timestamp option */
	uint32_t tsval, tsecr;
	bool sack_permitted;
	const uint8_t *payload;   /* points into the frame */
	uint32_t payload_len;     /* payload bytes captured */
	uint32_t payload_wire;    /* payload bytes sent (from the IP length) */
} cap_segment;

typedef enum cap_result {
	CAP_TCP = 0,      /* *seg filled */
	CAP_OTHER,        /* not TCP, a later IP fragment, unknown link type */
	CAP_SHORT,        /* headers cut by the snapshot length or malformed */
} cap_result;

cap_result cap_parse(int dlt, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
		     cap_segment *seg);

/* ---------------------------------------------------------------- sources */

typedef struct cap_source cap_source;

typedef struct cap_options {
	int snaplen;              /* live: 0 means CAP_DEFAULT_SNAPLEN */
	int buffer_size;          /* live: 0 means CAP_DEFAULT_BUFFER */
	bool immediate;           /* live: one wakeup per packet, not per block */
	const char *filter;       /* BPF expression, or NULL */
	const char *dump_path;    /* -w: also write every packet here */
	bool map;                 /* file: map it instead of reading it (see
				   * cap_stable); stdin and pcapng are read */
} cap_options;

/* Open a file ("-" for stdin) or a live interface.  On failure returns
 * NULL and writes one line (no program name, no newline) into err. */
/* Check a BPF expression's syntax before any capture is opened (against
 * Ethernet, the link type every expression can be compiled for), so a typo
 * is a command-line error.  Returns 0, or -1 with err set. */
int cap_check_filter(const char *filter, char *err, size_t errlen);

cap_source *cap_open_file(const char *path, const cap_options *o, char *err, size_t errlen);
/* Several files read in order as one capture, as tcpdump -C or -G writes
 * them.  Each path is a file, "-" (stdin, first only) or a directory,
 * which stands for every regular file in it whose name does not start
 * with '.', in natural order (cap, cap1, cap2, ..., cap10: strverscmp, the
 * order of tcpdump's numbered names).  Streams go on from one file into
 * the next, frame numbers and the counters count on.  Each file keeps its
 * own link type and the filter is compiled for each; a -w copy
 * (dump_path) needs one link type in all of them, as a pcap file holds
 * one, and must not be one of the files read.  Every file is opened here
 * first, so one that cannot be read is named before any packet is.
 * cap_open_file(p) is this with one path. */
cap_source *cap_open_files(const char *const *paths, size_t n, const cap_options *o, char *err,
			   size_t errlen);
/* capfiles.c: the paths with every directory replaced as above, each one
 * allocated; freed with cap_free_paths().  Returns 0, or -1 with err set
 * ("cannot open 'DIR': ...", "'DIR' is a directory with no files to read
 * in it"). */
int cap_expand_paths(const char *const *paths, size_t n, char ***out, size_t *nout, char *err,
		     size_t errlen);
void cap_free_paths(char **v, size_t n);
/* The file being read (the last one read once cap_run() returned). */
const char *cap_path(const cap_source *c);

cap_source *cap_open_live(const char *iface, const cap_options *o, char *err, size_t errlen);
void cap_close(cap_source *c);
/* Start writing every packet read to `path` (cap_options.dump_path does it
 * at open; this is for later, e.g. after privileges are dropped), before
 * any is read.  Returns 0, or -1 with err set (also when the files have
 * more than one link type, or path is one of them).  Once per source. */
int cap_open_dump(cap_source *c, const char *path, char *err, size_t errlen);
/* Whether p points into a frame that stays where it is until cap_close():
 * a file opened with cap_options.map is read from its map, so a consumer
 * may keep pointers into it rather than copy (other frames are reused as
 * soon as seg_fn returns). */
bool cap_stable(const cap_source *c, const void *p);

typedef void (*cap_segment_fn)(void *user, const cap_segment *seg);
typedef void (*cap_packet_fn)(void *user, double ts);
typedef struct cap_stats cap_stats;
typedef void (*cap_drops_fn)(void *user, int64_t now_ns, const cap_stats *s);

/* Live: have cap_run() read the kernel's counters after each batch of
 * packets, at most every CAP_DROP_CHECK_MS, and call fn as soon as the
 * kernel (or the interface) has dropped more packets than at the last
 * call.  The engine names the gaps that the drops leave; this says why. */
#define CAP_DROP_CHECK_MS 200
void cap_on_drops(cap_source *c, cap_drops_fn fn);

/* Live: fn runs after each batch of packets cap_run() reads (a block from
 * the kernel ring, or none when CAP_BLOCK_TIMEOUT_MS passed without one),
 * before the clock goes to pkt_fn: a caller that hands packets to other
 * threads passes them on there rather than waiting for more.  A file read
 * from a pipe (not a regular file): fn runs after every packet, as the
 * next one may be long in coming (tcpdump -w - | ...). */
typedef void (*cap_batch_fn)(void *user);
void cap_on_batch(cap_source *c, cap_batch_fn fn);

/* Read until the end of the file, cap_break(), or `count` packets (0: no
 * limit).  seg_fn gets each TCP segment; pkt_fn (may be NULL) gets every
 * packet's time first, so the caller can expire idle flows (live, it is
 * also called with the clock when 100 ms pass without a packet).  Returns
 * 0, or -1 with err set when reading failed. */
int cap_run(cap_source *c, uint64_t count, cap_segment_fn seg_fn, cap_packet_fn pkt_fn,
	    void *user, char *err, size_t errlen);

/* Make cap_run() return soon; safe from a signal handler. */
void cap_break(cap_source *c);

struct cap_stats {
	uint64_t packets, bytes;  /* read by cap_run and passed by the filter */
	uint64_t tcp, other, short_frames;
	bool live;
	bool have_kernel;         /* kernel counters below are valid */
	uint64_t kernel_received, kernel_dropped, if_dropped;
};

void cap_get_stats(cap_source *c, cap_stats *s);
/* Frame numbers.  Every packet read gets the next number, from 1, as
 * Wireshark and tshark number a file's packets: a file is filtered after
 * its records are counted (the BPF filter runs here, not in libpcap), so
 * packets the filter rejects, and packets that are not TCP, keep their
 * numbers.  Live, the kernel filters, and frames count the packets
 * captured: the numbers of the file -w writes.  cap_frames() is the last
 * number given; cap_first_time() the time of frame 1 (false before it).
 * A reader of several files in turn hands one source's count and first
 * time to the next with cap_set_frames(), before its cap_run(). */
uint64_t cap_frames(const cap_source *c);
bool cap_first_time(const cap_source *c, int64_t *ns);
void cap_set_frames(cap_source *c, uint64_t frames, bool have_first, int64_t first_ns);


/* How far cap_run() has read the files: bytes of all of them (total 0:
 * not known, a pipe among them), and which file of how many. */
typedef struct cap_progress {
	uint64_t packets;
	uint64_t done, total;
	size_t file, files;       /* file counts from 1 */
} cap_progress;
void cap_get_progress(cap_source *c, cap_progress *p);
/* Files: have cap_run() call fn(arg) between two packets at most every
 * CAP_PROGRESS_MS of wall time, for a progress display (it may call
 * cap_get_progress).  Not live. */
#define CAP_PROGRESS_MS 250
typedef void (*cap_tick_fn)(void *arg);
void cap_on_progress(cap_source *c, cap_tick_fn fn, void *arg);
int cap_datalink(const cap_source *c);
const char *cap_datalink_name(const cap_source *c);

#endif

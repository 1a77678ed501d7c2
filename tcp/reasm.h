/*
 * reasm: TCP reassembly for one direction of one stream, sans I/O.
 *
 * The caller pushes segments as they come off the capture (any order, any
 * overlap, sequence numbers that wrap past 2^32) and the reassembler hands
 * back, through callbacks, the byte stream in order:
 *
 *   data(off, p, n)       n in-order bytes at stream offset `off`.  When the
 *                         segment was in order, `p` points into the caller's
 *                         buffer (zero copy); it is valid only during the call.
 *   gap(off, n, why)      n bytes at `off` will never be delivered: lost from
 *                         the capture (the peer acknowledged them, or the
 *                         stream ended with a hole), cut by the snapshot
 *                         length, or given up because a memory cap was hit.
 *   conflict(off, n)      a retransmission carried bytes that differ from
 *                         the first copy.  The first copy always wins.
 *
 * Callbacks are made in stream-offset order, so data and gaps tile the
 * stream exactly: every offset from 0 to the end is either delivered once
 * or reported missing once.
 *
 * Stream offset 0 is the first byte after the SYN (reasm_start(isn + 1)), or
 * for a direction picked up mid-stream the first byte seen.  Offsets are
 * 64-bit, so a stream may run past 4 GiB and its sequence numbers wrap.
 *
 * Memory: segments that arrive ahead of a hole are copied and held.  Held
 * bytes are bounded per direction (`cap`) and across all directions that
 * share one reasm_mem; when a cap would be exceeded the oldest hole is
 * declared lost (gap with REASM_GAP_MEMCAP) and the held bytes behind it are
 * released, so memory stays bounded whatever the input.  (A segment the
 * snapshot length cut, held ahead of a hole, also holds a record of the
 * span it could not capture; those records count against the caps as
 * their own size.)  To tell a
 * retransmission of already delivered bytes that differs from the first
 * copy, the last `history` delivered bytes are kept in a ring until the
 * peer acknowledges them (a retransmission of acknowledged bytes cannot
 * change what the receiver got, so the ring is freed once all is acked);
 * overlaps reaching further back are de-duplicated without comparison.
 */
#ifndef JM_TCP_REASM_H
#define JM_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum reasm_gap_why {
	REASM_GAP_LOST,       /* never captured */
	REASM_GAP_TRUNCATED,  /* captured, but cut by the snapshot length */
	REASM_GAP_MEMCAP,     /* held data dropped to respect a memory cap */
} reasm_gap_why;

typedef struct reasm_ops {
	void (*data)(void *user, uint64_t off, const uint8_t *p, size_t n);
	void (*gap)(void *user, uint64_t off, uint64_t n, reasm_gap_why why);
	void (*conflict)(void *user, uint64_t off, size_t n);
} reasm_ops;

/* Memory shared by many reassemblers (one analyzer run).  `cap` 0 means
 * no global cap.  History rings freed when their bytes are acknowledged
 * (or outgrown) are kept on free lists, one per size, for the next
 * direction that needs one, so a busy capture does not malloc and free a
 * ring per message; call reasm_mem_release() when every reassembler
 * sharing it is freed. */
#define REASM_POOL_CLASSES 17     /* by log2 of the size: rings of 8 B to 64 KiB */
typedef struct reasm_mem {
	size_t used;
	size_t peak;
	size_t cap;
	void *pool[REASM_POOL_CLASSES]; /* free rings by log2 of their size,
					 * linked through their first bytes */
	size_t pooled_bytes;
} reasm_mem;

void reasm_mem_release(reasm_mem *mem);

struct reasm_seg;
struct reasm_cut;

typedef struct reasm {
	const reasm_ops *ops;
	void *user;
	reasm_mem *mem;
	size_t cap;               /* held bytes allowed in this direction */
	uint32_t hist_size;       /* ring size for overlap checks, 0: none */

	bool started;
	uint32_t base;            /* sequence number of stream offset 0 */
	uint64_t next;            /* offset of the next byte to deliver */
	uint64_t trunc_to;        /* bytes before this were cut by snaplen */
	struct reasm_seg *held;   /* out-of-order pieces, sorted, disjoint */
	size_t held_bytes;
	struct reasm_cut *cuts;   /* snaplen cuts ahead of a hole, sorted, disjoint */
	size_t n_cuts;

	uint8_t *hist;            /* byte at offset o is hist[o % hist_cap] */
	uint32_t hist_cap;        /* the ring's size now: grows to hist_size */
	uint64_t hist_fill;       /* valid history: [next - hist_fill, next) */

	bool fin;                 /* a FIN was seen at fin_off */
	uint64_t fin_off;

	/* counters, for reports */
	uint64_t dup_bytes;       /* bytes seen more than once */
	uint64_t conflicts;
} reasm;

void reasm_init(reasm *r, const reasm_ops *ops, void *user, reasm_mem *mem,
		size_t cap, uint32_t history);
void reasm_free(reasm *r);

/* Fix stream offset 0 at sequence number `seq` (the SYN's seq + 1). */
void reasm_start(reasm *r, uint32_t seq);

/* One segment: `caplen` payload bytes captured of `wirelen` sent (caplen <
 * wirelen when the snapshot length cut it), starting at sequence number
 * `seq` (the first payload byte; for a SYN carrying data that is ISN + 1).
 * `fin` marks the FIN at seq + wirelen.  A direction not yet started starts
 * at `seq` (mid-stream pickup). */
void reasm_push(reasm *r, uint32_t seq, const uint8_t *data, uint32_t caplen,
		uint32_t wirelen, bool fin);

/* The stream offset sequence number `seq` stands for: the one nearest the
 * delivery point (so it may be negative, or far ahead, for a number that
 * belongs nowhere near this stream).  Only meaningful once started. */
int64_t reasm_seq_offset(const reasm *r, uint32_t seq);

/* The peer acknowledged everything before `ack`: bytes before it that were
 * never seen are lost from the capture, so report them now instead of
 * holding what follows until the stream ends. */
void reasm_ack(reasm *r, uint32_t ack);

/* End of stream (FIN, RST, idle expiry, end of capture): deliver what is
 * held, reporting the holes between as gaps.  The reassembler stays usable. */
void reasm_flush(reasm *r);

/* All bytes up to the FIN have been delivered or reported. */
static inline bool reasm_done(const reasm *r)
{
	return r->fin && r->next >= r->fin_off && r->held == NULL;
}

#endif

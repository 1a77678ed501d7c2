/*
 * merge: the output of several analysis threads, put back in capture order.
 *
 * One reader numbers the records it hands out (seq, from 1, increasing);
 * each source (an analysis thread) writes its output for a record into
 * chunks tagged with that record's seq.  Some records go to every source
 * (an idle-expiry tick, the end of the capture), and there each source's
 * streams end one after the other, oldest activity first; those chunks
 * also carry sub, the seq of the record that last touched the stream, so
 * that the merged order is the order one engine seeing every stream would
 * give.  A source's chunks come in increasing (seq, sub) order.
 *
 * merger_emit(m, limit) writes, in (seq, sub, source) order, every queued
 * chunk whose seq is below limit, and the caller promises that no source
 * will queue another chunk with such a seq (every source has finished every
 * record before limit).
 *
 * A chunk also says how many streams its events opened minus ended (delta)
 * and the highest that running count reached within it (rise), so the
 * merger counts the streams open at once in capture order: peak is what
 * one engine's flow table would have seen.
 *
 * Queues are single-producer, single-consumer linked lists (one source
 * thread pushes, the merger's thread pops), with no lock.  Spent chunks go
 * back to the source the same way (up to MERGE_RECYCLE bytes of room), so
 * chunks are not freed on one thread and allocated on another.
 */
#ifndef JM_ANALYZER_MERGE_H
#define JM_ANALYZER_MERGE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct merge_chunk {
	struct merge_chunk *_Atomic next;
	uint64_t seq, sub;
	int64_t delta, rise;
	size_t len, cap;
	char data[];
} merge_chunk;

#define MERGE_RECYCLE (64u << 10)

typedef struct merge_queue {
	merge_chunk *last;                 /* producer: the newest chunk */
	merge_chunk *spare;                /* producer: spent; its next, reusable */
	_Alignas(64) merge_chunk *first;   /* consumer: spent; its next is the head */
	merge_chunk *spare_last;           /* consumer: the newest chunk given back */
} merge_queue;

/* A chunk for record (seq, sub) with room for cap bytes, or NULL. */
merge_chunk *merge_chunk_new(uint64_t seq, uint64_t sub, size_t cap);
/* Append n bytes, growing *c.  0, or -1 on no memory (*c unchanged). */
int merge_chunk_append(merge_chunk **c, const void *p, size_t n);

int merge_queue_init(merge_queue *q);
/* Frees every chunk still queued. */
void merge_queue_free(merge_queue *q);
/* Producer: hand c over; the queue owns it from now on. */
void merge_push(merge_queue *q, merge_chunk *c);
/* Producer: a chunk for (seq, sub), empty: one given back, or a new one
 * (NULL on no memory). */
merge_chunk *merge_take(merge_queue *q, uint64_t seq, uint64_t sub);
/* Consumer: the oldest chunk, or NULL. */
merge_chunk *merge_head(merge_queue *q);
/* Consumer: drop the head. */
void merge_pop(merge_queue *q);

typedef struct merger {
	size_t n;
	merge_queue *q;
	FILE *out;
	int64_t open, peak;           /* streams open now / at most, in merged order */
} merger;

int merger_init(merger *m, size_t nqueues, FILE *out);
void merger_free(merger *m);
void merger_emit(merger *m, uint64_t limit);

#endif

/*
 * ring: a single-producer, single-consumer queue of variable-size records
 * in one fixed byte buffer, for handing packets from one thread to another
 * without a lock or an allocation per record.
 *
 * The producer reserves room for a record, writes it in place and commits
 * it; the consumer peeks at the oldest record, uses it in place and
 * releases it.  Records are aligned to 8 bytes and never wrap: one that
 * does not fit before the end of the buffer starts at its beginning (the
 * tail end is skipped, the consumer never sees it).  A record may take at
 * most a quarter of the buffer.
 *
 * Positions are 64-bit byte counts (head: committed, tail: released),
 * published with C11 atomics every RING_PUBLISH bytes (not every record:
 * the other side's core would fetch the cache line each time); each side
 * reloads the other's position only when the ring looks full or empty.
 *
 * Waiting.  Either side can block (a Linux futex) until the other has done
 * something: the consumer until a record is there, the producer until half
 * the buffer is free (or the consumer ran dry).  To spare system calls, the producer wakes a sleeping
 * consumer only once RING_BATCH bytes have been committed since the last
 * wake-up, or when it calls ring_flush(): call it whenever the consumer
 * must not wait for more (end of input, a live capture's quiet moment).
 * A consumer may thus sleep while records wait; that is the point.
 */
#ifndef JM_ANALYZER_RING_H
#define JM_ANALYZER_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_PUBLISH (16u << 10)
#define RING_BATCH (256u << 10)
#define RING_MIN (64u << 10)

/* A futex word and the count of threads that may sleep on it. */
typedef struct ring_wake {
	_Atomic uint32_t seq;
	_Atomic uint32_t waiters;
} ring_wake;

typedef struct ring {
	uint8_t *buf;
	size_t cap;                   /* bytes, a power of two */
	/* producer side */
	_Alignas(64) _Atomic uint64_t head;
	uint64_t p_head;              /* committed; head lags by < RING_PUBLISH */
	uint64_t p_tail;              /* the consumer's tail, as last seen */
	uint64_t p_woken;             /* p_head at the last wake-up */
	uint64_t p_res;               /* reserved record: start, size */
	uint32_t p_res_size;
	ring_wake data;
	/* consumer side */
	_Alignas(64) _Atomic uint64_t tail;
	uint64_t c_tail;              /* released; tail lags by < RING_PUBLISH */
	uint64_t c_head;              /* the producer's head, as last seen */
	ring_wake space;
} ring;

/* cap: bytes, rounded up to a power of two, at least RING_MIN.
 * 0, or -1 on no memory. */
int ring_init(ring *r, size_t cap);
void ring_free(ring *r);
/* The largest record (its payload, as given to ring_reserve). */
size_t ring_max_record(const ring *r);

/* Producer.  Room for a record of `size` bytes (at most ring_max_record):
 * where to write it, or NULL when the ring is too full now. */
void *ring_try_reserve(ring *r, size_t size);
/* The same, waiting until a quarter of the ring is free when it is full. */
void *ring_reserve(ring *r, size_t size);
/* Commit the reserved record: the consumer sees it once RING_PUBLISH
 * bytes are committed, or at the next ring_flush(). */
void ring_commit(ring *r);
/* Publish what was committed, and wake the consumer if it sleeps. */
void ring_flush(ring *r);

/* Consumer.  The oldest record (its size in *size) or NULL if none. */
void *ring_peek(ring *r, size_t *size);
/* The same, waiting for one. */
void *ring_wait(ring *r, size_t *size);
/* Done with the record ring_peek or ring_wait returned. */
void ring_release(ring *r);

#endif

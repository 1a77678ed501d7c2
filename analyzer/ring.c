/*
 * ring: SPSC byte ring with futex waits.  See ring.h.
 *
 * Each record starts with an 8-byte header: its size in bytes (header
 * included, a multiple of 8) and whether it is a skip, the unused end of
 * the buffer that a record too big for it left behind.
 *
 * Sleeping without losing a wake-up: the sleeper counts itself in
 * `waiters` and then reads the other side's position (both sequentially
 * consistent), and sleeps only if its condition still fails and the futex
 * word has not moved; the other side publishes its position, then, past a
 * sequentially consistent fence, reads `waiters` and bumps the word before
 * waking.  One of the two always sees the other.
 */
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "analyzer/ring.h"

#define HDR 8u
#define SKIP 1u

struct hdr {
	uint32_t size;
	uint32_t flags;
};

/* After publishing a position: does the other side sleep, or is it about
 * to? */
static bool sleeping(ring_wake *w)
{
	atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(&w->waiters, memory_order_relaxed) != 0;
}

static void wake(ring_wake *w)
{
	atomic_fetch_add(&w->seq, 1);
	syscall(SYS_futex, &w->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* The caller checks its condition once more between sleep_begin() and
 * sleep_end(), and sleeps only if it still does not hold. */
static uint32_t sleep_begin(ring_wake *w)
{
	atomic_fetch_add(&w->waiters, 1);
	return atomic_load(&w->seq);
}

static void sleep_end(ring_wake *w, uint32_t seq, bool sleep)
{
	if (sleep)
		syscall(SYS_futex, &w->seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
	atomic_fetch_sub(&w->waiters, 1);
}

int ring_init(ring *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	size_t c = RING_MIN;
	while (c < cap)
		c <<= 1;
	r->buf = aligned_alloc(64, c);
	if (!r->buf)
		return -1;
	r->cap = c;
	return 0;
}

void ring_free(ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

size_t ring_max_record(const ring *r)
{
	return r->cap / 4 - HDR;
}

/* ---------------------------------------------------------------- producer */

/* Bytes the next record of `total` bytes takes: a skip first if it does
 * not fit before the end of the buffer. */
static uint64_t needed(const ring *r, uint64_t head, uint32_t total)
{
	uint64_t pos = head & (r->cap - 1);
	return pos + total <= r->cap ? total : (r->cap - pos) + total;
}

void *ring_try_reserve(ring *r, size_t size)
{
	if (size > ring_max_record(r))
		return NULL;
	uint32_t total = (uint32_t)(HDR + ((size + 7) & ~(size_t)7));
	uint64_t head = r->p_head;
	uint64_t need = needed(r, head, total);
	if (r->cap - (head - r->p_tail) < need) {
		r->p_tail = atomic_load(&r->tail);
		if (r->cap - (head - r->p_tail) < need)
			return NULL;
	}
	uint64_t pos = head & (r->cap - 1);
	if (need != total) {
		struct hdr skip = {(uint32_t)(r->cap - pos), SKIP};
		memcpy(r->buf + pos, &skip, sizeof skip);
		pos = 0;
	}
	r->p_res = head + need - total;
	r->p_res_size = total;
	struct hdr h = {total, 0};
	memcpy(r->buf + pos, &h, sizeof h);
	return r->buf + pos + HDR;
}

void *ring_reserve(ring *r, size_t size)
{
	void *p;
	while (!(p = ring_try_reserve(r, size))) {
		if (size > ring_max_record(r))
			return NULL;
		/* Full: the consumer has plenty to do, let it have the CPU. */
		ring_flush(r);
		uint32_t seq = sleep_begin(&r->space);
		p = ring_try_reserve(r, size);
		sleep_end(&r->space, seq, !p);
		if (p)
			break;
	}
	return p;
}

void ring_commit(ring *r)
{
	r->p_head = r->p_res + r->p_res_size;
	if (r->p_head - atomic_load_explicit(&r->head, memory_order_relaxed) >= RING_PUBLISH) {
		atomic_store_explicit(&r->head, r->p_head, memory_order_release);
		if (r->p_head - r->p_woken >= RING_BATCH) {
			r->p_woken = r->p_head;
			if (sleeping(&r->data))
				wake(&r->data);
		}
	}
}

void ring_flush(ring *r)
{
	atomic_store_explicit(&r->head, r->p_head, memory_order_release);
	if (r->p_head != r->p_woken) {
		r->p_woken = r->p_head;
		if (sleeping(&r->data))
			wake(&r->data);
	}
}

/* ---------------------------------------------------------------- consumer */

void *ring_peek(ring *r, size_t *size)
{
	for (;;) {
		if (r->c_tail == r->c_head) {
			r->c_head = atomic_load(&r->head);
			if (r->c_tail == r->c_head)
				return NULL;
		}
		uint64_t pos = r->c_tail & (r->cap - 1);
		struct hdr h;
		memcpy(&h, r->buf + pos, sizeof h);
		if (!(h.flags & SKIP)) {
			*size = h.size - HDR;
			return r->buf + pos + HDR;
		}
		/* The end of the buffer was skipped: the record is at its start. */
		r->c_tail += h.size;
	}
}

void *ring_wait(ring *r, size_t *size)
{
	void *p;
	while (!(p = ring_peek(r, size))) {
		/* Empty: give back what was used before sleeping, so a producer
		 * waiting for room is not left waiting too. */
		if (atomic_load_explicit(&r->tail, memory_order_relaxed) != r->c_tail) {
			atomic_store_explicit(&r->tail, r->c_tail, memory_order_release);
			if (sleeping(&r->space))
				wake(&r->space);
		}
		uint32_t seq = sleep_begin(&r->data);
		p = ring_peek(r, size);
		sleep_end(&r->data, seq, !p);
		if (p)
			break;
	}
	return p;
}

void ring_release(ring *r)
{
	struct hdr h;
	memcpy(&h, r->buf + (r->c_tail & (r->cap - 1)), sizeof h);
	r->c_tail += h.size;
	if (r->c_tail - atomic_load_explicit(&r->tail, memory_order_relaxed) >= RING_PUBLISH) {
		atomic_store_explicit(&r->tail, r->c_tail, memory_order_release);
		/* A producer waits for half the ring, not for each record. */
		if (sleeping(&r->space) &&
		    r->cap - (atomic_load(&r->head) - r->c_tail) >= r->cap / 2)
			wake(&r->space);
	}
}

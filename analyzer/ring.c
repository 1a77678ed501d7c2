/*
 * ring: SPSC byte ring with futex waits.  See ring.h.
 *
 * Each record starts with an 8-byte header: its size in bytes (header
 * included, a multiple of 8) and whether it is a skip, the unused end of
 * the buffer that a record too big for it left behind.
 *
 * Sleeping without losing a wake-up: the sleeper counts itself in
 * `waiters`, reads the futex word, checks its condition once more and
 * sleeps only if the word has not moved; the other side publishes its
 * position, then reads `waiters` (every access sequentially consistent,
 * so one of the two sees the other) and bumps the word before waking.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "analyzer/ring.h"

#define HDR 8u
#define SKIP 1u
#define SPINS 200

struct hdr {
	uint32_t size;
	uint32_t flags;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void wake(ring_wake *w)
{
	if (atomic_load(&w->waiters)) {
		atomic_fetch_add(&w->seq, 1);
		syscall(SYS_futex, &w->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	}
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
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
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
		/* The consumer may be asleep on records not yet announced. */
		ring_flush(r);
		for (int i = 0; i < SPINS && !(p = ring_try_reserve(r, size)); i++)
			cpu_relax();
		if (p)
			break;
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
	uint64_t head = r->p_res + r->p_res_size;
	atomic_store(&r->head, head);
	if (head - r->p_woken >= RING_BATCH) {
		r->p_woken = head;
		wake(&r->data);
	}
}

void ring_flush(ring *r)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (head != r->p_woken) {
		r->p_woken = head;
		wake(&r->data);
	}
}

/* ---------------------------------------------------------------- consumer */

void *ring_peek(ring *r, size_t *size)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (;;) {
		if (tail == r->c_head) {
			r->c_head = atomic_load(&r->head);
			if (tail == r->c_head)
				return NULL;
		}
		uint64_t pos = tail & (r->cap - 1);
		struct hdr h;
		memcpy(&h, r->buf + pos, sizeof h);
		if (!(h.flags & SKIP)) {
			*size = h.size - HDR;
			return r->buf + pos + HDR;
		}
		/* The end of the buffer was skipped: the record is at its start. */
		tail += h.size;
		atomic_store_explicit(&r->tail, tail, memory_order_release);
	}
}

void *ring_wait(ring *r, size_t *size)
{
	void *p;
	while (!(p = ring_peek(r, size))) {
		for (int i = 0; i < SPINS && !(p = ring_peek(r, size)); i++)
			cpu_relax();
		if (p)
			break;
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
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	struct hdr h;
	memcpy(&h, r->buf + (tail & (r->cap - 1)), sizeof h);
	tail += h.size;
	atomic_store(&r->tail, tail);
	if (atomic_load(&r->space.waiters)) {
		uint64_t head = atomic_load(&r->head);
		if (r->cap - (head - tail) >= r->cap / 2)
			wake(&r->space);
	}
}

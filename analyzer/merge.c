/*
 * merge: chunk queues and their ordered merge.  See merge.h.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer/merge.h"

merge_chunk *merge_chunk_new(uint64_t seq, uint64_t sub, size_t cap)
{
	merge_chunk *c = malloc(sizeof *c + cap);
	if (!c)
		return NULL;
	atomic_init(&c->next, NULL);
	c->seq = seq;
	c->sub = sub;
	c->delta = c->rise = 0;
	c->len = 0;
	c->cap = cap;
	return c;
}

int merge_chunk_append(merge_chunk **c, const void *p, size_t n)
{
	merge_chunk *k = *c;
	if (n > k->cap - k->len) {
		size_t cap = k->cap ? k->cap : 512;
		while (cap - k->len < n)
			cap *= 2;
		k = realloc(k, sizeof *k + cap);
		if (!k)
			return -1;
		k->cap = cap;
		*c = k;
	}
	memcpy(k->data + k->len, p, n);
	k->len += n;
	return 0;
}

int merge_queue_init(merge_queue *q)
{
	q->first = q->last = merge_chunk_new(0, 0, 0);
	q->spare = q->spare_last = merge_chunk_new(0, 0, 0);
	if (q->first && q->spare)
		return 0;
	free(q->first);
	free(q->spare);
	return -1;
}

static void free_list(merge_chunk *c)
{
	while (c) {
		merge_chunk *n = atomic_load_explicit(&c->next, memory_order_relaxed);
		free(c);
		c = n;
	}
}

void merge_queue_free(merge_queue *q)
{
	free_list(q->first);
	free_list(q->spare);
	q->first = q->last = q->spare = q->spare_last = NULL;
}

void merge_push(merge_queue *q, merge_chunk *c)
{
	atomic_store_explicit(&c->next, NULL, memory_order_relaxed);
	/* Release: the consumer that sees the pointer sees the chunk. */
	atomic_store_explicit(&q->last->next, c, memory_order_release);
	q->last = c;
}

merge_chunk *merge_take(merge_queue *q, uint64_t seq, uint64_t sub)
{
	/* Both lists keep one spent chunk in front (q->first, q->spare), so
	 * producer and consumer never touch the same pointer.  The front of
	 * the spare list may be reused once the consumer has linked another
	 * chunk after it; that one becomes the new front. */
	merge_chunk *n = atomic_load_explicit(&q->spare->next, memory_order_acquire);
	if (!n)
		return merge_chunk_new(seq, sub, 0);
	merge_chunk *c = q->spare;
	q->spare = n;
	atomic_init(&c->next, NULL);
	c->seq = seq;
	c->sub = sub;
	c->delta = c->rise = 0;
	c->len = 0;
	return c;
}

merge_chunk *merge_head(merge_queue *q)
{
	return atomic_load_explicit(&q->first->next, memory_order_acquire);
}

/* The spent front chunk goes back to the producer's spare list (or, if
 * big, to free()), and the head becomes the new front.  The producer no
 * longer touches the old front: writing its next was the last thing it
 * did with it, and that is how the head was found. */
void merge_pop(merge_queue *q)
{
	merge_chunk *h = merge_head(q), *spent = q->first;
	q->first = h;
	if (spent->cap > MERGE_RECYCLE) {
		free(spent);
		return;
	}
	atomic_store_explicit(&spent->next, NULL, memory_order_relaxed);
	atomic_store_explicit(&q->spare_last->next, spent, memory_order_release);
	q->spare_last = spent;
}

int merger_init(merger *m, size_t nqueues, FILE *out)
{
	memset(m, 0, sizeof *m);
	m->q = calloc(nqueues, sizeof *m->q);
	if (!m->q)
		return -1;
	m->n = nqueues;
	m->out = out;
	for (size_t i = 0; i < nqueues; i++) {
		if (merge_queue_init(&m->q[i])) {
			merger_free(m);
			return -1;
		}
	}
	return 0;
}

void merger_free(merger *m)
{
	for (size_t i = 0; m->q && i < m->n; i++)
		if (m->q[i].first)
			merge_queue_free(&m->q[i]);
	free(m->q);
	m->q = NULL;
}

static void write_chunk(merger *m, const merge_chunk *c)
{
	if (c->len)
		fwrite(c->data, 1, c->len, m->out);
	if (m->open + c->rise > m->peak)
		m->peak = m->open + c->rise;
	m->open += c->delta;
}

void merger_emit(merger *m, uint64_t limit)
{
	for (;;) {
		/* The lowest seq queued; then all of its chunks, by sub, the
		 * lower source first among equals. */
		uint64_t seq = limit;
		for (size_t i = 0; i < m->n; i++) {
			merge_chunk *h = merge_head(&m->q[i]);
			if (h && h->seq < seq)
				seq = h->seq;
		}
		if (seq >= limit)
			return;
		for (;;) {
			size_t best = m->n;
			uint64_t sub = 0;
			for (size_t i = 0; i < m->n; i++) {
				merge_chunk *h = merge_head(&m->q[i]);
				if (h && h->seq == seq && (best == m->n || h->sub < sub)) {
					best = i;
					sub = h->sub;
				}
			}
			if (best == m->n)
				break;
			write_chunk(m, merge_head(&m->q[best]));
			merge_pop(&m->q[best]);
		}
	}
}

/*
 * flow: the table of TCP streams, keyed by their two endpoints.
 *
 * An open-addressing hash table (linear probing, kept at most half full,
 * each slot holding the flow's hash so probes rarely touch other flows'
 * records), plus a list of flows ordered by last activity, so idle expiry
 * and eviction of the oldest flow are O(1) per flow.  Flow records are recycled through a free list:
 * after warm-up, a capture with a steady number of streams allocates nothing.
 *
 * Extension point.  Every module that keeps per-stream state (the stream
 * decoder, stall analysis, ...) registers an extension before the first
 * flow is created:
 *
 *     int id = flow_table_add_ext(ft, sizeof(struct my_state), my_fini, me);
 *     ...
 *     struct my_state *st = flow_ext(f, id);   // zeroed when the flow is new
 *
 * `fini` (may be NULL) runs when the flow is removed, in registration
 * order, before its memory is reused.  Extensions live inside the flow
 * record, so adding one costs no allocation per flow.
 */
#ifndef JM_TCP_FLOW_H
#define JM_TCP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One endpoint: IPv4 addresses are stored as IPv4-mapped IPv6. */
typedef struct flow_ep {
	uint8_t addr[16];
	uint16_t port;
} flow_ep;

/* A canonical key: the lower endpoint first, so both directions of a
 * stream find the same flow. */
typedef struct flow_key {
	flow_ep lo, hi;
} flow_key;

typedef struct flow {
	flow_key key;
	uint64_t id;              /* stream number, from 0, in order of creation
				   * (see flow_table_number) */
	double first_ts, last_ts; /* capture time of first and latest segment */
	uint32_t hash;
	struct flow *hnext;       /* free list, while the record is unused */
	struct flow *older, *newer; /* activity list */
	_Alignas(16) unsigned char ext[]; /* registered extensions */
} flow;

typedef void (*flow_fini_fn)(flow *f, void *ext, void *user);

typedef struct flow_table flow_table;

flow_table *flow_table_new(size_t expected_flows);
void flow_table_free(flow_table *ft);   /* runs fini for every live flow */

/* Number the flows first, first + step, first + 2 * step... instead of
 * 0, 1, 2...: tables that share one capture between them (jmsg analyze
 * --workers) keep their stream numbers apart.  Before the first flow. */
void flow_table_number(flow_table *ft, uint64_t first, uint64_t step);

/* Returns the extension id, or -1 once flows exist or on no memory. */
int flow_table_add_ext(flow_table *ft, size_t size, flow_fini_fn fini, void *user);

static inline void *flow_ext_at(flow *f, size_t off) { return f->ext + off; }
/* The extension's state in flow `f`. */
void *flow_ext(const flow_table *ft, flow *f, int id);
/* Where extension `id` is in every record, for flow_ext_at(). */
size_t flow_table_ext_offset(const flow_table *ft, int id);

/* Build the canonical key of a segment's endpoints.  Sets *a_is_lo to
 * whether endpoint `a` became key.lo. */
void flow_key_make(flow_key *k, const flow_ep *a, const flow_ep *b, bool *a_is_lo);

/* The flows' hash: XXH3 keyed by a secret drawn from getrandom() once per
 * process (flow_hash_init, which flow_table_new calls; thread-safe), so
 * which keys collide cannot be known outside the process.  Equal for both
 * directions of a stream, as the key is canonical. */
void flow_hash_init(void);
uint64_t flow_key_hash(const flow_key *k);

/* Find the flow of `k`; if absent and `create`, make it (extensions
 * zeroed, id assigned, first_ts = last_ts = ts).  *created tells which.
 * Returns NULL if absent and not created, or if out of memory. */
flow *flow_table_get(flow_table *ft, const flow_key *k, bool create, double ts, bool *created);

/* Mark activity: moves the flow to the newest end of the activity list. */
void flow_touch(flow_table *ft, flow *f, double ts);

/* Remove a flow: fini for each extension, then the record is recycled. */
void flow_table_remove(flow_table *ft, flow *f);

/* The least recently active flow, or NULL. */
flow *flow_table_oldest(const flow_table *ft);
/* Next more recently active flow. */
static inline flow *flow_newer(const flow *f) { return f->newer; }

size_t flow_table_count(const flow_table *ft);
uint64_t flow_table_created(const flow_table *ft);
size_t flow_table_peak(const flow_table *ft);
/* Occupied slots that lookups (flow_table_get) stepped over or matched:
 * about one per lookup while the hash spreads flows well. */
uint64_t flow_table_probes(const flow_table *ft);
/* Bytes held by the table itself: slots and flow records. */
size_t flow_table_mem(const flow_table *ft);

/* Format an endpoint as "1.2.3.4:80" or "[::1]:80" into buf (>= 64 bytes). */
size_t flow_ep_format(const flow_ep *e, char *buf, size_t len);

#endif

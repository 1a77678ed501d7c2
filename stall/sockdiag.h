/*
 * sockdiag: the kernel's view of this host's TCP sockets, through
 * NETLINK_SOCK_DIAG (inet_diag), the interface `ss` uses.
 *
 * One query lists every TCP socket of both families with its queues and,
 * when asked, the struct tcp_info the kernel attaches (INET_DIAG_INFO).
 * What `ss`/`netstat` call Recv-Q and Send-Q are idiag_rqueue and
 * idiag_wqueue: for an established socket, bytes received but not yet read
 * by the application, and bytes written but not yet acknowledged by the
 * peer (sent or not).  For a listening socket they are the accept queue and
 * its limit, which is why callers usually skip listeners.
 *
 * tcp_info grows with every kernel release.  The kernel sends as many
 * bytes as it knows; we copy min(that, sizeof(struct tcp_info)) and clear
 * the rest, and `info_len` says how much was real, so a field the running
 * kernel lacks reads as absent (sockdiag_has()) rather than as zero.
 *
 * Process lookup: a socket's inode is matched against the symlinks in
 * /proc/PID/fd/.  That walk is expensive on a busy host, so sockdiag_procs
 * caches answers and walks /proc at most once per new batch of unknown
 * inodes (never per sample), and not more often than once per
 * `min_interval` seconds.
 *
 * Sampling: sockdiag_sampler runs a query every `interval` in a thread of
 * its own and queues timestamped batches; the analyzer drains them in
 * capture order from its own thread.  The queue is bounded: if nobody
 * drains it, the oldest batches are dropped and counted.
 */
#ifndef JM_STALL_SOCKDIAG_H
#define JM_STALL_SOCKDIAG_H

#include <linux/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tcp/flow.h"

typedef struct sockdiag_sock {
	uint8_t family;           /* AF_INET or AF_INET6 */
	uint8_t state;            /* TCP_ESTABLISHED, ... (netinet/tcp.h numbering) */
	flow_ep local, remote;    /* IPv4 as IPv4-mapped IPv6, like flow.h */
	uint32_t rqueue, wqueue;  /* Recv-Q, Send-Q as ss shows them */
	uint32_t uid;
	uint64_t inode;
	uint32_t info_len;        /* bytes of tcp_info kept; 0: none */
	union {
		struct tcp_info info; /* cleared beyond info_len */
		uint8_t info_raw[320]; /* newer kernels' fields past our headers */
	};
} sockdiag_sock;

/* tcpi_rcv_wnd (Linux 6.2) follows tcpi_snd_wnd; older uapi headers lack
 * it, so it is read by offset.  Returns false if the kernel did not send it. */
bool sockdiag_rcv_wnd(const sockdiag_sock *s, uint32_t *out);

/* Whether the kernel's tcp_info covers `field`. */
#define sockdiag_has(s, field) \
	((s)->info_len >= offsetof(struct tcp_info, field) + sizeof((s)->info.field))

typedef struct sockdiag sockdiag;

/* Open a NETLINK_SOCK_DIAG socket.  NULL with err set on failure. */
sockdiag *sockdiag_open(char *err, size_t errlen);
void sockdiag_close(sockdiag *sd);

/* Sockets whose local or remote port is one of ports[0..nports) (every TCP
 * socket if nports is 0), both families, every state but TIME_WAIT.
 * with_info asks for tcp_info.  Calls fn for each; returns the number
 * passed to fn, or -1 with err set. */
typedef void (*sockdiag_fn)(void *user, const sockdiag_sock *s);
int sockdiag_query(sockdiag *sd, const uint16_t *ports, size_t nports, bool with_info,
		   sockdiag_fn fn, void *user, char *err, size_t errlen);

/* One socket by its exact endpoints (local as seen by the socket):
 * 1 and *out filled, 0 no such socket, -1 with err set.  A lookup costs
 * O(1) in the kernel; a dump walks the whole established table. */
int sockdiag_get(sockdiag *sd, const flow_ep *local, const flow_ep *remote, bool with_info,
		 sockdiag_sock *out, char *err, size_t errlen);

/* Name of a TCP state as ss prints it ("ESTAB", "LISTEN", ...). */
const char *sockdiag_state_name(uint8_t state);

/* ---------------------------------------------------------------- processes */

typedef struct sockdiag_proc {
	pid_t pid;                /* 0: not found */
	int fd;
	char comm[32];
} sockdiag_proc;

typedef struct sockdiag_procs sockdiag_procs;

/* cache_max bounds the cache (entries); min_interval is in seconds. */
sockdiag_procs *sockdiag_procs_new(size_t cache_max, double min_interval);
void sockdiag_procs_free(sockdiag_procs *p);
/* The process holding socket `inode`, from the cache or one /proc walk
 * that also resolves every other inode asked for since the last walk.
 * Returns false (and pid 0) if not found or the walk was rate-limited. */
/* Put an inode on the list for the next walk, without walking: call it
 * for every socket of a batch, then look them up. */
void sockdiag_procs_want(sockdiag_procs *p, uint64_t inode);
bool sockdiag_procs_lookup(sockdiag_procs *p, uint64_t inode, double now, sockdiag_proc *out);

/* ---------------------------------------------------------------- sampler */

typedef struct sockdiag_batch {
	double ts;                /* CLOCK_REALTIME, seconds: comparable to capture times */
	size_t n;
	sockdiag_sock *socks;     /* established-like sockets only */
	sockdiag_proc *procs;     /* procs[i] for socks[i] (pid 0 if unknown) */
} sockdiag_batch;

typedef struct sockdiag_sampler sockdiag_sampler;

typedef struct sockdiag_sampler_config {
	double interval;          /* seconds between samples */
	const uint16_t *ports;    /* copied */
	size_t nports;
	size_t max_sockets;       /* per batch; more are dropped and counted */
	size_t max_batches;       /* queued, undrained */
	bool procs;               /* look processes up */
	size_t max_targets;       /* > 0: sample only the streams given to
	                             sockdiag_sampler_watch(), by exact lookups,
	                             while there are at most this many; past it,
	                             dump by port as with 0 */
} sockdiag_sampler_config;

/* Starts the thread; the first sample is taken at once.  NULL with err
 * set if the netlink socket cannot be opened. */
sockdiag_sampler *sockdiag_sampler_start(const sockdiag_sampler_config *c, char *err, size_t errlen);
/* Stops the thread and frees every queued batch. */
void sockdiag_sampler_stop(sockdiag_sampler *s);
/* Streams to sample (both ends), with max_targets.  Thread-safe. */
void sockdiag_sampler_watch(sockdiag_sampler *s, const flow_key *k);
void sockdiag_sampler_unwatch(sockdiag_sampler *s, const flow_key *k);
/* Take one sample now, synchronously (the end of a capture). */
void sockdiag_sampler_sample_now(sockdiag_sampler *s);
/* Oldest queued batch with ts <= until, or NULL.  The caller frees it. */
sockdiag_batch *sockdiag_sampler_next(sockdiag_sampler *s, double until);
void sockdiag_batch_free(sockdiag_batch *b);

typedef struct sockdiag_sampler_stats {
	uint64_t samples, errors, dropped_batches, dropped_sockets;
	char last_error[160];
} sockdiag_sampler_stats;
void sockdiag_sampler_stats_get(sockdiag_sampler *s, sockdiag_sampler_stats *st);

double sockdiag_now(void);

#endif

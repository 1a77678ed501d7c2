/*
 * evloop: one epoll event loop, in the manner of Redis's ae.c.
 *
 * A watch is an fd, an interest mask and one procedure that is called with
 * the mask of what is ready.  The caller embeds the el_watch in its own
 * per-connection struct, so the loop allocates nothing per fd and epoll hands
 * the watch straight back.  Beside the file events there is one periodic
 * tick (for timeouts: a sweep every interval keeps the cost at
 * O(connections) per interval) and one before-sleep hook, called after every
 * batch of events, where callers free what they closed and flush output.
 * A caller that plans its own schedule (replay: requests due at capture
 * times) sets a one-shot wake-up from that hook with el_wake_at().
 *
 * Signals: el_run() keeps the signals in `block` (e.g. SIGINT, SIGTERM)
 * blocked except while it sleeps in epoll_pwait(), so a handler that only
 * sets a flag can never be missed between checking the flag and sleeping.
 *
 * Errors are values: the functions return 0 or -1 with errno set.
 */
#ifndef JM_IO_EVLOOP_H
#define JM_IO_EVLOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

enum { EL_READ = 1, EL_WRITE = 2 };

typedef struct el_loop el_loop;
typedef struct el_watch el_watch;

/* `mask` says what is ready (EL_READ, EL_WRITE; an error or hang-up is
 * reported as both, so the procedure finds it with its next read/write). */
typedef void el_proc(el_loop *l, el_watch *w, int mask);
typedef void el_hook(el_loop *l, void *data);

struct el_watch {
	int fd;
	int mask;       /* current interest; 0 when not registered */
	el_proc *proc;
	void *data;
};

struct el_loop {
	int epfd;
	bool stop;
	uint64_t now_ms;     /* el_now_ms() when the current batch began: one
	                        clock read per batch, not per event */
	sigset_t wait_mask;  /* signal mask while sleeping */
	int tick_ms;         /* 0: no tick */
	uint64_t next_tick;  /* el_now_ms() of the next tick */
	el_hook *tick;
	el_hook *before_sleep;
	void *hook_data;
	bool wake_set;       /* el_wake_at() since the last sleep */
	uint64_t wake_ns;    /* el_now_ns() by which that sleep ends */
};

/* Monotonic milliseconds and nanoseconds. */
uint64_t el_now_ms(void);
uint64_t el_now_ns(void);

/* Create the epoll instance; `block` lists signals to hold off outside
 * epoll_pwait (NULL for none). */
int el_init(el_loop *l, const sigset_t *block);
void el_free(el_loop *l);

/* Register fd with interest `mask`; el_watch_set changes it (0 removes it
 * from epoll but keeps the watch usable); el_watch_del forgets it (call
 * before close()). */
int el_watch_add(el_loop *l, el_watch *w, int fd, int mask, el_proc *proc, void *data);
int el_watch_set(el_loop *l, el_watch *w, int mask);
void el_watch_del(el_loop *l, el_watch *w);

void el_set_hooks(el_loop *l, int tick_ms, el_hook *tick, el_hook *before_sleep, void *data);

/* One-shot wake-up at an absolute time: the next sleep ends by el_now_ns()
 * == at_ns (rounded up to the next millisecond, never early), sooner if an
 * event or the tick comes first.  It holds for that one sleep only: a
 * before_sleep hook that plans its own schedule sets it again each time.
 * Called twice before a sleep, the earlier time wins. */
void el_wake_at(el_loop *l, uint64_t at_ns);

/* Run until el_stop().  Returns 0, or -1 if epoll_pwait failed. */
int el_run(el_loop *l);
static inline void el_stop(el_loop *l) { l->stop = true; }

#endif

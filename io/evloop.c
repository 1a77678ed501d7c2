/*
 * evloop: the epoll loop behind the server and the load generator.
 * See evloop.h for the model.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "io/evloop.h"

#define EL_BATCH 256

uint64_t el_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t el_now_ms(void)
{
	return el_now_ns() / 1000000u;
}

int el_init(el_loop *l, const sigset_t *block)
{
	memset(l, 0, sizeof *l);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -1;
	sigset_t old;
	if (block) {
		/* Held off everywhere but inside epoll_pwait(). */
		if (sigprocmask(SIG_BLOCK, block, &old) < 0)
			return -1;
		l->wait_mask = old;
	} else {
		sigprocmask(SIG_SETMASK, NULL, &l->wait_mask);
	}
	return 0;
}

void el_free(el_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

static uint32_t to_epoll(int mask)
{
	return (mask & EL_READ ? EPOLLIN : 0) | (mask & EL_WRITE ? EPOLLOUT : 0);
}

int el_watch_add(el_loop *l, el_watch *w, int fd, int mask, el_proc *proc, void *data)
{
	w->fd = fd;
	w->mask = 0;
	w->proc = proc;
	w->data = data;
	return el_watch_set(l, w, mask);
}

int el_watch_set(el_loop *l, el_watch *w, int mask)
{
	if (mask == w->mask)
		return 0;
	struct epoll_event ev = {.events = to_epoll(mask), .data.ptr = w};
	int op = !w->mask ? EPOLL_CTL_ADD : mask ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
	if (epoll_ctl(l->epfd, op, w->fd, &ev) < 0)
		return -1;
	w->mask = mask;
	return 0;
}

void el_watch_del(el_loop *l, el_watch *w)
{
	if (w->mask)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->mask = 0;
}

void el_set_hooks(el_loop *l, int tick_ms, el_hook *tick, el_hook *before_sleep, void *data)
{
	l->tick_ms = tick_ms;
	l->tick = tick;
	l->before_sleep = before_sleep;
	l->hook_data = data;
	l->next_tick = el_now_ms() + (uint64_t)tick_ms;
}

void el_wake_at(el_loop *l, uint64_t at_ns)
{
	if (!l->wake_set || at_ns < l->wake_ns)
		l->wake_ns = at_ns;
	l->wake_set = true;
}

/* How long the next sleep may last: until the tick or the wake-up, -1 for
 * as long as it takes. */
static int sleep_ms(const el_loop *l)
{
	int timeout = -1;
	if (l->tick) {
		uint64_t now = el_now_ms();
		timeout = now >= l->next_tick ? 0 : (int)(l->next_tick - now);
	}
	if (l->wake_set) {
		uint64_t now = el_now_ns();
		/* rounded up: epoll counts milliseconds, and waking before the
		 * time would only mean another round trip to sleep again */
		uint64_t ms = now >= l->wake_ns ? 0 : (l->wake_ns - now + 999999) / 1000000;
		if (ms > INT_MAX)
			ms = INT_MAX;
		if (timeout < 0 || (int)ms < timeout)
			timeout = (int)ms;
	}
	return timeout;
}

int el_run(el_loop *l)
{
	struct epoll_event evs[EL_BATCH];

	l->stop = false;
	while (!l->stop) {
		if (l->before_sleep)
			l->before_sleep(l, l->hook_data);
		if (l->stop)
			break;
		int n = epoll_pwait(l->epfd, evs, EL_BATCH, sleep_ms(l), &l->wait_mask);
		l->now_ms = el_now_ms();
		l->wake_set = false; /* one sleep only */
		if (n < 0) {
			if (errno == EINTR)
				continue; /* a signal handler ran; its flag is seen by before_sleep */
			return -1;
		}
		for (int i = 0; i < n; i++) {
			el_watch *w = evs[i].data.ptr;
			uint32_t e = evs[i].events;
			int mask = 0;
			if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
				mask |= EL_READ;
			if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				mask |= EL_WRITE;
			/* Only what the watch still asks for: an earlier handler in
			 * this batch may have changed it. */
			mask &= w->mask;
			if (mask)
				w->proc(l, w, mask);
		}
		if (l->tick) {
			uint64_t now = n > 0 ? el_now_ms() : l->now_ms;
			if (now >= l->next_tick) {
				l->next_tick = now + (uint64_t)l->tick_ms;
				l->tick(l, l->hook_data);
			}
		}
	}
	return 0;
}

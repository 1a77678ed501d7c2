/* The event loop and the socket helpers: readiness reaches the right watch
 * with the right mask, interest changes take effect, the tick runs, a
 * one-shot wake-up ends one sleep, never early, a
 * signal that arrives outside epoll_pwait is not lost, addresses print as
 * HOST:PORT / [HOST]:PORT, and --port 0 gets a real port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/evloop.h"
#include "io/net.h"

struct seen {
	int calls, last_mask, ticks;
	char byte;
};

static void on_ready(el_loop *l, el_watch *w, int mask)
{
	struct seen *s = w->data;
	s->calls++;
	s->last_mask = mask;
	if (mask & EL_READ)
		assert_int_equal(read(w->fd, &s->byte, 1), 1);
	el_stop(l);
}

static void test_read_and_write_readiness(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	el_loop l;
	assert_int_equal(el_init(&l, NULL), 0);
	struct seen s = {0};
	el_watch w;
	assert_int_equal(el_watch_add(&l, &w, sv[0], EL_READ, on_ready, &s), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(el_run(&l), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.last_mask, EL_READ);
	assert_int_equal(s.byte, 'x');
	/* an empty socket is writable: asking for EL_WRITE reports it */
	assert_int_equal(el_watch_set(&l, &w, EL_WRITE), 0);
	assert_int_equal(el_run(&l), 0);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.last_mask, EL_WRITE);
	el_watch_del(&l, &w);
	el_free(&l);
	close(sv[0]);
	close(sv[1]);
}

static void count_tick(el_loop *l, void *data)
{
	struct seen *s = data;
	if (++s->ticks == 3)
		el_stop(l);
}

static void test_tick_without_events(void **state)
{
	el_loop l;
	assert_int_equal(el_init(&l, NULL), 0);
	struct seen s = {0};
	el_set_hooks(&l, 5, count_tick, NULL, &s);
	assert_int_equal(el_run(&l), 0);
	assert_int_equal(s.ticks, 3);
	el_free(&l);
}

static void test_interest_zero_silences(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	el_loop l;
	assert_int_equal(el_init(&l, NULL), 0);
	struct seen s = {0}, t = {0};
	el_watch w;
	assert_int_equal(el_watch_add(&l, &w, sv[0], EL_READ, on_ready, &s), 0);
	assert_int_equal(el_watch_set(&l, &w, 0), 0);
	assert_int_equal(write(sv[1], "y", 1), 1);
	el_set_hooks(&l, 5, count_tick, NULL, &t);
	assert_int_equal(el_run(&l), 0);
	assert_int_equal(s.calls, 0); /* readable, but nobody asked */
	assert_int_equal(el_watch_set(&l, &w, EL_READ), 0);
	el_set_hooks(&l, 0, NULL, NULL, NULL);
	assert_int_equal(el_run(&l), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.byte, 'y');
	el_free(&l);
	close(sv[0]);
	close(sv[1]);
}

/* A before_sleep hook that plans wake-ups: call 1 sets them, later calls
 * only note the time; it stops the loop at call `stop_at` (0: never). */
struct planner {
	int calls, stop_at;
	uint64_t wake[2];      /* offsets from call 1, ns; 0: none */
	uint64_t first, target, woke;
};

static void plan_wakes(el_loop *l, void *data)
{
	struct planner *p = data;
	uint64_t now = el_now_ns();
	if (++p->calls == 1) {
		p->first = now;
		for (int i = 0; i < 2; i++)
			if (p->wake[i])
				el_wake_at(l, now + p->wake[i]);
		p->target = now + p->wake[0];
	} else if (p->calls == 2) {
		p->woke = now;
	}
	if (p->calls == p->stop_at)
		el_stop(l);
}

static void stop_tick(el_loop *l, void *data)
{
	el_stop(l);
}

static void test_wake_at_never_early(void **state)
{
	el_loop l;
	assert_int_equal(el_init(&l, NULL), 0);
	/* 2.5 ms: a wake-up rounded down to whole milliseconds comes early */
	struct planner p = {.stop_at = 2, .wake = {2500000}};
	el_set_hooks(&l, 0, NULL, plan_wakes, &p);
	assert_int_equal(el_run(&l), 0);
	assert_int_equal(p.calls, 2);
	assert_true(p.woke >= p.target);
	el_free(&l);
}

static void test_wake_at_is_one_shot(void **state)
{
	el_loop l;
	assert_int_equal(el_init(&l, NULL), 0);
	/* woken once at +5 ms, then asleep until the tick ends the run: a
	 * wake-up that stayed set would spin the loop instead */
	struct planner p = {.wake = {5000000}};
	el_set_hooks(&l, 150, stop_tick, plan_wakes, &p);
	assert_int_equal(el_run(&l), 0);
	assert_int_equal(p.calls, 2);
	assert_true(p.woke >= p.target);
	el_free(&l);
}

static void test_wake_at_earlier_wins(void **state)
{
	el_loop l;
	assert_int_equal(el_init(&l, NULL), 0);
	struct planner p = {.stop_at = 2, .wake = {5000000, 3000000000u}};
	el_set_hooks(&l, 0, NULL, plan_wakes, &p);
	assert_int_equal(el_run(&l), 0);
	assert_int_equal(p.calls, 2);
	assert_true(p.woke >= p.target);
	assert_true(p.woke - p.first < 1000000000u); /* not the 3 s one */
	el_free(&l);
}

static volatile sig_atomic_t got_signal;
static void on_usr1(int sig) { got_signal = 1; }
static void stop_on_signal(el_loop *l, void *data)
{
	if (got_signal)
		el_stop(l);
}

static void test_signal_before_sleep_not_lost(void **state)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_SETMASK, NULL, &old);
	el_loop l;
	assert_int_equal(el_init(&l, &block), 0);
	/* raised while blocked (outside epoll_pwait): it must be delivered
	 * when the loop sleeps, and the loop must wake for it with no tick */
	raise(SIGUSR1);
	assert_int_equal(got_signal, 0);
	el_set_hooks(&l, 0, NULL, stop_on_signal, NULL);
	assert_int_equal(el_run(&l), 0);
	assert_int_equal(got_signal, 1);
	el_free(&l);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void test_addr_str(void **state)
{
	char buf[NET_ADDR_STRLEN];
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(65432)};
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	net_addr_str((struct sockaddr *)&in, buf, sizeof buf);
	assert_string_equal(buf, "127.0.0.1:65432");
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(1)};
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	net_addr_str((struct sockaddr *)&in6, buf, sizeof buf);
	assert_string_equal(buf, "[::1]:1");
	/* A link-local address means nothing without its interface: the
	 * scope is shown as getaddrinfo() takes it back (fe80::1%lo). */
	inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
	in6.sin6_scope_id = if_nametoindex("lo");
	assert_true(in6.sin6_scope_id != 0);
	net_addr_str((struct sockaddr *)&in6, buf, sizeof buf);
	assert_string_equal(buf, "[fe80::1%lo]:1");
	/* the longest address with a scope still fits */
	inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &in6.sin6_addr);
	in6.sin6_port = htons(65535);
	net_addr_str((struct sockaddr *)&in6, buf, sizeof buf);
	assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%lo]:65535");
}

static void test_listen_port_zero(void **state)
{
	char err[256];
	int fd = net_listen("127.0.0.1", "0", 16, err, sizeof err);
	assert_true(fd >= 0);
	int port = net_local_port(fd);
	assert_true(port > 0 && port < 65536);
	char where[NET_ADDR_STRLEN], want[NET_ADDR_STRLEN];
	net_sock_str(fd, 0, where, sizeof where);
	snprintf(want, sizeof want, "127.0.0.1:%d", port);
	assert_string_equal(where, want);
	/* the same port again is refused, with the reason */
	char p[16];
	snprintf(p, sizeof p, "%d", port);
	assert_int_equal(net_listen("127.0.0.1", p, 16, err, sizeof err), -1);
	assert_non_null(strstr(err, "Address already in use"));
	close(fd);
	assert_int_equal(net_listen("no-such-host.invalid", "0", 16, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot resolve 'no-such-host.invalid'"));
}

int main(void)
{
	/* a loop that misses its wake-up would hang: fail instead */
	alarm(20);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_and_write_readiness),
		cmocka_unit_test(test_tick_without_events),
		cmocka_unit_test(test_interest_zero_silences),
		cmocka_unit_test(test_wake_at_never_early),
		cmocka_unit_test(test_wake_at_is_one_shot),
		cmocka_unit_test(test_wake_at_earlier_wins),
		cmocka_unit_test(test_signal_before_sleep_not_lost),
		cmocka_unit_test(test_addr_str),
		cmocka_unit_test(test_listen_port_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

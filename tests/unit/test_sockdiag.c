/*
 * Unit tests of stall/sockdiag on real sockets: a listener on loopback
 * that never reads and a non-blocking client that writes until EAGAIN.
 * The server socket's Recv-Q and the client socket's Send-Q are then > 0,
 * and sock_diag must report both, with tcp_info, and find this process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stall/sockdiag.h"

struct pair {
	int lfd, sfd, cfd;
	uint16_t port, cport;
};

static int pair_open(struct pair *p)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof a) || listen(p->lfd, 4) ||
	    getsockname(p->lfd, (struct sockaddr *)&a, &al))
		return -1;
	p->port = ntohs(a.sin_port);
	p->cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (p->cfd < 0 || connect(p->cfd, (struct sockaddr *)&a, sizeof a))
		return -1;
	p->sfd = accept(p->lfd, NULL, NULL);
	if (p->sfd < 0 || getsockname(p->cfd, (struct sockaddr *)&a, &al))
		return -1;
	p->cport = ntohs(a.sin_port);
	fcntl(p->cfd, F_SETFL, O_NONBLOCK);
	static char buf[65536];
	memset(buf, 'x', sizeof buf);
	/* Write until the kernel will take no more: the server never reads. */
	for (int i = 0; i < 100000; i++) {
		ssize_t n = write(p->cfd, buf, sizeof buf);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -1;
	}
	return -1;
}

struct seen {
	struct pair *p;
	bool server, client, listener;
	sockdiag_sock srv, cli;
	int count;
};

static void on_sock(void *u, const sockdiag_sock *s)
{
	struct seen *x = u;
	x->count++;
	if (s->local.port == x->p->port && s->remote.port == x->p->cport) {
		x->server = true;
		x->srv = *s;
	} else if (s->local.port == x->p->cport && s->remote.port == x->p->port) {
		x->client = true;
		x->cli = *s;
	} else if (s->local.port == x->p->port && s->remote.port == 0) {
		x->listener = true;
	}
}

static void queues_of_a_stalled_pair(void **state)
{
	struct pair p;
	assert_int_equal(pair_open(&p), 0);
	char err[200];
	sockdiag *sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	struct seen x = {.p = &p};
	int n = sockdiag_query(sd, &p.port, 1, true, on_sock, &x, err, sizeof err);
	assert_true(n >= 3);
	assert_int_equal(n, x.count);
	assert_true(x.server && x.client && x.listener);
	assert_true(x.srv.rqueue > 0);
	assert_true(x.cli.wqueue > 0);
	assert_int_equal(x.srv.state, 1);            /* ESTABLISHED */
	assert_string_equal(sockdiag_state_name(x.srv.state), "ESTAB");
	/* tcp_info: copied by its length; the server has received what sits
	 * in its Recv-Q, the client has unsent data and the peer's window is shut
	 * or nearly so. */
	assert_true(x.srv.info_len > 0 && x.cli.info_len > 0);
	assert_true(sockdiag_has(&x.srv, tcpi_bytes_received));
	assert_true(x.srv.info.tcpi_bytes_received >= x.srv.rqueue);
	assert_true(sockdiag_has(&x.cli, tcpi_notsent_bytes));
	assert_true(x.cli.info.tcpi_notsent_bytes > 0);
	/* IPv4 as IPv4-mapped IPv6, like flow.h */
	assert_int_equal(x.srv.local.addr[10], 0xff);
	assert_int_equal(x.srv.local.addr[12], 127);

	/* the owner is this process */
	sockdiag_procs *pr = sockdiag_procs_new(16, 0);
	assert_non_null(pr);
	sockdiag_proc proc;
	sockdiag_procs_want(pr, x.srv.inode);
	sockdiag_procs_want(pr, x.cli.inode);
	assert_true(sockdiag_procs_lookup(pr, x.srv.inode, 0, &proc));
	assert_int_equal(proc.pid, getpid());
	assert_int_equal(proc.fd, p.sfd);
	assert_true(sockdiag_procs_lookup(pr, x.cli.inode, 0, &proc));
	assert_int_equal(proc.fd, p.cfd);
	sockdiag_procs_free(pr);

	/* a port nobody uses: nothing */
	struct seen none = {.p = &p};
	uint16_t other = (uint16_t)(p.port ^ 0x5555);
	if (other == p.cport)
		other++;
	assert_int_equal(sockdiag_query(sd, &other, 1, false, on_sock, &none, err, sizeof err) >= 0, 1);
	assert_false(none.server || none.client);

	sockdiag_close(sd);
	close(p.cfd);
	close(p.sfd);
	close(p.lfd);
}

static void sampler_batches(void **state)
{
	struct pair p;
	assert_int_equal(pair_open(&p), 0);
	char err[200];
	sockdiag_sampler_config c = {.interval = 0.02, .ports = &p.port, .nports = 1,
				     .max_sockets = 16, .max_batches = 4, .procs = true};
	sockdiag_sampler *s = sockdiag_sampler_start(&c, err, sizeof err);
	assert_non_null(s);
	sockdiag_sampler_sample_now(s);
	sockdiag_batch *b = sockdiag_sampler_next(s, sockdiag_now() + 1);
	assert_non_null(b);
	/* listeners are left out: two established sockets */
	assert_int_equal(b->n, 2);
	bool rq = false, wq = false;
	for (size_t i = 0; i < b->n; i++) {
		rq |= b->socks[i].rqueue > 0;
		wq |= b->socks[i].wqueue > 0;
		assert_int_equal(b->procs[i].pid, getpid());
	}
	assert_true(rq && wq);
	sockdiag_batch_free(b);
	/* nothing from the future */
	assert_null(sockdiag_sampler_next(s, 0));
	sockdiag_sampler_stop(s);
	close(p.cfd);
	close(p.sfd);
	close(p.lfd);
}

/* Drains the sampler's queue; returns the socket count of the newest
 * batch, or -1 if none was queued. */
static int last_batch_n(sockdiag_sampler *sm)
{
	int n = -1;
	sockdiag_batch *b;
	while ((b = sockdiag_sampler_next(sm, sockdiag_now() + 1))) {
		n = (int)b->n;
		sockdiag_batch_free(b);
	}
	return n;
}

static void exact_lookups(void **state)
{
	struct pair p;
	assert_int_equal(pair_open(&p), 0);
	char err[200];
	flow_ep srv = {.port = p.port}, cli = {.port = p.cport};
	srv.addr[10] = srv.addr[11] = cli.addr[10] = cli.addr[11] = 0xff;
	srv.addr[12] = cli.addr[12] = 127;
	srv.addr[15] = cli.addr[15] = 1;
	sockdiag *sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	sockdiag_sock s;
	assert_int_equal(sockdiag_get(sd, &srv, &cli, true, &s, err, sizeof err), 1);
	assert_true(s.rqueue > 0 && s.info_len > 0);
	assert_int_equal(sockdiag_get(sd, &cli, &srv, true, &s, err, sizeof err), 1);
	assert_true(s.wqueue > 0);
	flow_ep nobody = cli;
	nobody.port ^= 0x4444;
	assert_int_equal(sockdiag_get(sd, &srv, &nobody, true, &s, err, sizeof err), 0);
	sockdiag_close(sd);

	/* the sampler, told which stream to watch, finds both ends */
	sockdiag_sampler_config c = {.interval = 10, .max_sockets = 16, .max_batches = 4,
				     .max_targets = 4};
	sockdiag_sampler *sm = sockdiag_sampler_start(&c, err, sizeof err);
	assert_non_null(sm);
	flow_key k;
	bool lo;
	flow_key_make(&k, &cli, &srv, &lo);
	sockdiag_sampler_watch(sm, &k);
	sockdiag_sampler_watch(sm, &k);   /* twice: once */
	/* The sampler thread takes its own first sample when it starts, at a
	 * moment the test does not control, so a batch from before or after
	 * watch may be queued next to ours; the newest one, queued by the
	 * synchronous sample, is the one that must see the change. */
	sockdiag_sampler_sample_now(sm);
	assert_int_equal(last_batch_n(sm), 2);
	sockdiag_sampler_unwatch(sm, &k);
	sockdiag_sampler_sample_now(sm);
	assert_int_equal(last_batch_n(sm), 0);
	sockdiag_sampler_stop(sm);
	close(p.cfd);
	close(p.sfd);
	close(p.lfd);
}

/* The same over IPv6 on ::1, by exact lookup and by dump (skipped if the
 * host has no IPv6 loopback). */
static void ipv6_pair(void **state)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t al = sizeof a;
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4)) {
		if (l >= 0)
			close(l);
		skip();
	}
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
	int sfd = accept(l, NULL, NULL);
	assert_true(sfd >= 0);
	assert_int_equal(write(c, "hello", 5), 5);
	usleep(20000);
	struct sockaddr_in6 ca;
	socklen_t cl = sizeof ca;
	assert_int_equal(getsockname(c, (struct sockaddr *)&ca, &cl), 0);
	flow_ep srv = {.port = ntohs(a.sin6_port)}, cli = {.port = ntohs(ca.sin6_port)};
	memcpy(srv.addr, &a.sin6_addr, 16);
	memcpy(cli.addr, &ca.sin6_addr, 16);
	char err[200];
	sockdiag *sd = sockdiag_open(err, sizeof err);
	assert_non_null(sd);
	sockdiag_sock s;
	assert_int_equal(sockdiag_get(sd, &srv, &cli, true, &s, err, sizeof err), 1);
	assert_int_equal(s.family, AF_INET6);
	assert_int_equal(s.rqueue, 5);
	struct pair p = {.port = srv.port, .cport = cli.port};
	struct seen x = {.p = &p};
	assert_true(sockdiag_query(sd, &p.port, 1, false, on_sock, &x, err, sizeof err) >= 3);
	assert_true(x.server && x.client && x.listener);
	assert_int_equal(x.srv.rqueue, 5);
	sockdiag_close(sd);
	close(c);
	close(sfd);
	close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(queues_of_a_stalled_pair),
		cmocka_unit_test(sampler_batches),
		cmocka_unit_test(exact_lookups),
		cmocka_unit_test(ipv6_pair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

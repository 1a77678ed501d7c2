/*
 * jmsg sockets: this protocol's sockets on this host and their queues, the
 * view the tutorial gets from `netstat -an | grep 65432`, straight from
 * NETLINK_SOCK_DIAG (sockdiag.h), with the owning process.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "stall/sockdiag.h"
#include "jmsg.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: jmsg sockets [--port P]... [--watch [SECS]] [--info] [--json]\n"
"\n"
"List this host's TCP sockets of the protocol, with their queues, as netstat\n"
"and ss show them: Recv-Q is data received but not yet read by the program,\n"
"Send-Q data written but not yet acknowledged by the peer (for a listener,\n"
"the accept queue and its limit).  A Recv-Q that stays up means a program\n"
"stopped reading; the peer's Send-Q then grows.\n"
"\n"
"  --port P        a server port (repeatable; default %d)\n"
"  --watch [SECS]  print the table again every SECS seconds (default 1),\n"
"                  until interrupted\n"
"  --count N       with --watch: stop after N tables\n"
"  --info          add tcp_info columns: notsent, unacked, snd_wnd,\n"
"                  rcv_wnd, rwnd_limited (ms)\n"
"  --json          one JSON object per socket (and per table, a \"time\")\n"
"\n"
"exit status: 0 listed (even if none), 1 the kernel could not be asked\n"
"(no NETLINK_SOCK_DIAG), 2 bad command line.\n",
		JM_SPEC_DEFAULT_PORT);
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "jmsg sockets: %s '%s' (see 'jmsg sockets --help')\n", what, arg);
	return EXIT_USAGE;
}

struct row {
	sockdiag_sock s;
	sockdiag_proc p;
};

struct rows {
	struct row *r;
	size_t n, cap;
	bool oom;
};

static void collect(void *user, const sockdiag_sock *s)
{
	struct rows *rs = user;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 32;
		struct row *nr = realloc(rs->r, cap * sizeof *nr);
		if (!nr) {
			rs->oom = true;
			return;
		}
		rs->r = nr;
		rs->cap = cap;
	}
	memset(&rs->r[rs->n].p, 0, sizeof rs->r[rs->n].p);
	rs->r[rs->n++].s = *s;
}

/* --json: one object per socket, and with --watch one per table first. */
static void print_json(struct rows *rs, bool info, bool watch)
{
	char l[64], f[64];
	jm_buf b = {0};
	if (watch)
		printf("{\"time\":%.6f,\"sockets\":%zu}\n", sockdiag_now(), rs->n);
	for (size_t i = 0; i < rs->n; i++) {
		const sockdiag_sock *s = &rs->r[i].s;
		const sockdiag_proc *p = &rs->r[i].p;
		flow_ep_format(&s->local, l, sizeof l);
		flow_ep_format(&s->remote, f, sizeof f);
		printf("{\"proto\":\"%s\",\"recvq\":%u,\"sendq\":%u,\"local\":\"%s\",\"foreign\":\"%s\","
		       "\"state\":\"%s\",\"inode\":%llu",
		       s->family == AF_INET6 ? "tcp6" : "tcp", s->rqueue, s->wqueue, l, f,
		       sockdiag_state_name(s->state), (unsigned long long)s->inode);
		if (p->pid) {
			b.len = b.off = 0;
			if (!jm_json_quote(&b, p->comm, strlen(p->comm)))
				printf(",\"pid\":%d,\"fd\":%d,\"comm\":%.*s", (int)p->pid, p->fd,
				       (int)jm_buf_pending(&b), (const char *)jm_buf_head(&b));
		}
		if (info && s->info_len) {
			printf(",\"notsent\":%u,\"unacked\":%u", s->info.tcpi_notsent_bytes,
			       s->info.tcpi_unacked);
			uint32_t rw;
			if (sockdiag_has(s, tcpi_snd_wnd))
				printf(",\"snd_wnd\":%u", s->info.tcpi_snd_wnd);
			if (sockdiag_rcv_wnd(s, &rw))
				printf(",\"rcv_wnd\":%u", rw);
			if (sockdiag_has(s, tcpi_rwnd_limited))
				printf(",\"rwnd_limited_ms\":%llu",
				       (unsigned long long)(s->info.tcpi_rwnd_limited / 1000));
		}
		printf("}\n");
	}
	jm_buf_free(&b);
}

/* The netstat table, with --watch under the time of day. */
static void print_text(struct rows *rs, bool info, bool watch)
{
	char l[64], f[64];
	if (watch) {
		time_t now = time(NULL);
		struct tm tm;
		char ts[32];
		strftime(ts, sizeof ts, "%H:%M:%S", localtime_r(&now, &tm));
		printf("%s\n", ts);
	}
	printf("%-5s %8s %8s %-28s %-28s %-11s", "Proto", "Recv-Q", "Send-Q", "Local Address",
	       "Foreign Address", "State");
	if (info)
		printf(" %8s %8s %8s %8s %8s", "notsent", "unacked", "snd_wnd", "rcv_wnd", "rwnd_ms");
	printf(" %s\n", "Process");
	for (size_t i = 0; i < rs->n; i++) {
		const sockdiag_sock *s = &rs->r[i].s;
		const sockdiag_proc *p = &rs->r[i].p;
		flow_ep_format(&s->local, l, sizeof l);
		if (s->state == 10)   /* LISTEN: no peer */
			snprintf(f, sizeof f, "*:*");
		else
			flow_ep_format(&s->remote, f, sizeof f);
		printf("%-5s %8u %8u %-28s %-28s %-11s", s->family == AF_INET6 ? "tcp6" : "tcp", s->rqueue,
		       s->wqueue, l, f, sockdiag_state_name(s->state));
		if (info) {
			uint32_t rw;
			if (s->info_len && sockdiag_has(s, tcpi_snd_wnd) && sockdiag_rcv_wnd(s, &rw))
				printf(" %8u %8u %8u %8u %8llu", s->info.tcpi_notsent_bytes, s->info.tcpi_unacked,
				       s->info.tcpi_snd_wnd, rw,
				       (unsigned long long)(s->info.tcpi_rwnd_limited / 1000));
			else if (s->info_len && sockdiag_has(s, tcpi_snd_wnd))
				printf(" %8u %8u %8u %8s %8llu", s->info.tcpi_notsent_bytes, s->info.tcpi_unacked,
				       s->info.tcpi_snd_wnd, "-",
				       (unsigned long long)(s->info.tcpi_rwnd_limited / 1000));
			else
				printf(" %8s %8s %8s %8s %8s", "-", "-", "-", "-", "-");
		}
		if (p->pid)
			printf(" %s[%d] fd %d\n", p->comm, (int)p->pid, p->fd);
		else
			printf(" -\n");
	}
	if (!rs->n)
		printf("(no sockets)\n");
}

static void print_table(struct rows *rs, bool info, bool json, bool watch)
{
	if (json)
		print_json(rs, info, watch);
	else
		print_text(rs, info, watch);
}

int sockets_main(int argc, char **argv)
{
	enum { O_PORT = 256, O_WATCH, O_COUNT, O_INFO, O_JSON };
	static const struct option longopts[] = {
		{"port", required_argument, NULL, O_PORT},
		{"watch", optional_argument, NULL, O_WATCH},
		{"count", required_argument, NULL, O_COUNT},
		{"info", no_argument, NULL, O_INFO},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint16_t ports[64];
	size_t nports = 0;
	bool watch = false, info = false, json = false;
	double every = 1.0;
	long count = 0;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case O_PORT: {
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 65535)
				return bad("--port wants a port from 1 to 65535, not", optarg);
			if (nports == 64)
				return bad("at most 64 ports; one too many:", optarg);
			ports[nports++] = (uint16_t)v;
			break;
		}
		case O_WATCH:
			watch = true;
			/* "--watch 2" as well as "--watch=2" */
			if (!optarg && optind < argc && argv[optind][0] >= '0' && argv[optind][0] <= '9')
				optarg = argv[optind++];
			if (optarg) {
				errno = 0;
				every = strtod(optarg, &end);
				if (errno || end == optarg || *end || !(every >= 0.05) || every > 86400)
					return bad("--watch wants seconds from 0.05 to 86400, not", optarg);
			}
			break;
		case O_COUNT:
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || count < 1)
				return bad("--count wants a positive number, not", optarg);
			break;
		case O_INFO: info = true; break;
		case O_JSON: json = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			if (optopt == O_PORT || optopt == O_COUNT)
				return bad("option needs a value:", argv[optind - 1]);
			return bad("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument", argv[optind]);
	if (!nports)
		ports[nports++] = JM_SPEC_DEFAULT_PORT;

	char err[200];
	sockdiag *sd = sockdiag_open(err, sizeof err);
	if (!sd) {
		fprintf(stderr, "jmsg sockets: %s\n", err);
		return EXIT_RUNTIME;
	}
	sockdiag_procs *procs = sockdiag_procs_new(4096, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	int rc = EXIT_OK;
	struct rows rs = {0};
	for (long n = 0; !stop; n++) {
		rs.n = 0;
		rs.oom = false;
		if (sockdiag_query(sd, ports, nports, info, collect, &rs, err, sizeof err) < 0) {
			fprintf(stderr, "jmsg sockets: %s\n", err);
			rc = EXIT_RUNTIME;
			break;
		}
		if (rs.oom) {
			fprintf(stderr, "jmsg sockets: out of memory listing sockets\n");
			rc = EXIT_RUNTIME;
			break;
		}
		for (size_t i = 0; i < rs.n && procs; i++)
			sockdiag_procs_want(procs, rs.r[i].s.inode);
		for (size_t i = 0; i < rs.n && procs; i++)
			sockdiag_procs_lookup(procs, rs.r[i].s.inode, sockdiag_now(), &rs.r[i].p);
		print_table(&rs, info, json, watch);
		if (!watch || (count && n + 1 >= count))
			break;
		if (!json)
			printf("\n");
		struct timespec ts = {(time_t)every, (long)((every - (double)(time_t)every) * 1e9)};
		while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	free(rs.r);
	sockdiag_procs_free(procs);
	sockdiag_close(sd);
	return rc;
}

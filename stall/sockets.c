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
#include "cmd/opts.h"
#include "cmd/version.h"
#include "stall/sockdiag.h"
#include "stall/sockets.h"
#include "jmsg.h"

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
"                  until interrupted: on a terminal it is redrawn in place,\n"
"                  as watch(1) does; piped, each table is appended\n"
"  --count N       with --watch: stop after N tables\n"
"  --info          add tcp_info columns: notsent, unacked, snd_wnd,\n"
"                  rcv_wnd, rwnd_limited (ms)\n"
"  --json          one JSON line per socket, {\"event\":\"socket\",...}, and\n"
"                  with --watch one per table first, {\"event\":\"table\",...}\n"
"  --version       jmsg's version, the spec's, libpcap's and json-c's\n"
"\n"
OPT_DURATION_HELP
"exit status: 0 listed (even if none), 1 the kernel could not be asked\n"
"(no NETLINK_SOCK_DIAG), 2 bad command line.\n",
		JM_SPEC_DEFAULT_PORT);
}

static int bad(jm_buf *err, const char *what, const char *arg)
{
	jm_buf_printf(err, "jmsg sockets: %s '%s' (see 'jmsg sockets --help')", what, arg);
	return JM_EXIT_USAGE;
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
		printf("{\"event\":\"table\",\"time\":%.6f,\"sockets\":%zu}\n", sockdiag_now(),
		       rs->n);
	for (size_t i = 0; i < rs->n; i++) {
		const sockdiag_sock *s = &rs->r[i].s;
		const sockdiag_proc *p = &rs->r[i].p;
		flow_ep_format(&s->local, l, sizeof l);
		flow_ep_format(&s->remote, f, sizeof f);
		printf("{\"event\":\"socket\",\"proto\":\"%s\",\"recvq\":%u,\"sendq\":%u,\"local\":\"%s\",\"foreign\":\"%s\","
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

int sockets_parse_args(int argc, char **argv, sockets_args *a, jm_buf *err)
{
	enum { O_PORT = 256, O_WATCH, O_COUNT, O_INFO, O_JSON, O_VERSION };
	static const struct option longopts[] = {
		{"port", required_argument, NULL, O_PORT},
		{"watch", optional_argument, NULL, O_WATCH},
		{"count", required_argument, NULL, O_COUNT},
		{"info", no_argument, NULL, O_INFO},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof *a);
	a->every = 1.0;
	int c;
	optind = 0;   /* glibc: start afresh, even after a parse left mid-argument */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case O_PORT: {
			uint16_t port;
			if (opt_port_buf(err, "sockets", "--port", optarg, &port) < 0) {
				jm_buf_printf(err, " (see 'jmsg sockets --help')");
				return JM_EXIT_USAGE;
			}
			if (a->nports == SOCKETS_MAX_PORTS)
				return bad(err, "at most 64 ports; one too many:", optarg);
			a->ports[a->nports++] = port;
			break;
		}
		case O_WATCH:
			a->watch = true;
			/* "--watch 2" as well as "--watch=2" */
			if (!optarg && optind < argc && argv[optind][0] >= '0' && argv[optind][0] <= '9')
				optarg = argv[optind++];
			if (optarg) {
				uint64_t ns;
				if (opt_duration_buf(err, "sockets", "--watch", optarg, OPT_S, 50 * OPT_MS,
						     86400 * OPT_S, &ns) < 0) {
					jm_buf_printf(err, " (see 'jmsg sockets --help')");
					return JM_EXIT_USAGE;
				}
				a->every = (double)ns / 1e9;
			}
			break;
		case O_COUNT:
			errno = 0;
			a->count = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || a->count < 1)
				return bad(err, "--count wants a positive number, not", optarg);
			break;
		case O_INFO: a->info = true; break;
		case O_JSON: a->json = true; break;
		case 'h': a->help = true; return JM_EXIT_OK;
		case O_VERSION: a->version = true; return JM_EXIT_OK;
		default:
			if (optopt == O_PORT || optopt == O_COUNT)
				return bad(err, "option needs a value:", argv[optind - 1]);
			return bad(err, "unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad(err, "unexpected argument", argv[optind]);
	if (!a->nports)
		a->ports[a->nports++] = JM_SPEC_DEFAULT_PORT;
	return JM_EXIT_OK;
}

/* One listing: the sockets of a's ports, their processes, the table. */
static int list_once(sockdiag *sd, sockdiag_procs *procs, const sockets_args *a, struct rows *rs)
{
	char err[200];
	rs->n = 0;
	rs->oom = false;
	if (sockdiag_query(sd, a->ports, a->nports, a->info, collect, rs, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg sockets: %s\n", err);
		return JM_EXIT_RUNTIME;
	}
	if (rs->oom) {
		fprintf(stderr, "jmsg sockets: out of memory listing sockets\n");
		return JM_EXIT_RUNTIME;
	}
	for (size_t i = 0; i < rs->n && procs; i++)
		sockdiag_procs_want(procs, rs->r[i].s.inode);
	for (size_t i = 0; i < rs->n && procs; i++)
		sockdiag_procs_lookup(procs, rs->r[i].s.inode, sockdiag_now(), &rs->r[i].p);
	if (a->json)
		print_json(rs, a->info, a->watch);
	else
		print_text(rs, a->info, a->watch);
	return JM_EXIT_OK;
}

int sockets_run(const sockets_args *a)
{
	char err[200];
	sockdiag *sd = sockdiag_open(err, sizeof err);
	if (!sd) {
		fprintf(stderr, "jmsg sockets: %s\n", err);
		return JM_EXIT_RUNTIME;
	}
	sockdiag_procs *procs = sockdiag_procs_new(4096, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* On a terminal the table is redrawn in place (cursor home, screen
	 * cleared, the whole table in one write); a pipe or a file gets every
	 * table appended, for a log.  JSON lines are always appended. */
	bool redraw = a->watch && !a->json && isatty(STDOUT_FILENO);
	if (redraw)
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	int rc = JM_EXIT_OK;
	struct rows rs = {0};
	for (long n = 0; !stop; n++) {
		if (redraw)
			fputs(SOCKETS_REDRAW, stdout);
		rc = list_once(sd, procs, a, &rs);
		fflush(stdout);
		if (rc != JM_EXIT_OK)
			break;
		if (!a->watch || (a->count && n + 1 >= a->count))
			break;
		if (!a->json && !redraw)
			printf("\n");
		struct timespec ts = {(time_t)a->every,
				      (long)((a->every - (double)(time_t)a->every) * 1e9)};
		while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	free(rs.r);
	sockdiag_procs_free(procs);
	sockdiag_close(sd);
	return rc;
}

int sockets_main(int argc, char **argv)
{
	sockets_args a;
	jm_buf err = {0};
	int rc = sockets_parse_args(argc, argv, &a, &err);
	if (rc != JM_EXIT_OK)
		return opt_usage_error(&err, rc);
	if (a.help) {
		usage(stdout);
		return JM_EXIT_OK;
	}
	if (a.version)
		return jm_print_version(stdout);
	return sockets_run(&a);
}

/*
 * sockdiag: NETLINK_SOCK_DIAG queries, /proc process lookup, and the
 * sampling thread.  See sockdiag.h.
 */
#include "stall/sockdiag.h"

#include <dirent.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* TCP states as the kernel numbers them (include/net/tcp_states.h); the
 * uapi headers do not export them next to struct tcp_info. */
enum {
	SD_ESTABLISHED = 1, SD_SYN_SENT, SD_SYN_RECV, SD_FIN_WAIT1, SD_FIN_WAIT2,
	SD_TIME_WAIT, SD_CLOSE, SD_CLOSE_WAIT, SD_LAST_ACK, SD_LISTEN, SD_CLOSING,
	SD_NEW_SYN_RECV, SD_STATE_MAX
};

static const char *const state_names[SD_STATE_MAX] = {
	[SD_ESTABLISHED] = "ESTAB", [SD_SYN_SENT] = "SYN-SENT", [SD_SYN_RECV] = "SYN-RECV",
	[SD_FIN_WAIT1] = "FIN-WAIT-1", [SD_FIN_WAIT2] = "FIN-WAIT-2",
	[SD_TIME_WAIT] = "TIME-WAIT", [SD_CLOSE] = "UNCONN", [SD_CLOSE_WAIT] = "CLOSE-WAIT",
	[SD_LAST_ACK] = "LAST-ACK", [SD_LISTEN] = "LISTEN", [SD_CLOSING] = "CLOSING",
	[SD_NEW_SYN_RECV] = "SYN-RECV",
};

bool sockdiag_rcv_wnd(const sockdiag_sock *s, uint32_t *out)
{
	size_t off = offsetof(struct tcp_info, tcpi_snd_wnd) + sizeof(uint32_t);
	if (s->info_len < off + sizeof(uint32_t))
		return false;
	memcpy(out, s->info_raw + off, sizeof *out);
	return true;
}

const char *sockdiag_state_name(uint8_t state)
{
	return state < SD_STATE_MAX && state_names[state] ? state_names[state] : "UNKNOWN";
}

double sockdiag_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- netlink */

struct sockdiag {
	int fd;
	uint32_t seq;
	uint8_t *buf;
	size_t buf_len;
};

sockdiag *sockdiag_open(char *err, size_t errlen)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open a NETLINK_SOCK_DIAG socket: %s", strerror(errno));
		return NULL;
	}
	sockdiag *sd = calloc(1, sizeof *sd);
	if (sd)
		sd->buf = malloc(sd->buf_len = 64 * 1024);
	if (!sd || !sd->buf) {
		if (sd)
			free(sd);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sd->fd = fd;
	return sd;
}

void sockdiag_close(sockdiag *sd)
{
	if (!sd)
		return;
	close(sd->fd);
	free(sd->buf);
	free(sd);
}

static void ep_from_diag(flow_ep *ep, uint8_t family, const __be32 *addr, __be16 port)
{
	memset(ep, 0, sizeof *ep);
	if (family == AF_INET) {
		ep->addr[10] = ep->addr[11] = 0xff;
		memcpy(ep->addr + 12, addr, 4);
	} else {
		memcpy(ep->addr, addr, 16);
	}
	ep->port = ntohs(port);
}

static bool port_wanted(const uint16_t *ports, size_t n, uint16_t a, uint16_t b)
{
	if (!n)
		return true;
	for (size_t i = 0; i < n; i++)
		if (ports[i] == a || ports[i] == b)
			return true;
	return false;
}

/* One inet_diag_msg and its attributes, every length checked against the
 * message's own length before it is read. */
static bool parse_msg(const struct nlmsghdr *h, bool with_info, sockdiag_sock *s)
{
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
		return false;
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return false;
	memset(s, 0, sizeof *s);
	s->family = m->idiag_family;
	s->state = m->idiag_state;
	ep_from_diag(&s->local, m->idiag_family, m->id.idiag_src, m->id.idiag_sport);
	ep_from_diag(&s->remote, m->idiag_family, m->id.idiag_dst, m->id.idiag_dport);
	s->rqueue = m->idiag_rqueue;
	s->wqueue = m->idiag_wqueue;
	s->uid = m->idiag_uid;
	s->inode = m->idiag_inode;
	if (!with_info)
		return true;
	const uint8_t *p = (const uint8_t *)m + NLMSG_ALIGN(sizeof *m);
	const uint8_t *end = (const uint8_t *)h + h->nlmsg_len;
	while (end - p >= (ptrdiff_t)sizeof(struct nlattr)) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < sizeof *a || a->nla_len > end - p)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO) {
			size_t n = a->nla_len - NLA_HDRLEN;
			if (n > sizeof s->info_raw)
				n = sizeof s->info_raw;
			memcpy(s->info_raw, p + NLA_HDRLEN, n);
			s->info_len = (uint32_t)n;
		}
		p += NLA_ALIGN(a->nla_len);
	}
	return true;
}

static int query_family(sockdiag *sd, uint8_t family, const uint16_t *ports, size_t nports,
			bool with_info, sockdiag_fn fn, void *user, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = sizeof req;
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = ++sd->seq;
	req.r.sdiag_family = family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~(1u << SD_TIME_WAIT) & ((1u << SD_STATE_MAX) - 1);
	if (with_info)
		req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(sd->fd, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(err, errlen, "sock_diag request failed: %s", strerror(errno));
		return -1;
	}
	int count = 0;
	for (;;) {
		ssize_t n = recv(sd->fd, sd->buf, sd->buf_len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "sock_diag reply failed: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			return count;
		size_t left = (size_t)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)sd->buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != sd->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return count;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				int code = h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) ? -e->error : EPROTO;
				/* No IPv6 in this kernel: nothing to list, not an error. */
				if (family == AF_INET6 && (code == ENOENT || code == EAFNOSUPPORT))
					return count;
				snprintf(err, errlen, "sock_diag: %s", strerror(code));
				return -1;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			sockdiag_sock s;
			if (!parse_msg(h, with_info, &s))
				continue;
			if (!port_wanted(ports, nports, s.local.port, s.remote.port))
				continue;
			fn(user, &s);
			count++;
		}
	}
}

static bool is_mapped(const flow_ep *e)
{
	static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return !memcmp(e->addr, pre, 12);
}

int sockdiag_get(sockdiag *sd, const flow_ep *local, const flow_ep *remote, bool with_info,
		 sockdiag_sock *out, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = sizeof req;
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = ++sd->seq;
	bool v4 = is_mapped(local) && is_mapped(remote);
	req.r.sdiag_family = v4 ? AF_INET : AF_INET6;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	if (with_info)
		req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	req.r.id.idiag_sport = htons(local->port);
	req.r.id.idiag_dport = htons(remote->port);
	memcpy(req.r.id.idiag_src, v4 ? local->addr + 12 : local->addr, v4 ? 4 : 16);
	memcpy(req.r.id.idiag_dst, v4 ? remote->addr + 12 : remote->addr, v4 ? 4 : 16);
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(sd->fd, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(err, errlen, "sock_diag request failed: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n = recv(sd->fd, sd->buf, sd->buf_len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "sock_diag reply failed: %s", strerror(errno));
			return -1;
		}
		size_t left = (size_t)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)sd->buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != sd->seq)
				continue;   /* a late answer to an earlier request */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				int code = h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) ? -e->error : EPROTO;
				if (code == ENOENT)
					return 0;
				snprintf(err, errlen, "sock_diag: %s", strerror(code));
				return -1;
			}
			/* The kernel's lookup falls back to a listener on the
			 * local port: only the exact socket counts. */
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				return parse_msg(h, with_info, out) && out->local.port == local->port &&
				       out->remote.port == remote->port &&
				       !memcmp(out->remote.addr, remote->addr, 16);
		}
		if (n == 0)
			return 0;
	}
}

int sockdiag_query(sockdiag *sd, const uint16_t *ports, size_t nports, bool with_info,
		   sockdiag_fn fn, void *user, char *err, size_t errlen)
{
	int a = query_family(sd, AF_INET, ports, nports, with_info, fn, user, err, errlen);
	if (a < 0)
		return -1;
	int b = query_family(sd, AF_INET6, ports, nports, with_info, fn, user, err, errlen);
	if (b < 0)
		return -1;
	return a + b;
}

/* ---------------------------------------------------------------- processes */

struct proc_entry {
	uint64_t inode;
	sockdiag_proc proc;
	bool resolved;            /* a walk has answered (found or not) */
};

struct sockdiag_procs {
	struct proc_entry *e;
	size_t n, max, next_evict;
	double min_interval, last_walk;
	bool walked;
};

sockdiag_procs *sockdiag_procs_new(size_t cache_max, double min_interval)
{
	sockdiag_procs *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->max = cache_max ? cache_max : 1;
	p->e = calloc(p->max, sizeof *p->e);
	if (!p->e) {
		free(p);
		return NULL;
	}
	p->min_interval = min_interval;
	return p;
}

void sockdiag_procs_free(sockdiag_procs *p)
{
	if (!p)
		return;
	free(p->e);
	free(p);
}

static struct proc_entry *cache_find(sockdiag_procs *p, uint64_t inode)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].inode == inode)
			return &p->e[i];
	return NULL;
}

static struct proc_entry *cache_add(sockdiag_procs *p, uint64_t inode)
{
	struct proc_entry *e;
	if (p->n < p->max) {
		e = &p->e[p->n++];
	} else {
		/* Full: overwrite round-robin; sockets come and go. */
		e = &p->e[p->next_evict];
		p->next_evict = (p->next_evict + 1) % p->max;
	}
	memset(e, 0, sizeof *e);
	e->inode = inode;
	return e;
}

static void read_comm(pid_t pid, char *out, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "re");
	out[0] = 0;
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

/* One walk of /proc/PID/fd answering every unresolved cache entry. */
static void walk_proc(sockdiag_procs *p)
{
	size_t pending = 0;
	for (size_t i = 0; i < p->n; i++)
		pending += !p->e[i].resolved;
	DIR *d = opendir("/proc");
	if (!d)
		goto done;
	struct dirent *de;
	while (pending && (de = readdir(d))) {
		char *endp;
		long pid = strtol(de->d_name, &endp, 10);
		if (*endp || pid <= 0)
			continue;
		char path[64];
		snprintf(path, sizeof path, "/proc/%ld/fd", pid);
		DIR *fdd = opendir(path);
		if (!fdd)
			continue;
		struct dirent *fe;
		while (pending && (fe = readdir(fdd))) {
			char lp[320], target[64];
			snprintf(lp, sizeof lp, "%s/%s", path, fe->d_name);
			ssize_t n = readlink(lp, target, sizeof target - 1);
			if (n < 9)
				continue;
			target[n] = 0;
			unsigned long long ino;
			if (sscanf(target, "socket:[%llu]", &ino) != 1)
				continue;
			struct proc_entry *e = cache_find(p, ino);
			if (!e || e->resolved)
				continue;
			e->resolved = true;
			e->proc.pid = (pid_t)pid;
			e->proc.fd = atoi(fe->d_name);
			read_comm((pid_t)pid, e->proc.comm, sizeof e->proc.comm);
			pending--;
		}
		closedir(fdd);
	}
	closedir(d);
done:
	for (size_t i = 0; i < p->n; i++)
		p->e[i].resolved = true;  /* not found: do not walk again for it */
}

void sockdiag_procs_want(sockdiag_procs *p, uint64_t inode)
{
	if (inode && !cache_find(p, inode))
		cache_add(p, inode);
}

bool sockdiag_procs_lookup(sockdiag_procs *p, uint64_t inode, double now, sockdiag_proc *out)
{
	memset(out, 0, sizeof *out);
	if (!inode)
		return false;
	struct proc_entry *e = cache_find(p, inode);
	if (!e)
		e = cache_add(p, inode);
	if (!e->resolved) {
		if (p->walked && now - p->last_walk < p->min_interval)
			return false;
		p->walked = true;
		p->last_walk = now;
		walk_proc(p);
	}
	*out = e->proc;
	return e->proc.pid != 0;
}

/* ---------------------------------------------------------------- sampler */

struct sockdiag_sampler {
	sockdiag_sampler_config cfg;
	uint16_t *ports;
	sockdiag *sd;
	sockdiag_procs *procs;
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	sockdiag_batch **q;       /* ring of queued batches */
	size_t qhead, qlen;
	sockdiag_sampler_stats st;
	/* the batch being filled, under sample_mu */
	sockdiag_batch *cur;
	size_t cur_cap;
	uint64_t cur_dropped;
	pthread_mutex_t sample_mu; /* one sample at a time */
	flow_key *targets;        /* under mu */
	size_t n_targets, cap_targets;
	bool targets_overflow;    /* more than max_targets: dump instead */
};

void sockdiag_batch_free(sockdiag_batch *b)
{
	if (!b)
		return;
	free(b->socks);
	free(b->procs);
	free(b);
}

static void collect(void *user, const sockdiag_sock *s)
{
	sockdiag_sampler *sm = user;
	/* Listeners' queues are the accept backlog: not a stream's. */
	if (s->state == SD_LISTEN || s->state == SD_CLOSE)
		return;
	sockdiag_batch *b = sm->cur;
	if (b->n == sm->cur_cap) {
		if (b->n >= sm->cfg.max_sockets) {
			sm->cur_dropped++;
			return;
		}
		size_t cap = sm->cur_cap ? sm->cur_cap * 2 : 16;
		if (cap > sm->cfg.max_sockets)
			cap = sm->cfg.max_sockets;
		sockdiag_sock *ns = realloc(b->socks, cap * sizeof *ns);
		if (!ns) {
			sm->cur_dropped++;
			return;
		}
		b->socks = ns;
		sm->cur_cap = cap;
	}
	b->socks[b->n++] = *s;
}

/* Look up each watched stream's two ends by their exact endpoints: O(1)
 * per socket, where a dump walks the kernel's whole established table
 * (tens of milliseconds on a host with a large one, whatever the port). */
static int sample_targets(sockdiag_sampler *sm, char *err, size_t errlen)
{
	pthread_mutex_lock(&sm->mu);
	size_t n = sm->n_targets;
	flow_key *k = n ? malloc(n * sizeof *k) : NULL;
	if (k)
		memcpy(k, sm->targets, n * sizeof *k);
	pthread_mutex_unlock(&sm->mu);
	if (n && !k)
		return 0;
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		for (int side = 0; side < 2; side++) {
			sockdiag_sock s;
			const flow_ep *l = side ? &k[i].hi : &k[i].lo, *r = side ? &k[i].lo : &k[i].hi;
			int rc = sockdiag_get(sm->sd, l, r, true, &s, err, errlen);
			if (rc < 0) {
				free(k);
				return -1;
			}
			if (rc > 0 && s.state != SD_TIME_WAIT) {
				collect(sm, &s);
				found++;
			}
		}
	}
	free(k);
	return found;
}

static void sample_once(sockdiag_sampler *sm)
{
	pthread_mutex_lock(&sm->sample_mu);
	sockdiag_batch *b = calloc(1, sizeof *b);
	if (!b) {
		pthread_mutex_unlock(&sm->sample_mu);
		return;
	}
	sm->cur = b;
	sm->cur_cap = 0;
	sm->cur_dropped = 0;
	char err[160];
	b->ts = sockdiag_now();
	pthread_mutex_lock(&sm->mu);
	bool targeted = sm->cfg.max_targets && !sm->targets_overflow;
	pthread_mutex_unlock(&sm->mu);
	int rc = targeted ? sample_targets(sm, err, sizeof err)
			  : sockdiag_query(sm->sd, sm->ports, sm->cfg.nports, true, collect, sm, err,
					   sizeof err);
	if (rc >= 0 && b->n) {
		b->procs = calloc(b->n, sizeof *b->procs);
		if (b->procs && sm->procs) {
			for (size_t i = 0; i < b->n; i++)
				sockdiag_procs_want(sm->procs, b->socks[i].inode);
			for (size_t i = 0; i < b->n; i++)
				sockdiag_procs_lookup(sm->procs, b->socks[i].inode, b->ts, &b->procs[i]);
		}
	}
	pthread_mutex_lock(&sm->mu);
	sm->st.samples++;
	sm->st.dropped_sockets += sm->cur_dropped;
	if (rc < 0) {
		sm->st.errors++;
		snprintf(sm->st.last_error, sizeof sm->st.last_error, "%s", err);
		sockdiag_batch_free(b);
	} else {
		if (sm->qlen == sm->cfg.max_batches) {
			sockdiag_batch_free(sm->q[sm->qhead]);
			sm->qhead = (sm->qhead + 1) % sm->cfg.max_batches;
			sm->qlen--;
			sm->st.dropped_batches++;
		}
		sm->q[(sm->qhead + sm->qlen) % sm->cfg.max_batches] = b;
		sm->qlen++;
	}
	pthread_mutex_unlock(&sm->mu);
	sm->cur = NULL;
	pthread_mutex_unlock(&sm->sample_mu);
}

static void *sampler_thread(void *arg)
{
	sockdiag_sampler *sm = arg;
	struct timespec next;
	clock_gettime(CLOCK_REALTIME, &next);
	for (;;) {
		sample_once(sm);
		long ns = (long)(sm->cfg.interval * 1e9);
		next.tv_sec += ns / 1000000000L;
		next.tv_nsec += ns % 1000000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&sm->mu);
		while (!sm->stop) {
			if (pthread_cond_timedwait(&sm->cv, &sm->mu, &next) == ETIMEDOUT)
				break;
		}
		bool stop = sm->stop;
		pthread_mutex_unlock(&sm->mu);
		if (stop)
			return NULL;
		/* Fell behind (a stopped process, a slow /proc walk): sample
		 * from now on rather than in a burst. */
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec > next.tv_sec + 1)
			next = now;
	}
}

sockdiag_sampler *sockdiag_sampler_start(const sockdiag_sampler_config *c, char *err, size_t errlen)
{
	sockdiag_sampler *sm = calloc(1, sizeof *sm);
	if (!sm) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sm->cfg = *c;
	if (sm->cfg.interval <= 0)
		sm->cfg.interval = 0.1;
	if (!sm->cfg.max_sockets)
		sm->cfg.max_sockets = 65536;
	if (!sm->cfg.max_batches)
		sm->cfg.max_batches = 256;
	if (c->nports) {
		sm->ports = malloc(c->nports * sizeof *sm->ports);
		if (!sm->ports) {
			free(sm);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		memcpy(sm->ports, c->ports, c->nports * sizeof *sm->ports);
	}
	sm->cfg.ports = sm->ports;
	sm->q = calloc(sm->cfg.max_batches, sizeof *sm->q);
	sm->sd = sockdiag_open(err, errlen);
	if (!sm->q || !sm->sd) {
		if (!sm->q)
			snprintf(err, errlen, "out of memory");
		sockdiag_close(sm->sd);
		free(sm->q);
		free(sm->ports);
		free(sm);
		return NULL;
	}
	if (c->procs)
		sm->procs = sockdiag_procs_new(4096, 1.0);
	pthread_mutex_init(&sm->mu, NULL);
	pthread_mutex_init(&sm->sample_mu, NULL);
	pthread_cond_init(&sm->cv, NULL);
	/* The thread takes no signals: SIGINT must reach the capture loop,
	 * whose handler breaks it. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&sm->thread, NULL, sampler_thread, sm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the sampling thread: %s", strerror(rc));
		sm->running = false;
		sockdiag_sampler_stop(sm);
		return NULL;
	}
	sm->running = true;
	return sm;
}

void sockdiag_sampler_stop(sockdiag_sampler *sm)
{
	if (!sm)
		return;
	if (sm->running) {
		pthread_mutex_lock(&sm->mu);
		sm->stop = true;
		pthread_cond_signal(&sm->cv);
		pthread_mutex_unlock(&sm->mu);
		pthread_join(sm->thread, NULL);
	}
	while (sm->qlen) {
		sockdiag_batch_free(sm->q[sm->qhead]);
		sm->qhead = (sm->qhead + 1) % sm->cfg.max_batches;
		sm->qlen--;
	}
	pthread_mutex_destroy(&sm->mu);
	pthread_mutex_destroy(&sm->sample_mu);
	pthread_cond_destroy(&sm->cv);
	sockdiag_procs_free(sm->procs);
	sockdiag_close(sm->sd);
	free(sm->q);
	free(sm->ports);
	free(sm->targets);
	free(sm);
}

static bool key_eq(const flow_key *a, const flow_key *b)
{
	return !memcmp(a->lo.addr, b->lo.addr, 16) && !memcmp(a->hi.addr, b->hi.addr, 16) &&
	       a->lo.port == b->lo.port && a->hi.port == b->hi.port;
}

void sockdiag_sampler_watch(sockdiag_sampler *sm, const flow_key *k)
{
	if (!sm->cfg.max_targets)
		return;
	pthread_mutex_lock(&sm->mu);
	bool have = false;
	for (size_t i = 0; i < sm->n_targets && !have; i++)
		have = key_eq(&sm->targets[i], k);
	if (!have) {
		if (sm->n_targets == sm->cfg.max_targets) {
			sm->targets_overflow = true;
		} else {
			if (sm->n_targets == sm->cap_targets) {
				size_t cap = sm->cap_targets ? sm->cap_targets * 2 : 16;
				flow_key *nk = realloc(sm->targets, cap * sizeof *nk);
				if (nk) {
					sm->targets = nk;
					sm->cap_targets = cap;
				}
			}
			if (sm->n_targets < sm->cap_targets)
				sm->targets[sm->n_targets++] = *k;
			else
				sm->targets_overflow = true;
		}
	}
	pthread_mutex_unlock(&sm->mu);
}

void sockdiag_sampler_unwatch(sockdiag_sampler *sm, const flow_key *k)
{
	if (!sm->cfg.max_targets)
		return;
	pthread_mutex_lock(&sm->mu);
	for (size_t i = 0; i < sm->n_targets; i++)
		if (key_eq(&sm->targets[i], k)) {
			sm->targets[i] = sm->targets[--sm->n_targets];
			break;
		}
	pthread_mutex_unlock(&sm->mu);
}

void sockdiag_sampler_sample_now(sockdiag_sampler *sm)
{
	sample_once(sm);
}

sockdiag_batch *sockdiag_sampler_next(sockdiag_sampler *sm, double until)
{
	sockdiag_batch *b = NULL;
	pthread_mutex_lock(&sm->mu);
	if (sm->qlen && sm->q[sm->qhead]->ts <= until) {
		b = sm->q[sm->qhead];
		sm->qhead = (sm->qhead + 1) % sm->cfg.max_batches;
		sm->qlen--;
	}
	pthread_mutex_unlock(&sm->mu);
	return b;
}

void sockdiag_sampler_stats_get(sockdiag_sampler *sm, sockdiag_sampler_stats *st)
{
	pthread_mutex_lock(&sm->mu);
	*st = sm->st;
	pthread_mutex_unlock(&sm->mu);
}

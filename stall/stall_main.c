/*
 * stall_main: the stall options of `jmsg analyze` and the wiring between
 * the capture loop, the kernel sampler and the stall tracker.  See the end
 * of stall.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/opts.h"
#include "stall/stall.h"

void stall_cli_init(stall_cli *c)
{
	memset(c, 0, sizeof *c);
	c->cfg.stall_ms = STALL_DEFAULT_MS;
	c->cfg.plot_stream = -1;
	c->sample_ms = STALL_DEFAULT_SAMPLE_MS;
}

const char *stall_cli_usage(void)
{
	return
"stalls (a receiver that stopped reading; reported as \"stall\" events):\n"
"  --stall-ms MS         shortest stall reported (default 200)\n"
"  --sample-ms MS        live: sample this host's sockets (Recv-Q, Send-Q,\n"
"                        tcp_info) of the --port streams every MS (default 100)\n"
"  --no-kernel           live: do not sample sockets, report the wire view only\n"
"  --plot FILE.svg       write a plot of one stream's window, bytes in flight\n"
"                        and, live, Recv-Q/Send-Q, stalls shaded (exit 1 if it\n"
"                        cannot be written)\n"
"  --plot-stream N       the stream to plot (default: the longest stalled)\n"
"\n";
}

static int num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= lo) || !(d <= hi))
		return -1;
	*out = d;
	return 0;
}

/* --stall-ms, --sample-ms: milliseconds when bare, or any duration. */
static int ms_option(const char *name, const char *arg, uint64_t min_ms, uint64_t max_ms,
		     double *ms, char *err, size_t errlen)
{
	char opt[32];
	uint64_t ns;
	jm_buf why = {0};
	snprintf(opt, sizeof opt, "--%s", name);
	int rc = opt_duration_buf(&why, NULL, opt, arg, OPT_MS, min_ms * OPT_MS, max_ms * OPT_MS, &ns);
	if (rc < 0)
		snprintf(err, errlen, "%.*s", (int)jm_buf_pending(&why), (const char *)jm_buf_head(&why));
	else
		*ms = (double)ns / 1e6;
	jm_buf_free(&why);
	return rc;
}

int stall_cli_option(stall_cli *c, const char *name, const char *arg, char *err, size_t errlen)
{
	double d;
	if (!strcmp(name, "stall-ms")) {
		return ms_option(name, arg, 1, 86400000, &c->cfg.stall_ms, err, errlen);
	} else if (!strcmp(name, "sample-ms")) {
		return ms_option(name, arg, 10, 60000, &c->sample_ms, err, errlen);
	} else if (!strcmp(name, "plot")) {
		if (!*arg)
			goto bad;
		c->plot_path = arg;
		c->cfg.series = true;
	} else if (!strcmp(name, "plot-stream")) {
		if (num(arg, 0, 1e15, &d) || d != (double)(int64_t)d)
			goto bad;
		c->cfg.plot_stream = (int64_t)d;
	} else if (!strcmp(name, "no-kernel")) {
		c->no_kernel = true;
	} else {
		snprintf(err, errlen, "unknown option '--%s'", name);
		return -1;
	}
	return 0;
bad:
	if (!strcmp(name, "plot"))
		snprintf(err, errlen, "--plot wants a file name");
	else
		snprintf(err, errlen, "--plot-stream wants a stream number (0, 1, ...), not '%s'", arg);
	return -1;
}

static void on_event(void *user, const stall_event *ev)
{
	stall_cli *c = user;
	c->line.len = c->line.off = 0;
	int rc = c->json ? stall_event_json(&c->line, ev) : stall_event_text(&c->line, ev, c->clock);
	if (rc)
		return;
	fwrite(jm_buf_head(&c->line), 1, jm_buf_pending(&c->line), c->out);
	fputc('\n', c->out);
}

static void on_note(void *user, uint64_t stream, double ts, const char *note)
{
	stall_cli *c = user;
	if (c->json) {
		c->line.len = c->line.off = 0;
		if (jm_json_quote(&c->line, note, strlen(note)))
			return;
		fprintf(c->out, "{\"event\":\"stall_note\",\"ts\":%.6f,\"stream\":%llu,\"note\":%.*s}\n",
			ts, (unsigned long long)stream, (int)jm_buf_pending(&c->line),
			(const char *)jm_buf_head(&c->line));
	} else {
		fprintf(c->out, "stall note, stream %llu: %s\n", (unsigned long long)stream, note);
	}
}

int stall_cli_start(stall_cli *c, an_engine *e, bool live, const an_config *cfg, bool json,
		    FILE *out, tf_clock *clock, char *err, size_t errlen)
{
	c->clock = clock;
	c->json = json;
	c->out = out;
	c->live = live;
	c->t = stall_new(&c->cfg, on_event, on_note, c);
	if (!c->t || stall_attach(c->t, e)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (live && !c->no_kernel) {
		uint16_t ports[AN_MAX_PORTS];
		size_t n = cfg->n_ports;
		memcpy(ports, cfg->ports, n * sizeof ports[0]);
		if (!n)
			ports[n++] = JM_SPEC_DEFAULT_PORT;
		sockdiag_sampler_config sc = {
			.interval = c->sample_ms / 1000.0, .ports = ports, .nports = n,
			.max_sockets = 65536, .max_batches = 600, .procs = true,
			.max_targets = STALL_SAMPLE_TARGETS,
		};
		char why[200];
		c->sampler = sockdiag_sampler_start(&sc, why, sizeof why);
		if (!c->sampler)
			fprintf(stderr, "jmsg analyze: kernel view off (%s); stalls from the wire only\n", why);
		stall_use_sampler(c->t, c->sampler);
	}
	return 0;
}

void stall_cli_segment(stall_cli *c, flow *f, an_dir dir, const cap_segment *seg)
{
	if (c->t)
		stall_segment(c->t, f, dir, seg);
}

void stall_cli_tick(stall_cli *c, double ts)
{
	if (ts > c->last_ts)
		c->last_ts = ts;
	if (c->t && c->sampler)
		stall_poll(c->t, ts);
}

void stall_cli_flush(stall_cli *c)
{
	if (!c->t)
		return;
	double end = c->last_ts;
	/* Live: a stall still on lasted until the capture stopped, which is
	 * now, even if the last packet came earlier. */
	if (c->live && sockdiag_now() > end)
		end = sockdiag_now();
	if (c->sampler)
		sockdiag_sampler_sample_now(c->sampler);
	stall_flush(c->t, end);
}

int stall_cli_finish(stall_cli *c, char *err, size_t errlen)
{
	if (c->sampler) {
		sockdiag_sampler_stats st;
		sockdiag_sampler_stats_get(c->sampler, &st);
		if (st.errors)
			fprintf(stderr, "jmsg analyze: %llu of %llu socket samples failed (last: %s)\n",
				(unsigned long long)st.errors, (unsigned long long)st.samples, st.last_error);
		if (st.dropped_batches || st.dropped_sockets)
			fprintf(stderr, "jmsg analyze: socket samples dropped: %llu batches, %llu sockets "
				"(limits: 600 queued batches, 65536 sockets each)\n",
				(unsigned long long)st.dropped_batches, (unsigned long long)st.dropped_sockets);
		stall_use_sampler(c->t, NULL);
		sockdiag_sampler_stop(c->sampler);
		c->sampler = NULL;
	}
	if (c->t && c->plot_path)
		return stall_plot(c->t, c->plot_path, err, errlen);
	return 0;
}

void stall_cli_free(stall_cli *c)
{
	if (c->sampler)
		sockdiag_sampler_stop(c->sampler);
	stall_free(c->t);
	jm_buf_free(&c->line);
	memset(c, 0, sizeof *c);
}

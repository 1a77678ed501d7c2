/*
 * `jmsg analyze` command lines, through analyze_parse_args alone: one row
 * per command line, with the exit status it leads to and, for a bad one,
 * the exact line the user reads; for a good one, every value the run would
 * use.  A good row names only what differs from the defaults (plus -r f):
 * describe() writes all of them as "key=value" lines, and the row's
 * values replace the default's lines before the two are compared.  Rows
 * run one after another in one process, so getopt's restart is tested too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyzer/analyze.h"
#include "cmd/exit.h"

#define MAXARGS 12
#define MAXWANT 6

struct row {
	const char *args[MAXARGS];   /* after "analyze", NULL-terminated */
	int status;
	const char *error;           /* bad rows: the whole line */
	bool prefix;                 /* bad rows: error is the line's start
	                                (libpcap's words follow) */
	bool help;                   /* --help: nothing else is checked */
	const char *want[MAXWANT];   /* good rows: "key=value", as describe() */
};

#define HINT " (see 'jmsg analyze --help')"
#define ARGS(...) .args = {__VA_ARGS__}
/* The usual source first: every good row but the -i and -r ones has it. */
#define R(...) .args = {"-r", "f", __VA_ARGS__}
#define WANT(...) .want = {__VA_ARGS__}
#define BAD(line) .status = JM_EXIT_USAGE, .error = "jmsg analyze: " line HINT

static const struct row rows[] = {
	/* ------------------------------------------------------------ good */
	{R(NULL)},
	{ARGS("-i", "lo"), WANT("file=", "files=", "iface=lo")},
	{ARGS("-r", "-"), WANT("file=-", "files=-")},
	/* several -r: one capture, read in order */
	{ARGS("-r", "a", "-r", "b", "-r", "c"), WANT("file=a", "files=a,b,c")},
	{ARGS("-r", "-", "-r", "b"), WANT("file=-", "files=-,b")},
	{R("-c", "1"), WANT("count=1")},
	{R("-c", "1k"), WANT("count=1024")},          /* counts take suffixes too */
	{R("-c", "18446744073709551615"), WANT("count=18446744073709551615")},
	{R("-s", "96"), WANT("co.snaplen=96")},
	{R("-s", "262144"), WANT("co.snaplen=262144")},
	{R("-s", "1k"), WANT("co.snaplen=1024")},
	{R("-s", "0"), WANT("co.snaplen=0")},          /* tcpdump's: the default */
	{R("-B", "64k"), WANT("co.buffer_size=65536")},
	{R("-B", "2047M"), WANT("co.buffer_size=2146435072")},
	{R("-B", "64"), WANT("co.buffer_size=65536")},   /* tcpdump's unit: KiB */
	{R("-B", "4096"), WANT("co.buffer_size=4194304")},
	{R("-B", "2097151"), WANT("co.buffer_size=2147482624")},
	{R("-B", "65535"), WANT("co.buffer_size=67107840")},
	/* --color */
	{R("--color", "always"), WANT("color=1")},
	{R("--color=never"), WANT("color=2")},
	{R("--colour=auto"), WANT("color=0")},
	{R("-w", "out.pcap", "--immediate"), WANT("co.dump_path=out.pcap", "co.immediate=1")},
	{R("-Z", "nobody"), WANT("user=nobody")},     /* looked up by the run, not here */
	{ARGS("-i", "lo", "-Znobody", "-w", "o"), WANT("file=", "files=", "iface=lo", "user=nobody",
						       "co.dump_path=o")},
	{R("--json", "-q", "-l"), WANT("json=1", "quiet=1", "linebuf=1")},
	{R("-ql"), WANT("quiet=1", "linebuf=1")},
	{R("--port", "1", "--port", "65535", "--port=8080"), WANT("cfg.ports=1,65535,8080")},
	{R("--po", "5"), WANT("cfg.ports=5")},       /* getopt: a unique prefix */
	{R("--idle-timeout", "0"), WANT("cfg.idle_timeout=0")},
	{R("--idle-timeout", "0.5"), WANT("cfg.idle_timeout=0.5")},
	{R("--idle-timeout", "1e9"), WANT("cfg.idle_timeout=1000000000")},
	{R("--idle-timeout", "5m"), WANT("cfg.idle_timeout=300")},
	{R("--idle-timeout", "250ms"), WANT("cfg.idle_timeout=0.25")},
	{R("--stall-ms", "1s", "--sample-ms", "250"), WANT("stall.stall_ms=1000", "stall.sample_ms=250")},
	{R("--stall-ms", "1.5", "--sample-ms", "0.5s"), WANT("stall.stall_ms=1.5", "stall.sample_ms=500")},
	{R("--memcap", "1M"), WANT("cfg.memcap=1048576")},
	{R("--stream-memcap", "64k"), WANT("cfg.stream_memcap=65536")},
	{R("--max-streams", "1"), WANT("cfg.max_streams=1")},
	{R("--max-streams", "100000000"), WANT("cfg.max_streams=100000000")},
	{R("--max-content", "1"), WANT("cfg.max_content=1")},
	{R("--max-content", "1024G"), WANT("cfg.max_content=1099511627776")},
	{R("--max-hex", "0"), WANT("cfg.max_hex=0")},
	{R("--max-hex", "64M"), WANT("cfg.max_hex=67108864")},
	{R("--overlap-window", "0"), WANT("cfg.overlap_history=0")},
	{R("--overlap-window", "1G"), WANT("cfg.overlap_history=1073741824")},
	{R("--workers", "1"), WANT("workers=1")},
	{R("--time", "relative"), WANT("time=0")},
	{R("--time", "absolute"), WANT("time=1")},
	{R("--time", "epoch", "--workers", "2"), WANT("time=2", "workers=2", "co.map=1")},
	{R("--time", "delta"), WANT("time=3")},
	{R("--fail-on", "never"), WANT("fail_on=0")},
	{R("--fail-on", "errors"), WANT("fail_on=1")},
	{R("--fail-on=problems"), WANT("fail_on=2")},
	{R("--workers", "2"), WANT("workers=2", "co.map=1")},   /* mapped for the workers */
	{R("--workers", "64"), WANT("workers=64", "co.map=1")},
	{R("--workers", "2", "--no-kernel"), WANT("workers=2", "co.map=1", "stall.no_kernel=1")},
	{R("--stall-ms", "1", "--sample-ms", "10"), WANT("stall.stall_ms=1", "stall.sample_ms=10")},
	{R("--plot", "p.svg"), WANT("stall.plot=p.svg", "stall.series=1")},
	{R("--plot", "p.svg", "--plot-stream", "3", "--workers", "1"),
	 WANT("stall.plot=p.svg", "stall.series=1", "stall.plot_stream=3")},
	/* the trailing words: one BPF expression */
	{R("tcp"), WANT("filter=tcp", "co.filter=filter")},
	{R("tcp", "port", "65432"), WANT("filter=tcp port 65432", "co.filter=filter", "cfg.ports=65432")},
	{R("--json", "tcp", "and", "port", "1"),
	 WANT("json=1", "filter=tcp and port 1", "co.filter=filter", "cfg.ports=1")},
	/* the filter's ports count as --port's (cmd/opts.h, opt_filter_ports) */
	{R("--port", "8080", "tcp", "port", "8080", "or", "41001"),
	 WANT("filter=tcp port 8080 or 41001", "co.filter=filter", "cfg.ports=8080,41001")},
	{R("src", "port", "41001", "or", "dst", "port", "http"),
	 WANT("filter=src port 41001 or dst port http", "co.filter=filter", "cfg.ports=41001,80")},
	{R("not", "port", "22", "and", "(tcp", "port", "9)"),
	 WANT("filter=not port 22 and (tcp port 9)", "co.filter=filter", "cfg.ports=9")},
	{R("tcp", "portrange", "1-5"), WANT("filter=tcp portrange 1-5", "co.filter=filter")},
	{R("--no-heuristic"), WANT("cfg.no_heuristic=1")},
	/* --framing: a built-in name, or a framing file's path */
	{R("--framing", "fixed"), WANT("cfg.framing=fixed/fixed/0/30/30")},
	{R("--framing", "ascii-length"), WANT("cfg.framing=ascii-length/length_prefix/5/0/99999")},
	{R("--framing", "raw"), WANT("cfg.framing=raw/raw/0/0/16777216")},
	{R("--framing", "tests/fixtures/framings/analyzer/lp3.json"),
	 WANT("cfg.framing=lp3/length_prefix/3/0/20")},
	{R("--framing", "fixed", "--framing", "jmsg"), WANT("cfg.framing=jmsg/jmsg/0/0/0")},
	{R("--", "tcp"), WANT("filter=tcp", "co.filter=filter")},
	/* options may follow the filter, as tcpdump takes them */
	{ARGS("tcp", "-r", "f"), WANT("filter=tcp", "co.filter=filter")},
	{R("tcp", "port", "65432", "-q"),
	 WANT("filter=tcp port 65432", "co.filter=filter", "quiet=1", "cfg.ports=65432")},
	{ARGS("-r", "f", "tcp", "-r", "g", "port", "1", "--json"),
	 WANT("file=f", "files=f,g", "filter=tcp port 1", "co.filter=filter", "json=1", "cfg.ports=1")},
	/* help: first come, first served */
	{ARGS("--help"), .help = true},
	{ARGS("-h"), .help = true},
	{ARGS("-hx"), .help = true},   /* getopt left inside "-hx": every parse restarts it */
	{ARGS("--help", "--bogus"), .help = true},
	{R("--port", "1", "-h", "--port", "0"), .help = true},
	/* --version: as --help, first come, first served; nothing else is set */
	{ARGS("--version"), WANT("file=", "files=", "version=1")},
	{ARGS("--version", "--bogus"), WANT("file=", "files=", "version=1")},
	{R("--port", "1", "--version", "--port", "0"), WANT("version=1", "cfg.ports=1")},

	/* ------------------------------------------------------------ bad */
	/* the source */
	{ARGS(NULL), BAD("give exactly one of -i IFACE or -r FILE")},
	{ARGS("-q", "--json"), BAD("give exactly one of -i IFACE or -r FILE")},
	{ARGS("-i", "lo", "-r", "f"), BAD("give exactly one of -i IFACE or -r FILE")},
	{ARGS("-r"), BAD("option -r needs a value")},
	{ARGS("-i"), BAD("option -i needs a value")},
	/* numbers */
	{R("-c", "0"), BAD("-c wants a positive packet count, not '0'")},
	{R("-c", "x"), BAD("-c wants a positive packet count, not 'x'")},
	{R("-c", "-1"), BAD("-c wants a positive packet count, not '-1'")},
	{R("-c", "18446744073709551616"),
	 BAD("-c wants a positive packet count, not '18446744073709551616'")},
	{R("-c"), BAD("option -c needs a value")},
	{R("-s", "95"), BAD("-s wants a snapshot length from 96 to 262144 (0: the default), not '95'")},
	{R("-s", "1"), BAD("-s wants a snapshot length from 96 to 262144 (0: the default), not '1'")},
	{R("-s", "262145"),
	 BAD("-s wants a snapshot length from 96 to 262144 (0: the default), not '262145'")},
	{R("-s"), BAD("option -s needs a value")},
#define BWANTS "-B wants a buffer size in KiB from 64 to 2097151 (or 64k to 2047M), not "
	{R("-B", "63"), BAD(BWANTS "'63'")},
	{R("-B", "65535b"), BAD(BWANTS "'65535b'")},
	{R("-B", "63k"), BAD(BWANTS "'63k'")},
	{R("-B", "2097152"), BAD(BWANTS "'2097152'")},
	{R("-B", "2G"), BAD(BWANTS "'2G'")},
	{R("-B", "64x"), BAD(BWANTS "'64x'")},
	{R("-B", "18014398509481984"), BAD(BWANTS "'18014398509481984'")}, /* 2^54 KiB */
	{R("-B"), BAD("option -B needs a value")},
	{R("-w"), BAD("option -w needs a value")},
	{R("-Z"), BAD("option -Z needs a value")},
	{R("--memcap", "1048575"), BAD("--memcap wants a size of at least 1M, not '1048575'")},
	{R("--stream-memcap", "65535"),
	 BAD("--stream-memcap wants a size of at least 64k, not '65535'")},
	{R("--max-streams", "0"), BAD("--max-streams wants a positive count, not '0'")},
	{R("--max-streams", "100000001"),
	 BAD("--max-streams wants a positive count, not '100000001'")},
	{R("--max-content", "0"), BAD("--max-content wants a positive size, not '0'")},
	{R("--max-content", "1099511627777"),
	 BAD("--max-content wants a positive size, not '1099511627777'")},
	{R("--max-hex", "67108865"), BAD("--max-hex wants a size up to 64M, not '67108865'")},
	{R("--max-hex", ""), BAD("--max-hex wants a size up to 64M, not ''")},
	{R("--overlap-window", "1073741825"),
	 BAD("--overlap-window wants a size up to 1G, not '1073741825'")},
	#define IDLE_ERR(v) "--idle-timeout must be seconds from 0 to 1000000000, or a duration such as 500ms, 10s or 2m, not '" v "'"
	{R("--framing", "nosuch"), BAD("--framing: unknown framing \"nosuch\": give one of jmsg, "
					"raw, ascii-length, close, delimited, fixed, or the path of a "
					"framing file")},
	{R("--framing", "/nonexistent/f.json"),
	 BAD("--framing: /nonexistent/f.json: cannot open: No such file or directory")},
	{R("--framing"), BAD("option --framing needs a value")},
	{R("--idle-timeout", "-1"), BAD(IDLE_ERR("-1"))},
	{R("--idle-timeout", "1e10"), BAD(IDLE_ERR("1e10"))},
	{R("--idle-timeout", "1000000001"), BAD(IDLE_ERR("1000000001"))},
	{R("--idle-timeout", "nan"), BAD(IDLE_ERR("nan"))},
	{R("--idle-timeout", "5sec"), BAD(IDLE_ERR("5sec"))},
	{R("--idle-timeout"), BAD("option --idle-timeout needs a value")},
	/* --port: the shared wording (cmd/opts.h) */
	{R("--port", "0"), BAD("--port must be a port from 1 to 65535, not '0'")},
	{R("--port", "65536"), BAD("--port must be a port from 1 to 65535, not '65536'")},
	{R("--port", "1k"), BAD("--port must be a port from 1 to 65535, not '1k'")},
	{R("--port", "x"), BAD("--port must be a port from 1 to 65535, not 'x'")},
	{R("--port", ""), BAD("--port must be a port from 1 to 65535, not ''")},
	{R("--port", "+80"), BAD("--port must be a port from 1 to 65535, not '+80'")},
	{R("--port"), BAD("option --port needs a value")},
	/* --workers */
	{R("--workers", "0"), BAD("--workers wants a count from 1 to 64, not '0'")},
	{R("--workers", "65"), BAD("--workers wants a count from 1 to 64, not '65'")},
	{R("--workers", "2k"), BAD("--workers wants a count from 1 to 64, not '2k'")},
	{R("--workers", "0k"), BAD("--workers wants a count from 1 to 64, not '0k'")},
	{R("--workers", "x"), BAD("--workers wants a count from 1 to 64, not 'x'")},
	{R("--workers", "-1"), BAD("--workers wants a count from 1 to 64, not '-1'")},
	{R("--workers"), BAD("option --workers needs a value")},
	{R("--workers", "2", "--plot", "p.svg"), BAD("--plot and --plot-stream need --workers 1")},
	{R("--workers", "2", "--time", "delta"), BAD("--time delta needs --workers 1")},
	{R("--time", "Relative"), BAD("--time wants relative, absolute, epoch or delta, not 'Relative'")},
	{R("--time"), BAD("option --time needs a value")},
	{R("--fail-on", "warnings"), BAD("--fail-on wants problems, errors or never, not 'warnings'")},
	{R("--plot", "p.svg", "--workers", "2"), BAD("--plot and --plot-stream need --workers 1")},
	{R("--workers", "64", "--plot-stream", "0"),
	 BAD("--plot and --plot-stream need --workers 1")},
	/* the stall options (stall_cli_option's words) */
	{R("--stall-ms", "0"), BAD("--stall-ms must be milliseconds from 1 to 86400000, or a duration such as 500ms, 10s or 2m, not '0'")},
	{R("--sample-ms", "9"), BAD("--sample-ms must be milliseconds from 10 to 60000, or a duration such as 500ms, 10s or 2m, not '9'")},
	{R("--plot", ""), BAD("--plot wants a file name")},
	{R("--plot"), BAD("option --plot needs a value")},
	{R("--plot-stream", "1.5"),
	 BAD("--plot-stream wants a stream number (0, 1, ...), not '1.5'")},
	/* unknown */
	{R("--bogus"), BAD("unknown option '--bogus'")},
	{R("-x"), BAD("unknown option '-x'")},
	{R("-qx"), BAD("unknown option '-qx'")},
	{R("--json=x"), BAD("unknown option '--json=x'")},
	{R("--no-kernel=x"), BAD("unknown option '--no-kernel=x'")},
	{R("--m", "1"), BAD("unknown option '--m'")},           /* ambiguous */
	{R("--bogus", "--help"), BAD("unknown option '--bogus'")},
	{R("--bogus", "--version"), BAD("unknown option '--bogus'")},
	{R("--version=1"), BAD("unknown option '--version=1'")},
	{R("--port", "1", "--port", "0", "--bogus"),             /* the first fault */
	 BAD("--port must be a port from 1 to 65535, not '0'")},
	/* a filter that does not compile (libpcap's words follow) */
	{R("tcp", "port"), .status = JM_EXIT_USAGE, .prefix = true,
	 .error = "jmsg analyze: bad filter 'tcp port': "},
	{R("--", "tcp", "-q"), .status = JM_EXIT_USAGE, .prefix = true,   /* "--": all filter */
	 .error = "jmsg analyze: bad filter 'tcp -q': "},
	/* --color, and '-' only first */
	{R("--color", "yes"), BAD("--color wants auto, always or never, not 'yes'")},
	{R("--color"), BAD("option --color needs a value")},
	{ARGS("-r", "a", "-r", "-"), BAD("'-r -' (stdin) can only be the first -r")},
};

/* Every value of a, one "key=value\n" line each. */
static void describe(const analyze_args *a, char *out, size_t n)
{
	char ports[AN_MAX_PORTS * 6 + 1] = "";
	for (size_t i = 0; i < a->cfg.n_ports; i++)
		snprintf(ports + strlen(ports), sizeof ports - strlen(ports), "%s%u", i ? "," : "",
			 a->cfg.ports[i]);
	const char *cof = !a->co.filter ? "" : a->co.filter == a->filter ? "filter" : "other";
	char files[256] = "";
	for (size_t i = 0; i < a->n_files; i++)
		snprintf(files + strlen(files), sizeof files - strlen(files), "%s%s", i ? "," : "",
			 a->files[i]);
	const stall_cli *s = &a->stall;
	snprintf(out, n,
		 "iface=%s\nfile=%s\nfiles=%s\nfilter=%s\nco.filter=%s\nco.snaplen=%d\n"
		 "co.buffer_size=%d\nco.immediate=%d\nco.dump_path=%s\nco.map=%d\n"
		 "cfg.ports=%s\ncfg.idle_timeout=%.17g\ncfg.memcap=%zu\ncfg.stream_memcap=%zu\n"
		 "cfg.max_streams=%zu\ncfg.max_content=%llu\ncfg.max_hex=%zu\n"
		 "cfg.full_content=%d\ncfg.overlap_history=%u\ncfg.no_heuristic=%d\n"
		 "cfg.framing=%s/%s/%u/%u/%llu\n"
		 "stall.stall_ms=%.17g\nstall.sample_ms=%.17g\nstall.plot=%s\nstall.series=%d\n"
		 "stall.plot_stream=%lld\nstall.no_kernel=%d\n"
		 "count=%llu\nworkers=%u\njson=%d\nquiet=%d\nlinebuf=%d\nhelp=%d\n"
		 "user=%s\nversion=%d\ntime=%d\nfail_on=%d\ncolor=%d\n",
		 a->iface ? a->iface : "", a->file ? a->file : "", files, a->filter ? a->filter : "", cof,
		 a->co.snaplen, a->co.buffer_size, a->co.immediate,
		 a->co.dump_path ? a->co.dump_path : "", a->co.map, ports, a->cfg.idle_timeout,
		 a->cfg.memcap, a->cfg.stream_memcap, a->cfg.max_streams,
		 (unsigned long long)a->cfg.max_content, a->cfg.max_hex, a->cfg.full_content,
		 a->cfg.overlap_history, a->cfg.no_heuristic, a->cfg.framing.name,
		 jmf_kind_name(a->cfg.framing.kind), a->cfg.framing.width, a->cfg.framing.size,
		 (unsigned long long)a->cfg.framing.max_payload, s->cfg.stall_ms, s->sample_ms,
		 s->plot_path ? s->plot_path : "", s->cfg.series, (long long)s->cfg.plot_stream,
		 s->no_kernel, (unsigned long long)a->count, a->workers, a->json, a->quiet,
		 a->linebuf, a->help, a->user ? a->user : "", a->version, (int)a->time, a->fail_on,
		 a->color);
}

/* What a good row wants: the defaults with -r f, each line whose key the
 * row names replaced by the row's.  Returns how many of the row's lines
 * found their key (all of them, or the row has a typo). */
static size_t expected(const struct row *w, char *out, size_t n)
{
	analyze_args d;
	memset(&d, 0, sizeof d);
	an_config_defaults(&d.cfg);
	stall_cli_init(&d.stall);
	d.workers = 1;
	d.file = "f";
	const char *f = "f";
	d.files = &f;
	d.n_files = 1;
	char defaults[4096];
	describe(&d, defaults, sizeof defaults);
	size_t used = 0, len = 0;
	out[0] = 0;
	for (const char *line = defaults; *line; line = strchr(line, '\n') + 1) {
		size_t klen = strcspn(line, "=") + 1, llen = strcspn(line, "\n");
		const char *put = line;
		for (size_t i = 0; i < MAXWANT && w->want[i]; i++)
			if (!strncmp(w->want[i], line, klen)) {
				put = w->want[i];
				llen = strlen(put);
				used++;
			}
		len += (size_t)snprintf(out + len, n - len, "%.*s\n", (int)llen, put);
	}
	return used;
}

static int parse(const char *const *args, size_t n, analyze_args *a, jm_buf *err)
{
	char **av = calloc(n + 2, sizeof *av);
	assert_non_null(av);
	av[0] = "analyze";
	for (size_t i = 0; i < n; i++)
		av[i + 1] = (char *)args[i];
	int rc = analyze_parse_args((int)n + 1, av, a, err);
	free(av);
	return rc;
}

/* What differs between the parse and the row, or NULL. */
static const char *mismatch(const struct row *w, int rc, const analyze_args *a, jm_buf *err)
{
	static char why[8192];
	if (rc != w->status) {
		snprintf(why, sizeof why, "exit status %d, want %d", rc, w->status);
		return why;
	}
	if (jm_buf_append(err, "", 1))
		return "out of memory";
	const char *got = (const char *)jm_buf_head(err);
	if (w->status) {
		size_t len = w->prefix ? strlen(w->error) : strlen(got) + 1;
		bool ok = !strncmp(got, w->error, len) &&
			  (!w->prefix || (strlen(got) > strlen(HINT) &&
					  !strcmp(got + strlen(got) - strlen(HINT), HINT)));
		if (!ok)
			snprintf(why, sizeof why, "error line\n  %s\nwant%s\n  %s", got,
				 w->prefix ? " (the start)" : "", w->error);
		return ok ? NULL : why;
	}
	if (*got)
		return "an error line for a good command line";
	if (a->help != w->help)
		return "help";
	if (w->help)
		return NULL;
	char have[4096], want[4096];
	describe(a, have, sizeof have);
	size_t nwant = 0;
	while (nwant < MAXWANT && w->want[nwant])
		nwant++;
	if (expected(w, want, sizeof want) != nwant)
		return "a wanted key that is not one of describe()'s";
	/* The lines that differ (the keys come in the same order). */
	size_t len = (size_t)snprintf(why, sizeof why, "values (have / want):");
	for (const char *h = have, *x = want; *h && *x; h = strchr(h, '\n') + 1,
	     x = strchr(x, '\n') + 1) {
		int hl = (int)strcspn(h, "\n"), xl = (int)strcspn(x, "\n");
		if ((hl != xl || strncmp(h, x, (size_t)hl)) && len < sizeof why)
			len += (size_t)snprintf(why + len, sizeof why - len, "\n  %.*s / %.*s", hl, h,
						xl, x);
	}
	return strcmp(have, want) ? why : NULL;
}

static void test_table(void **state)
{
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		const struct row *w = &rows[r];
		size_t n = 0;
		while (n < MAXARGS && w->args[n])
			n++;
		analyze_args a;
		jm_buf err = {0};
		int rc = parse(w->args, n, &a, &err);
		const char *why = mismatch(w, rc, &a, &err);
		jm_buf_free(&err);
		analyze_args_free(&a);
		if (why) {
			char line[512] = "analyze";
			for (size_t i = 0; i < n; i++)
				snprintf(line + strlen(line), sizeof line - strlen(line), " '%s'",
					 w->args[i]);
			fail_msg("row %zu (%s): %s", r, line, why);
		}
	}
}

/* --port 64 times is the most; the 65th is one too many. */
static void test_port_limit(void **state)
{
	enum { N = AN_MAX_PORTS + 1 };
	static char num[N][8];
	const char *args[2 + 2 * N];
	size_t n = 0;
	args[n++] = "-r";
	args[n++] = "f";
	for (int i = 0; i < N; i++) {
		snprintf(num[i], sizeof num[i], "%d", 1000 + i);
		args[n++] = "--port";
		args[n++] = num[i];
	}
	for (int k = 0; k < 2; k++) {
		size_t use = k ? n : n - 2;
		analyze_args a;
		jm_buf err = {0};
		int rc = parse(args, use, &a, &err);
		assert_int_equal(jm_buf_append(&err, "", 1), 0);
		if (!k) {
			assert_int_equal(rc, JM_EXIT_OK);
			assert_int_equal(a.cfg.n_ports, AN_MAX_PORTS);
			assert_int_equal(a.cfg.ports[AN_MAX_PORTS - 1], 1000 + AN_MAX_PORTS - 1);
		} else {
			assert_int_equal(rc, JM_EXIT_USAGE);
			assert_string_equal((const char *)jm_buf_head(&err),
					    "jmsg analyze: at most 64 ports" HINT);
		}
		jm_buf_free(&err);
		analyze_args_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_port_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

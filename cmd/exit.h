/*
 * exit: the exit statuses of every subcommand, in one table (the README's
 * "Exit status" section shows it; each --help names its own).  0, 1 and 2
 * mean the same to every subcommand, except that replay gives 1 and 2 its
 * own sense; 3 to 7 are the client's, but 3 is also analyze --fail-on's.
 */
#ifndef JM_CMD_EXIT_H
#define JM_CMD_EXIT_H

enum {
	JM_EXIT_OK = 0,           /* done (server: stopped by SIGINT/SIGTERM) */
	JM_EXIT_RUNTIME = 1,      /* could not do the job: could not start, the
	                             capture could not be read, no sock_diag */
	JM_EXIT_INTERNAL = 1,     /* client: out of memory, an unexpected
	                             system error */
	JM_EXIT_USAGE = 2,        /* a bad command line: one line on stderr */
	/* analyze --fail-on */
	JM_EXIT_FOUND = 3,        /* the capture held what --fail-on names:
	                             errors (the spec's errors[]: decoding and
	                             validation) or problems (every error event,
	                             capture problems too, and kernel drops) */
	/* client */
	JM_EXIT_CONNECT = 3,      /* refused, reset, unreachable, cannot resolve */
	JM_EXIT_TIMEOUT = 4,
	JM_EXIT_MALFORMED = 5,    /* the response is not a valid message */
	JM_EXIT_ECHO_DIFFERS = 5, /* client --echo: the bytes that came back
	                             differ from those sent, or stop short */
	JM_EXIT_SERVER_ERROR = 6, /* the server answered {"error": ...} */
	JM_EXIT_LOAD_ERRORS = 7,  /* --load finished but some requests failed */
	/* replay */
	JM_EXIT_REPLAY_DIFFERS = 1, /* some response differs, is missing, extra
	                               or malformed */
	JM_EXIT_REPLAY_FAILED = 2,  /* no replay, or not all of it: unreadable
	                               capture, unreachable server, interrupted
	                               (a bad command line is JM_EXIT_USAGE) */
};

#endif

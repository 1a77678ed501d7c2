/*
 * net: the socket plumbing the server and the client share.
 *
 * Addresses go through getaddrinfo(), so a host may be an IPv4 or IPv6
 * literal or a name; the empty host means every IPv4 interface, as in the
 * tutorial (`app-server.py '' 65432`).  Errors are values: -1 and a
 * one-line reason in `err` that names the host and port.
 */
#ifndef JM_IO_NET_H
#define JM_IO_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for "[v6-address%interface]:port". */
#define NET_ADDR_STRLEN 80

/* Where the server listens and the client connects unless told otherwise. */
#define NET_DEFAULT_HOST "127.0.0.1"

/* A listening, non-blocking socket with SO_REUSEADDR on host:port.
 * Returns the fd, or -1 with `err` filled. */
int net_listen(const char *host, const char *port, int backlog, char *err, size_t errlen);

/* The port a bound socket got (for --port 0), or -1. */
int net_local_port(int fd);

/* Format an address as HOST:PORT ([HOST]:PORT for IPv6, [HOST%IF]:PORT for
 * a link-local one, which is unusable without its interface). */
void net_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* The socket's local (`peer` false) or remote address as HOST:PORT. */
void net_sock_str(int fd, int peer, char *buf, size_t len);

/* Resolve host:port for connecting.  Fills `ss`/`sslen` with the first
 * address; returns 0 or -1 with `err` filled. */
int net_resolve(const char *host, const char *port, struct sockaddr_storage *ss,
		socklen_t *sslen, char *err, size_t errlen);

/* A non-blocking TCP socket for `family` with TCP_NODELAY, connect()
 * started.  Returns the fd (connect may still be in progress: check
 * net_connect_result() when writable), or -1 with errno set. */
int net_connect_start(const struct sockaddr_storage *ss, socklen_t sslen);

/* 0 if an in-progress connect succeeded, else the errno it failed with. */
int net_connect_result(int fd);

/* Raise the soft limit on open files towards `want` (as far as the hard
 * limit allows), so --max-conns / --conns are not cut short by a default
 * of 1024. */
void net_raise_fd_limit(unsigned want);

/* Set O_NONBLOCK and, for TCP, TCP_NODELAY. */
int net_nonblock(int fd);
void net_nodelay(int fd);

#endif

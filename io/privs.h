/*
 * privs: giving up root for a named user, as tcpdump -Z does: the user's
 * supplementary groups (initgroups), its primary group, then its uid, real,
 * effective and saved alike.  Errors are values: -1 and a one-line reason
 * in `err` that names the user.
 */
#ifndef JM_IO_PRIVS_H
#define JM_IO_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct io_user {
	char name[256];
	uid_t uid;
	gid_t gid;   /* the user's primary group */
} io_user;

/* The user `name` from the password database (a name, not a number).
 * Returns 0, or -1: "no such user 'NAME'", or why it could not be looked
 * up. */
int io_user_lookup(const char *name, io_user *u, char *err, size_t errlen);

/* Become u for good.  Nothing to do if the process already is u, real and
 * effective.  Otherwise every step must succeed (a process that is not
 * root lacks the right, EPERM), and once u is not root, getting root back
 * must fail; else -1 and the process must not go on. */
int io_drop_privileges(const io_user *u, char *err, size_t errlen);

#endif

/*
 * privs: giving up root (privs.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/privs.h"

int io_user_lookup(const char *name, io_user *u, char *err, size_t errlen)
{
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		/* getpwnam says "no such user" with NULL and errno 0 or, in
		 * some NSS modules, ENOENT or ESRCH. */
		if (!errno || errno == ENOENT || errno == ESRCH)
			snprintf(err, errlen, "no such user '%s'", name);
		else
			snprintf(err, errlen, "cannot look up user '%s': %s", name, strerror(errno));
		return -1;
	}
	if (strlen(pw->pw_name) >= sizeof u->name) {
		snprintf(err, errlen, "user name '%s' is too long", name);
		return -1;
	}
	snprintf(u->name, sizeof u->name, "%s", pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

static int refuse(const io_user *u, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot %s of user '%s' (uid %lu, gid %lu): %s", what, u->name,
		 (unsigned long)u->uid, (unsigned long)u->gid, strerror(errno));
	return -1;
}

int io_drop_privileges(const io_user *u, char *err, size_t errlen)
{
	if (getuid() == u->uid && geteuid() == u->uid && getgid() == u->gid &&
	    getegid() == u->gid)
		return 0;
	if (initgroups(u->name, u->gid) < 0)
		return refuse(u, "take the groups", err, errlen);
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return refuse(u, "take the group", err, errlen);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return refuse(u, "take the uid", err, errlen);
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "could become root again after becoming user '%s'; not going on",
			 u->name);
		return -1;
	}
	return 0;
}

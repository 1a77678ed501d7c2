/* io/privs.h: looking a user up, and becoming the user the process already
 * is, which needs no privilege and changes nothing.  Becoming another user
 * is tested live, as root, by tests/e2e/63-capture-unprivileged.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "io/privs.h"

static void test_lookup(void **state)
{
	io_user u;
	char err[300] = "";
	assert_int_equal(io_user_lookup("root", &u, err, sizeof err), 0);
	assert_string_equal(u.name, "root");
	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 0);

	assert_int_equal(io_user_lookup("jmsg-no-such-user", &u, err, sizeof err), -1);
	assert_string_equal(err, "no such user 'jmsg-no-such-user'");
	assert_int_equal(io_user_lookup("", &u, err, sizeof err), -1);
	assert_string_equal(err, "no such user ''");
}

static void test_same_user(void **state)
{
	struct passwd *pw = getpwuid(getuid());
	if (!pw || getuid() != geteuid() || getgid() != getegid() || pw->pw_gid != getgid())
		skip();
	io_user u;
	char err[300] = "";
	assert_int_equal(io_user_lookup(pw->pw_name, &u, err, sizeof err), 0);
	uid_t uid = getuid();
	gid_t gid = getgid();
	assert_int_equal(io_drop_privileges(&u, err, sizeof err), 0);
	assert_int_equal(getuid(), uid);
	assert_int_equal(geteuid(), uid);
	assert_int_equal(getgid(), gid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_same_user),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

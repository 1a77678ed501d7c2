#!/usr/bin/env bash
# contrib/pytest-jmsg, the pytest plugin, with Debian's pytest (pytest-3):
#   1. its own tests and the example test, the plugin importable from the
#      source tree (PYTHONPATH, -p pytest_jmsg), jmsg found on PATH;
#   2. installed offline, as its README says (pip install
#      --no-build-isolation, Debian's setuptools), into a virtual
#      environment that sees Debian's pytest: the pytest11 entry point is
#      registered, and a user's test file run there, with no -p and no
#      PYTHONPATH, gets the fixtures and passes.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
: "${JMSG:=build/jmsg}"
tmpdir tmp
need pytest-3 "pytest-3 is not installed (Debian: python3-pytest, or make deps)"
[ -x /usr/bin/python3 ] || skip "Debian's /usr/bin/python3 is not installed"
/usr/bin/python3 -c 'import setuptools, pip, venv' 2>/dev/null ||
	skip "Debian's python3-setuptools, python3-pip or python3-venv is missing (make deps)"
FAIL_LOGS='*.log' FAIL_TAIL=+1

# a folder with jmsg in it first on PATH, as a user would have it
mkdir -p "$tmp/bin"
ln -s "$(realpath "$JMSG")" "$tmp/bin/jmsg"
export PATH="$tmp/bin:$PATH" PYTHONDONTWRITEBYTECODE=1

# ---- 1. from the source tree
PYTHONPATH=contrib/pytest-jmsg timeout 300 pytest-3 -p pytest_jmsg -p no:cacheprovider -rs -v \
	contrib/pytest-jmsg/tests >"$tmp/source.log" 2>&1 ||
	fail "the plugin's tests failed (pytest-3, from the source tree)"
grep -E '(PASSED|SKIPPED|FAILED|ERROR)' "$tmp/source.log" | sed 's/^/  /'
tail -n 1 "$tmp/source.log"

# ---- 2. installed offline into a virtual environment
cp -r contrib/pytest-jmsg "$tmp/src"
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv" >"$tmp/venv.log" 2>&1 ||
	fail "python3 -m venv failed"
timeout 300 "$tmp/venv/bin/python" -m pip install --no-build-isolation --no-index "$tmp/src" \
	>"$tmp/pip.log" 2>&1 || fail "pip install --no-build-isolation --no-index failed"
(cd / && "$tmp/venv/bin/python" - "$tmp/venv" >"$tmp/entry.log" 2>&1) <<'PY' || fail "the pytest11 entry point is not registered"
import sys
from importlib.metadata import entry_points
import pytest_jmsg
eps = [e for e in entry_points(group="pytest11") if e.name == "pytest_jmsg"]
assert eps and eps[0].value == "pytest_jmsg", eps
assert pytest_jmsg.__file__.startswith(sys.argv[1]), pytest_jmsg.__file__
print("entry point: pytest11 %s = %s (%s)" % (eps[0].name, eps[0].value, pytest_jmsg.__file__))
PY
cat "$tmp/entry.log"
mkdir "$tmp/user"
cp contrib/pytest-jmsg/tests/test_tutorial_client.py "$tmp/user/"
(cd "$tmp/user" && timeout 120 "$tmp/venv/bin/python" -m pytest -p no:cacheprovider -rs \
	test_tutorial_client.py >"$tmp/installed.log" 2>&1) ||
	fail "a user's test with the installed plugin failed"
grep -qE '^test_tutorial_client.py [.s]' "$tmp/installed.log" ||
	fail "the user's test did not run: $(cat "$tmp/installed.log")"
echo "installed: $(tail -n 1 "$tmp/installed.log")"

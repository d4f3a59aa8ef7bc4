# lib.sh - shared helpers of the integration tests (tests/test_*.sh), which
# start the real lfserver binary on 127.0.0.1 and talk to it through
# tests/itest.py. Sourced, never run.
#
# Automake runs the tests from the build directory with $srcdir set; under
# distcheck the source tree is read-only, so everything a test writes goes to
# one mktemp -d directory ($LF_TMP) that an EXIT trap removes, together with
# any server the test started and did not stop.
#
# TAP lines are numbered across the shell and the python cases: itest.py
# continues from $TAP_N and hands the new count back through a file.
#
# A server is started with only -c and -l (lf_start), so a reload can change
# every other setting from the file: command-line options would override it.

srcdir=${srcdir:-.}
LF_SRCDIR=$(cd "$srcdir" && pwd)
LFSERVER=${LFSERVER:-$PWD/src/lfserver}
LF_ITEST=$LF_SRCDIR/tests/itest.py
TAP_N=0
TAP_FAIL=0
LF_PIDS=
LF_PID=
LF_PORT=
LF_LOG=

# lf_wait_for TENTHS TEST-ARGS...: until `test TEST-ARGS` holds, polling every
# 0.1 s, TENTHS times at most; its status is the last test's.
lf_wait_for()
{
	_n=$1
	shift
	while ! test "$@" && [ "$_n" -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	test "$@"
}

# lf_init: checks the tools, makes $LF_TMP, installs the cleanup trap.
lf_init()
{
	if ! command -v python3 >/dev/null 2>&1; then
		echo "SKIP: python3 not found"
		exit 77
	fi
	if [ ! -x "$LFSERVER" ]; then
		echo "FAIL: $LFSERVER is missing: run make first"
		exit 1
	fi
	LF_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lfitest.XXXXXX") || exit 1
	trap lf_cleanup EXIT
	trap 'exit 1' HUP INT TERM
}

# Kills what this test started and is still running (by pid, never by name).
lf_cleanup()
{
	for p in $LF_PIDS; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$LF_TMP"
}

# lf_ok STATUS WHAT: one TAP line; STATUS 0 is a pass.
lf_ok()
{
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAIL=$((TAP_FAIL + 1))
	fi
}

# lf_diag FILE: FILE's lines as TAP comments.
lf_diag()
{
	[ -f "$1" ] && sed 's/^/#   /' "$1"
}

# lf_dump_log: the current server's stderr (its last 60 lines).
lf_dump_log()
{
	if [ -n "$LF_LOG" ] && [ -f "$LF_LOG" ]; then
		echo "# --- server log $LF_LOG (last 60 lines) ---"
		tail -n 60 "$LF_LOG" | sed 's/^/#   /'
	fi
}

# lf_done: the plan and the exit status.
lf_done()
{
	echo "1..$TAP_N"
	if [ "$TAP_FAIL" -ne 0 ]; then
		echo "# $TAP_FAIL of $TAP_N failed"
		exit 1
	fi
	exit 0
}

# lf_tap_merge WHAT: takes over the "COUNT FAILS" a Python client wrote to
# $LF_TMP/tap (itest.py, or a script's own heredoc client continuing the
# numbering); none handed back is a failure of its own, "WHAT ran to the
# end". Sets lf_tap_fails to the client's failures (-1 when none came back).
lf_tap_merge()
{
	lf_tap_fails=-1
	if [ -s "$LF_TMP/tap" ]; then
		read -r TAP_N lf_tap_fails < "$LF_TMP/tap"
		TAP_FAIL=$((TAP_FAIL + lf_tap_fails))
	else
		lf_ok 1 "$1 ran to the end"
	fi
}

# lf_py SUBCOMMAND ARGS...: runs itest.py cases, continuing the numbering.
# A crash (no count handed back) is a failure of its own.
lf_py()
{
	rm -f "$LF_TMP/tap"
	python3 "$LF_ITEST" --tap-start "$TAP_N" --tap-file "$LF_TMP/tap" "$@"
	rc=$?
	lf_tap_merge "itest.py $1 (exit $rc)"
	[ "$lf_tap_fails" -eq 0 ] && [ "$rc" -ne 0 ] && lf_ok 1 "itest.py $1 exited $rc"
	[ "$rc" -ne 0 ] && lf_dump_log
	return $rc
}

# lf_free_port: prints a TCP port that was free on 127.0.0.1 a moment ago.
lf_free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# lf_refused PORT: true when a connection to 127.0.0.1:PORT is refused.
lf_refused()
{
	python3 -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close()
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$1"
}

# lf_alive PID: true while PID runs and is not a zombie.
lf_alive()
{
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# lf_start INI [ARGS...]: starts the server on a free port with -c INI -l
# 127.0.0.1:PORT; sets LF_PID, LF_PORT, LF_LOG (stdout and stderr) and waits
# until it answers HTTP. A port taken in the meantime is retried.
lf_start()
{
	_ini=$1
	shift
	for _try in 1 2 3; do
		LF_PORT=$(lf_free_port) || return 1
		LF_LOG=$LF_TMP/server.$LF_PORT.log
		"$LFSERVER" -c "$_ini" -l "127.0.0.1:$LF_PORT" "$@" > "$LF_LOG" 2>&1 &
		LF_PID=$!
		LF_PIDS="$LF_PIDS $LF_PID"
		if python3 "$LF_ITEST" wait --port "$LF_PORT" --pid "$LF_PID" \
		    --timeout 15; then
			return 0
		fi
		if lf_alive "$LF_PID"; then
			kill -KILL "$LF_PID"
		fi
		wait "$LF_PID"
		lf_forget "$LF_PID"
		if ! grep -q 'Address already in use' "$LF_LOG"; then
			break
		fi
	done
	echo "# the server did not start: $LFSERVER -c $_ini -l 127.0.0.1:$LF_PORT $*"
	lf_dump_log
	return 1
}

# lf_wait_exit PID SECONDS: waits for our child PID to end (SIGKILL after
# SECONDS) and sets LF_RC to its exit status (137 when it had to be killed).
lf_wait_exit()
{
	_i=0
	while lf_alive "$1" && [ "$_i" -lt $(($2 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if lf_alive "$1"; then
		echo "# pid $1 still running after ${2}s: SIGKILL"
		kill -KILL "$1"
	fi
	wait "$1"
	LF_RC=$?
	lf_forget "$1"
}

# lf_forget PID: a reaped child; its number may be reused, never kill it.
lf_forget()
{
	_keep=
	for p in $LF_PIDS; do
		[ "$p" = "$1" ] || _keep="$_keep $p"
	done
	LF_PIDS=$_keep
}

# lf_stop [WHAT]: SIGTERM to the current server; it must exit 0 within 10 s.
lf_stop()
{
	kill -TERM "$LF_PID"
	lf_stopped "${1:-SIGTERM}"
}

# lf_stopped WHAT: the current server, already told to stop, exits 0.
lf_stopped()
{
	lf_wait_exit "$LF_PID" 10
	lf_ok "$LF_RC" "$1: the server exits with status 0 (got $LF_RC)"
	[ "$LF_RC" -ne 0 ] && lf_dump_log
	lf_refused "$LF_PORT"
	lf_ok $? "$1: nothing listens on port $LF_PORT any more"
	return "$LF_RC"
}

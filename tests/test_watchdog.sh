#!/bin/sh
# test_watchdog.sh - WATCHDOG=1 proves the engine is alive, as systemd would
# see it through a NOTIFY_SOCKET listener:
# - during a reload that waits 2.5 s for a slow request in flight, the
#   keep-alives go on (the drain no longer blocks the main loop);
# - when the reactor stalls (LFSERVER_TEST_FAULT=stall-reactor:MS, a fault
#   for the test suite only), they stop, and the log says why.

. "${srcdir:-.}/tests/lib.sh"
lf_init

ini=$LF_TMP/lfserver.ini
python3 "$LF_ITEST" writeini "$ini" --mode lockfree --workers 2 || exit 1

# listen NAME: a notify listener recording into $LF_TMP/NAME.jsonl
listen()
{
	rm -f "$LF_TMP/$1.sock"
	: > "$LF_TMP/$1.jsonl"
	python3 "$LF_ITEST" notify-listen --socket "$LF_TMP/$1.sock" \
	    --out "$LF_TMP/$1.jsonl" --timeout 40 &
	listener=$!
	LF_PIDS="$LF_PIDS $listener"
	lf_wait_for 100 -S "$LF_TMP/$1.sock"
}

# check NAME PYTHON-EXPR WHAT: evaluates the expression over the records
# (r: list of (t, [lines])) and reports it as one TAP line
check()
{
	python3 - "$LF_TMP/$1.jsonl" "$2" <<'EOF'
import json, sys
r = [(x['t'], x['msg'].split('\n'))
     for x in map(json.loads, open(sys.argv[1])) if x]
def at(kv, after=0.0):
    return next((t for t, m in r if kv in m and t > after), None)
def pings(t0, t1):
    return sum(1 for t, m in r if 'WATCHDOG=1' in m and t0 < t < t1)
v = eval(sys.argv[2])
print('# %s -> %r' % (sys.argv[2], v))
sys.exit(0 if v else 1)
EOF
	lf_ok $? "$3"
}

# 1. a drain of 2.5 s keeps the watchdog fed (pings every 0.3 s)
listen drain
NOTIFY_SOCKET=$LF_TMP/drain.sock WATCHDOG_USEC=600000
export NOTIFY_SOCKET WATCHDOG_USEC
lf_start "$ini" || lf_ok 1 "the server starts"
unset NOTIFY_SOCKET WATCHDOG_USEC
# the client says when its request is sent: under sanitizers on a slow
# machine, Python's start alone can outlast a fixed sleep, and a reload
# before the request is in a worker's hands has nothing to wait for
python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /io?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
open(sys.argv[2], "w").close()
time.sleep(60)' "$LF_PORT" "$LF_TMP/slow.sent" &
slow=$!
LF_PIDS="$LF_PIDS $slow"
i=0
while [ ! -e "$LF_TMP/slow.sent" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
kill -HUP "$LF_PID"
i=0
while ! grep -q 'reload: ' "$LF_LOG" && [ $i -lt 60 ]; do
	sleep 0.1
	i=$((i + 1))
done
grep 'reload: ' "$LF_LOG" | sed 's/^/# /'
check drain "at('READY=1', at('RELOADING=1')) - at('RELOADING=1') > 2.0" \
    "the reload waited for the slow request (over 2 s)"
check drain "pings(at('RELOADING=1') + 0.1, at('READY=1', at('RELOADING=1'))) >= 5" \
    "WATCHDOG=1 kept coming during that drain"
kill -KILL "$slow"
lf_stop "SIGTERM after the long drain"
lf_wait_exit "$listener" 10

# 2. a stalled reactor stops the keep-alives (pings every 0.2 s; stall at 1 s)
listen stall
NOTIFY_SOCKET=$LF_TMP/stall.sock WATCHDOG_USEC=400000
LFSERVER_TEST_FAULT=stall-reactor:1000
export NOTIFY_SOCKET WATCHDOG_USEC LFSERVER_TEST_FAULT
lf_start "$ini" || lf_ok 1 "the server starts"
unset NOTIFY_SOCKET WATCHDOG_USEC LFSERVER_TEST_FAULT
sleep 3
check stall "pings(0, at('READY=1') + 0.9) >= 3" \
    "WATCHDOG=1 arrives while the engine runs"
check stall "pings(at('READY=1') + 1.6, 1e12) == 0" \
    "no WATCHDOG=1 once the reactor stalled"
grep -q 'watchdog: the engine made no progress' "$LF_LOG"
lf_ok $? "the log says why the watchdog is not fed"
lf_stop "SIGTERM with the reactor stalled"
lf_wait_exit "$listener" 10
lf_done

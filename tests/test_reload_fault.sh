#!/bin/sh
# test_reload_fault.sh - a reload whose new engine cannot start
# (LFSERVER_TEST_FAULT=engine-start, a fault for the test suite only) restarts
# the old engine with the connections the failed start gave back: 10 idle
# keep-alive connections opened before the reload are each served again, on
# the same TCP connection, after it.

. "${srcdir:-.}/tests/lib.sh"
lf_init

ini=$LF_TMP/lfserver.ini
python3 "$LF_ITEST" writeini "$ini" --mode lockfree --workers 2 \
    --keepalive-timeout 30 || exit 1
LFSERVER_TEST_FAULT=engine-start
export LFSERVER_TEST_FAULT
lf_start "$ini"
started=$?
unset LFSERVER_TEST_FAULT
if [ $started -ne 0 ]; then
	lf_ok 1 "the server starts"
	lf_done
fi
python3 "$LF_ITEST" writeini "$ini" --mode locked --workers 3 \
    --keepalive-timeout 30 || exit 1

python3 - "$LF_PORT" "$LF_PID" "$LF_LOG" "$TAP_N" "$LF_TMP/tap" <<'EOF'
import socket, subprocess, sys, time

port, pid, log, n, tap_file = sys.argv[1:6]
port, pid, n = int(port), int(pid), int(n)
fails = 0


def ok(cond, what):
    global n, fails
    n += 1
    fails += 0 if cond else 1
    print('%sok %d - %s' % ('' if cond else 'not ', n, what), flush=True)


def ask(s, i):
    """One keep-alive request on S; True when its 200 response comes back."""
    s.sendall(b'GET /cpu?n=%d HTTP/1.1\r\nHost: t\r\n\r\n' % (100 + i))
    data = b''
    want = b'primes<=%d: ' % (100 + i)
    while want not in data:
        d = s.recv(4096)
        if not d:
            return False
        data += d
    return data.startswith(b'HTTP/1.1 200 ')


conns = [socket.create_connection(('127.0.0.1', port), 10) for _ in range(10)]
ok(all(ask(s, i) for i, s in enumerate(conns)),
   '10 keep-alive connections served before the reload')
subprocess.run(['kill', '-HUP', str(pid)])
end = time.monotonic() + 10
failed = False
while time.monotonic() < end and not failed:
    failed = 'reload_failed' in open(log).read() or \
        'cannot start the new engine' in open(log).read()
    time.sleep(0.05)
ok(failed and 'restarting the old one' in open(log).read(),
   "the new engine's start failed and the old one was restarted")
served = 0
for i, s in enumerate(conns):
    try:
        served += ask(s, 1000 + i)
    except OSError:
        pass
ok(served == 10, 'all 10 connections served again on the same TCP connection (%d)'
   % served)
for s in conns:
    s.close()
with open(tap_file, 'w') as f:
    f.write('%d %d\n' % (n, fails))
EOF
lf_tap_merge "the client"
[ "$TAP_FAIL" -ne 0 ] && lf_dump_log
lf_stop
lf_done

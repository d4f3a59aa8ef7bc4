#!/bin/sh
# test_pipeline.sh - one connection pipelining 2000 /io?ms=6..7 requests
# (about 13 s of work) cannot hold a worker, a reload or another client:
# a turn serves at most 16 requests, a reload hands the unserved pipelined
# input to the next engine (which serves it at once, in order, on the same
# connection), and the drain stays short. In lockfree and locked mode, with a
# reload to the other pool mode and one to thread-per-connection and back.
# Also: a `listen` changed in the file at reload is not applied and so not
# stored: every reload warns again.

. "${srcdir:-.}/tests/lib.sh"
lf_init

ini=$LF_TMP/lfserver.ini
python3 "$LF_ITEST" writeini "$ini" --mode lockfree --workers 2 \
    --keepalive-timeout 30 --request-timeout 30 || exit 1
if ! lf_start "$ini"; then
	lf_ok 1 "the server starts"
	lf_done
fi

python3 - "$LF_PORT" "$LF_PID" "$ini" "$LF_LOG" "$TAP_N" "$LF_TMP/tap" <<'EOF'
import re, socket, subprocess, sys, threading, time

port, pid, ini, log, tap_n, tap_file = sys.argv[1:7]
port, pid, n = int(port), int(pid), int(tap_n)
fails = 0
N = 2000


def ok(cond, what):
    global n, fails
    n += 1
    if not cond:
        fails += 1
    print('%sok %d - %s' % ('' if cond else 'not ', n, what), flush=True)


def get(path, timeout=10):
    """One request on a fresh connection; (seconds, status line)."""
    t0 = time.monotonic()
    s = socket.create_connection(('127.0.0.1', port), timeout)
    s.sendall(('GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
               % path).encode())
    data = b''
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return time.monotonic() - t0, data.split(b'\r\n', 1)[0].decode()


def writeini(mode):
    with open(ini) as f:
        text = f.read()
    text = re.sub(r'(?m)^mode\s*=.*$', 'mode = ' + mode, text)
    with open(ini, 'w') as f:
        f.write(text)


def reload_and_wait(count):
    """SIGHUP; waits for the count-th reload line; returns its drain_ms."""
    subprocess.run(['kill', '-HUP', str(pid)])
    end = time.monotonic() + 10
    while time.monotonic() < end:
        with open(log) as f:
            lines = [ln for ln in f if ': reload: ' in ln]
        if len(lines) >= count:
            m = re.search(r'drain_ms=([0-9.]+)', lines[count - 1])
            return float(m.group(1)) if m else None
        time.sleep(0.05)
    return None


# the pipelining client: every request sent at once, responses read in order
pipe = socket.create_connection(('127.0.0.1', port), 30)
want = [6 + (i % 2) for i in range(N)]
got = []
err = []


def reader():
    buf = b''
    try:
        while len(got) < N:
            m = re.match(rb'HTTP/1\.1 (\d+)[^\r]*\r\n(.*?)\r\n\r\n', buf, re.S)
            if m:
                clen = re.search(rb'(?i)content-length: (\d+)', m.group(2))
                blen = int(clen.group(1)) if clen else 0
                if len(buf) >= m.end() + blen:
                    body = buf[m.end():m.end() + blen]
                    bm = re.match(rb'slept (\d+) ms', body)
                    got.append(int(bm.group(1)) if bm else -1)
                    buf = buf[m.end() + blen:]
                    continue
            d = pipe.recv(65536)
            if not d:
                err.append('closed after %d responses' % len(got))
                return
            buf += d
    except Exception as e:
        err.append('%r after %d responses' % (e, len(got)))


t0 = time.monotonic()
rd = threading.Thread(target=reader)
rd.start()
pipe.sendall(b''.join(b'GET /io?ms=%d HTTP/1.1\r\nHost: t\r\n\r\n' % ms
                      for ms in want))
time.sleep(0.5)
lat, status = get('/cpu?n=10')
ok(status.endswith('200 OK') and lat < 1.0,
   'another client is served while the pipeline runs (%.3f s, %s)' % (lat, status))

modes = ['locked', 'thread-per-connection', 'lockfree']
for i, mode in enumerate(modes):
    writeini(mode)
    t1 = time.monotonic()
    drain = reload_and_wait(i + 1)
    took = time.monotonic() - t1
    ok(drain is not None and drain < 1000,
       'reload %d (to %s) during the pipeline: drain_ms=%s (< 1000)' % (i + 1, mode, drain))
    lat, status = get('/cpu?n=10')
    ok(status.endswith('200 OK') and took + lat < 2.0,
       'a new client is served right after it (%.3f s after SIGHUP)' % (took + lat))
    time.sleep(0.3)

rd.join(60)
ok(not err and len(got) == N,
   'all %d pipelined responses arrived on the one connection (%d) %s'
   % (N, len(got), err[0] if err else ''))
ok(got == want, 'in order, across three reloads')
print('# pipeline of %d took %.1f s' % (N, time.monotonic() - t0))
pipe.close()
with open(tap_file, 'w') as f:
    f.write('%d %d\n' % (n, fails))
EOF
lf_tap_merge "the pipeline client"
[ "$TAP_FAIL" -ne 0 ] && lf_dump_log

lf_stop

# listen: not applied at reload, so not stored, so every reload warns. The
# server runs without -l here, which would override the file.
port=$(lf_free_port)
ini2=$LF_TMP/listen.ini
python3 "$LF_ITEST" writeini "$ini2" --mode lockfree --workers 1 || exit 1
printf '[server]\nlisten = 127.0.0.1:%s\n' "$port" > "$LF_TMP/listen.head"
sed '/^\[server\]/d' "$ini2" >> "$LF_TMP/listen.head"
mv "$LF_TMP/listen.head" "$ini2"
LF_PORT=$port
LF_LOG=$LF_TMP/listen.log
"$LFSERVER" -c "$ini2" > "$LF_LOG" 2>&1 &
LF_PID=$!
LF_PIDS="$LF_PIDS $LF_PID"
python3 "$LF_ITEST" wait --port "$port" --pid "$LF_PID" --timeout 15
lf_ok $? "a server bound from the file's listen starts"
sed -i "s|^listen *=.*|listen = 127.0.0.1:1|" "$ini2"
# count_in_log TEXT: lines of the log holding TEXT
count_in_log() { grep -c "$1" "$LF_LOG"; }
for k in 1 2; do
	kill -HUP "$LF_PID"
	i=0
	while [ "$(count_in_log 'reload: ')" -lt "$k" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
done
n=$(count_in_log 'listen changed to 127.0.0.1:1')
lf_ok $([ "$n" -eq 2 ]; echo $?) \
    "a listen change warns at each reload, not only the first ($n warnings of 2)"
python3 "$LF_ITEST" wait --port "$port" --pid "$LF_PID" --timeout 5
lf_ok $? "still serving on the old address after those reloads"
lf_stop
lf_done

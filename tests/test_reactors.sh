#!/bin/sh
# test_reactors.sh - a pool with several reactors (`reactors = 3`): threads
# lf-reactor-0..2; keep-alive connections spread over them all served;
# max_connections counts them all (beyond it clients wait in the backlog and
# are served once connections close); /stats counts them; each reactor
# expires its idle connections; reloads to 1 reactor (locked) and back to 3
# hand every idle connection over. Then, with 2 reactors: accept() waits for
# a client's first bytes (TCP_DEFER_ACCEPT), and max_connections stays exact
# while both reactors accept a burst of clients at once.

. "${srcdir:-.}/tests/lib.sh"
lf_init

ini=$LF_TMP/lfserver.ini
# writeini MODE REACTORS
writeini()
{
	python3 "$LF_ITEST" writeini "$ini" --mode "$1" --workers 4 \
	    --keepalive-timeout 3 || exit 1
	sed -i "s|^\[server\]|[server]\nreactors = $2\nmax_connections = 40|" "$ini"
}
writeini lockfree 3
if ! lf_start "$ini"; then
	lf_ok 1 "the server starts with reactors = 3"
	lf_done
fi

python3 - "$LF_PORT" "$LF_PID" "$ini" "$LF_LOG" "$TAP_N" "$LF_TMP/tap" <<'EOF'
import json, os, re, socket, subprocess, sys, time

port, pid, ini, log, n, tap_file = sys.argv[1:7]
port, pid, n = int(port), int(pid), int(n)
fails = 0


def ok(cond, what):
    global n, fails
    n += 1
    fails += 0 if cond else 1
    print('%sok %d - %s' % ('' if cond else 'not ', n, what), flush=True)


def threads():
    names = []
    for t in os.listdir('/proc/%d/task' % pid):
        try:
            names.append(open('/proc/%d/task/%s/comm' % (pid, t)).read().strip())
        except OSError:
            pass
    return sorted(x for x in names if x.startswith('lf-reactor'))


def ask(s, path='/cpu?n=10', timeout=5.0):
    """One keep-alive request on S; the body, or None (no answer, EOF)."""
    s.settimeout(timeout)
    try:
        s.sendall(b'GET %s HTTP/1.1\r\nHost: t\r\n\r\n' % path.encode())
        data = b''
        while True:
            m = re.search(rb'\r\n\r\n', data)
            if m:
                cl = re.search(rb'(?i)content-length: (\d+)', data[:m.end()])
                if cl and len(data) >= m.end() + int(cl.group(1)):
                    return data[m.end():m.end() + int(cl.group(1))].decode()
            d = s.recv(65536)
            if not d:
                return None
            data += d
    except OSError:
        return None


def connect(k):
    return [socket.create_connection(('127.0.0.1', port), 5) for _ in range(k)]


def stats(s):
    body = ask(s, '/stats')
    return json.loads(body) if body else {}


def reload(mode, reactors, count):
    text = open(ini).read()
    text = re.sub(r'(?m)^mode = .*$', 'mode = ' + mode, text)
    text = re.sub(r'(?m)^reactors = .*$', 'reactors = %d' % reactors, text)
    open(ini, 'w').write(text)
    subprocess.run(['kill', '-HUP', str(pid)])
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if open(log).read().count(': reload: ') >= count:
            return True
        time.sleep(0.05)
    return False


ok(threads() == ['lf-reactor-0', 'lf-reactor-1', 'lf-reactor-2'],
   'threads lf-reactor-0..2 (%s)' % threads())

# 30 keep-alive connections, all served, twice
conns = connect(30)
ok(all(ask(s) == 'primes<=10: 4\n' for s in conns), '30 connections served')
ok(all(ask(s) == 'primes<=10: 4\n' for s in conns), 'and served again (keep-alive)')
st = stats(conns[0])
ok(st.get('connections') == 30, '/stats counts the 30 connections of all reactors (%s)'
   % st.get('connections'))

# max_connections = 40 across the reactors
extra = connect(20)
for s in extra:
    s.setblocking(False)
    s.send(b'GET /cpu?n=10 HTTP/1.1\r\nHost: t\r\n\r\n')
time.sleep(1.0)
answered = []
for s in extra:
    try:
        answered.append(len(s.recv(65536)) > 0)
    except BlockingIOError:
        answered.append(False)
ok(sum(answered) == 10, 'with 30 open, 10 more are served and 10 wait at '
   'max_connections = 40 (%d served)' % sum(answered))
for s in conns[:15]:
    s.close()
waiting = [s for s, a in zip(extra, answered) if not a]
time.sleep(1.0)
got = 0
for s in waiting:
    s.setblocking(True)
    s.settimeout(3)
    try:
        got += len(s.recv(65536)) > 0
    except OSError:
        pass
ok(got == 10, 'closing 15 lets the 10 waiting clients in (%d served)' % got)
for s in conns[15:] + extra:
    s.close()

# reloads hand the idle connections over, whatever the reactor count
time.sleep(0.5)
conns = connect(20)
ok(all(ask(s) for s in conns), '20 fresh keep-alive connections served')
for k, (mode, r, want) in enumerate((('locked', 1, ['lf-reactor-0']),
                                     ('lockfree', 3, ['lf-reactor-0', 'lf-reactor-1',
                                                      'lf-reactor-2']))):
    ok(reload(mode, r, k + 1), 'reload to %s with reactors = %d' % (mode, r))
    time.sleep(0.2)
    ok(threads() == want, 'reactor threads now %s' % threads())
    served = sum(1 for s in conns if ask(s) == 'primes<=10: 4\n')
    ok(served == 20, 'the 20 connections are served again after it (%d)' % served)

# idle expiry in every reactor (keepalive_timeout = 3)
time.sleep(4.5)
closed = 0
for s in conns:
    s.settimeout(1)
    try:
        closed += s.recv(65536) == b''
    except OSError:
        pass
ok(closed == 20, 'the idle connections expire in every reactor (%d of 20 closed)'
   % closed)
s = connect(1)[0]
st = stats(s)
ok(st.get('connections') == 1, '/stats then counts only the one asking (%s)'
   % st.get('connections'))
s.close()
with open(tap_file, 'w') as f:
    f.write('%d %d\n' % (n, fails))
EOF
lf_tap_merge "the client"
[ "$TAP_FAIL" -ne 0 ] && lf_dump_log
lf_stop

# max_connections stays exact while two reactors accept at once: 4 threads
# open 60 clients together, each sending one byte of a request and waiting,
# against max_connections = 20, three times
# (closing all between rounds, so accepting pauses and resumes). The server
# must hold exactly 20 accepted sockets each time, never 21 (two reactors
# taking the last slot between them), as its /proc/PID/fd shows.
writeini lockfree 2
sed -i 's|^max_connections = 40|max_connections = 20|' "$ini"
if ! lf_start "$ini"; then
	lf_ok 1 "the server starts with reactors = 2"
	lf_done
fi
rm -f "$LF_TMP/tap"
python3 - "$LF_PORT" "$LF_PID" "$TAP_N" "$LF_TMP/tap" <<'EOF'
import os, socket, sys, threading, time

port, pid, n, tap_file = sys.argv[1:5]
port, pid, n = int(port), int(pid), int(n)
fails = 0


def ok(cond, what):
    global n, fails
    n += 1
    fails += 0 if cond else 1
    print('%sok %d - %s' % ('' if cond else 'not ', n, what), flush=True)


def sockets():
    k = 0
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            k += os.readlink('/proc/%d/fd/%s' % (pid, fd)).startswith('socket:')
        except OSError:
            pass
    return k


def storm(clients, each):
    go = threading.Event()

    def opener():
        go.wait()
        for _ in range(each):
            try:
                s = socket.create_connection(('127.0.0.1', port), 5)
                # a first byte: a deferred accept() takes it at once
                s.send(b'G')
                clients.append(s)
            except OSError:
                pass
    ts = [threading.Thread(target=opener) for _ in range(4)]
    for t in ts:
        t.start()
    go.set()
    for t in ts:
        t.join()


base = sockets()

# accept() is deferred until a client's first bytes (listen.c): a silent
# client waits in the kernel, one that sends is taken at once, and the
# silent one is taken all the same about a second later
silent = socket.create_connection(('127.0.0.1', port), 5)
time.sleep(0.4)
ok(sockets() == base, 'a silent client is not accepted yet (%d held)'
   % (sockets() - base))
talker = socket.create_connection(('127.0.0.1', port), 5)
talker.send(b'G')
end = time.monotonic() + 0.5
while sockets() == base and time.monotonic() < end:
    time.sleep(0.01)
ok(sockets() == base + 1, 'a client that sends is accepted at once (%d held)'
   % (sockets() - base))
end = time.monotonic() + 4
while sockets() < base + 2 and time.monotonic() < end:
    time.sleep(0.05)
ok(sockets() == base + 2, 'the silent one is accepted within 4 s (%d held)'
   % (sockets() - base))
silent.close()
talker.close()
end = time.monotonic() + 5
while sockets() > base and time.monotonic() < end:
    time.sleep(0.05)

for rnd in range(1, 4):
    clients = []
    storm(clients, 15)
    most = held = 0
    end = time.monotonic() + 3
    while time.monotonic() < end:
        held = sockets() - base
        most = max(most, held)
        if held == 20 and time.monotonic() > end - 2:
            break
        time.sleep(0.01)
    ok(len(clients) == 60 and held == 20 and most == 20,
       'round %d: 60 clients at once, 2 reactors, max_connections = 20: the '
       'server holds %d (at most %d), exactly 20' % (rnd, held, most))
    for s in clients:
        s.close()
    # 15 s, not 5: under make distcheck's load one round once still held 15
    # of the closed clients after 5 s (cause not found; see the notes)
    end = time.monotonic() + 15
    while sockets() > base and time.monotonic() < end:
        time.sleep(0.05)
    ok(sockets() == base, 'round %d: all closed (%d left)' % (rnd, sockets() - base))
with open(tap_file, 'w') as f:
    f.write('%d %d\n' % (n, fails))
EOF
lf_tap_merge "the client of max_connections with two reactors"
[ "$TAP_FAIL" -ne 0 ] && lf_dump_log
lf_stop
lf_done

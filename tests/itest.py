#!/usr/bin/env python3
"""
itest.py - lfserver's integration test cases, run by the tests/test_*.sh
wrappers against the real binary, which tests/lib.sh starts.

Standard library only. The HTTP client is written on raw sockets so that a
request can be sent exactly as a case needs it: malformed, oversized, split
into one-byte sends, pipelined, or left unfinished. Each subcommand is a group
of cases; each case prints a TAP line "ok N - what" or "not ok N - what"
(numbered on from --tap-start) with "#" diagnostics, and the count and the
failures are written to --tap-file for lib.sh. Exit status 1 if any failed.

Time and load are bounded: a 2-core machine shared with other builds runs
these, so every wait has a timeout and every loop a count.
"""

import argparse
import email.utils
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

HOST = '127.0.0.1'
SECRET = 'LFSERVER-ITEST-SECRET-0f9c'
MODES = ('lockfree', 'locked', 'thread-per-connection', 'sequential')
POOL_MODES = ('lockfree', 'locked', 'sequential')


# ---------------------------------------------------------------- TAP

class Tap:
    def __init__(self, start, path):
        self.n = start
        self.failed = 0
        self.path = path
        self.lock = threading.Lock()

    def ok(self, cond, what, diag=None):
        with self.lock:
            self.n += 1
            if not cond:
                self.failed += 1
            print('%sok %d - %s' % ('' if cond else 'not ', self.n, what))
            if not cond and diag:
                for line in str(diag).splitlines():
                    print('#   ' + line)
            sys.stdout.flush()
        return cond

    def note(self, msg):
        with self.lock:
            for line in str(msg).splitlines():
                print('# ' + line)
            sys.stdout.flush()

    def save(self):
        if self.path:
            with open(self.path, 'w') as f:
                f.write('%d %d\n' % (self.n, self.failed))


# ---------------------------------------------------------------- client

class Closed(Exception):
    """The connection ended while a response was expected: how is 'eof',
    'reset' or 'timeout'."""

    def __init__(self, how):
        Exception.__init__(self, how)
        self.how = how


class Response:
    def __init__(self, version, status, reason, headers, body, head_bytes):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers      # lower-case name -> value
        self.body = body
        self.head_bytes = head_bytes

    def header(self, name):
        return self.headers.get(name.lower())

    def closes(self):
        return (self.header('connection') or '').lower() == 'close'

    def __repr__(self):
        return '<%d %r, %d body bytes: %r>' % (
            self.status, self.headers, len(self.body), self.body[:120])


def build(path='/', method='GET', version='HTTP/1.1', host='127.0.0.1',
          headers=(), body=b''):
    lines = ['%s %s %s' % (method, path, version)]
    if host is not None:
        lines.append('Host: ' + host)
    lines += list(headers)
    if body:
        lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


class Conn:
    def __init__(self, port, timeout=10.0, nodelay=False):
        self.timeout = timeout
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''

    def send(self, data):
        self.sock.sendall(data)

    def _recv(self):
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise Closed('timeout')
        except ConnectionResetError:
            raise Closed('reset')
        if not d:
            raise Closed('eof')
        self.buf += d

    def response(self, head=False):
        while True:
            i = self.buf.find(b'\r\n\r\n')
            if i >= 0:
                break
            if len(self.buf) > 65536:
                raise ValueError('no end of the response head in 64 KiB')
            self._recv()
        head_bytes = self.buf[:i + 4]
        self.buf = self.buf[i + 4:]
        lines = head_bytes[:-4].decode('iso-8859-1').split('\r\n')
        m = re.match(r'^(HTTP/\d\.\d) (\d{3})(?: (.*))?$', lines[0])
        if not m:
            raise ValueError('bad status line %r' % lines[0])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(':')
            if not sep or not name or name != name.strip():
                raise ValueError('bad header line %r' % line)
            k = name.lower()
            v = value.strip()
            headers[k] = headers[k] + ', ' + v if k in headers else v
        status = int(m.group(2))
        if head or status in (204, 304) or status < 200:
            body = b''
        elif 'content-length' in headers:
            n = int(headers['content-length'])
            while len(self.buf) < n:
                self._recv()
            body = self.buf[:n]
            self.buf = self.buf[n:]
        else:
            try:
                while True:
                    self._recv()
            except Closed as e:
                if e.how != 'eof':
                    raise
            body = self.buf
            self.buf = b''
        return Response(m.group(1), status, m.group(3) or '', headers, body,
                        head_bytes)

    def request(self, path='/', method='GET', **kw):
        self.send(build(path, method, **kw))
        return self.response(head=(method == 'HEAD'))

    def wait_close(self, timeout):
        """What comes next within TIMEOUT s: 'eof', 'reset', 'timeout' or
        'data' (bytes that were not asked for)."""
        if self.buf:
            return 'data'
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return 'timeout'
        except ConnectionResetError:
            return 'reset'
        finally:
            self.sock.settimeout(self.timeout)
        if d:
            self.buf += d
            return 'data'
        return 'eof'

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def fetch(port, path='/', method='GET', timeout=10.0, **kw):
    """One request on a fresh connection."""
    c = Conn(port, timeout)
    try:
        return c.request(path, method, **kw)
    finally:
        c.close()


def stats(port):
    r = fetch(port, '/stats', headers=['Connection: close'])
    if r.status != 200:
        raise ValueError('/stats answered %d' % r.status)
    return json.loads(r.body.decode())


# ---------------------------------------------------------------- helpers

def proc_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return None


def alive(pid):
    st = proc_state(pid)
    return st is not None and st != 'Z'


def cpu_ticks(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15
    return int(fields[11]) + int(fields[12])


def thread_names(pid):
    names = []
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/comm' % (pid, tid)) as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return names


def count_fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def count_tasks(pid):
    return len(os.listdir('/proc/%d/task' % pid))


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def write_ini(path, mode='lockfree', workers=2, queue_capacity=8,
              docroot=None, keepalive_timeout=None, request_timeout=None,
              interval=0, extra=(), public_stats=True):
    """Writes the ini atomically (a reload must never read half a file);
    returns its lines, so a case can name a line number. The engine and
    reload cases read /stats on the public port: public_stats = on unless
    PUBLIC_STATS is false (the default of lfserver itself is off)."""
    lines = ['# written by tests/itest.py', '[server]', 'mode = ' + mode,
             'workers = %d' % workers, 'queue_capacity = %d' % queue_capacity]
    if public_stats:
        lines.append('public_stats = on')
    if docroot:
        lines.append('docroot = ' + docroot)
    if keepalive_timeout is not None:
        lines.append('keepalive_timeout = %d' % keepalive_timeout)
    if request_timeout is not None:
        lines.append('request_timeout = %d' % request_timeout)
    lines += list(extra)
    lines += ['', '[stats]', 'interval = %d' % interval]
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.rename(tmp, path)
    return lines


def read_log(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return ''


def wait_for(cond, timeout, step=0.05):
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def docroot_files(docroot):
    """path -> bytes of what mkdocroot wrote."""
    out = {}
    for rel in ('index.html', 'style.css', 'sub/dir/page.txt', 'big.bin'):
        with open(os.path.join(docroot, rel), 'rb') as f:
            out['/' + rel] = f.read()
    return out


# ---------------------------------------------------------------- cases

def run_cases(t, cases, a):
    for fn in cases:
        try:
            fn(t, a)
        except Exception:
            t.ok(False, '%s ran without an exception' % fn.__name__,
                 traceback.format_exc())


def case_docroot(t, a):
    files = docroot_files(a.docroot)
    r = fetch(a.port, '/')
    t.ok(r.status == 200 and r.body == files['/index.html'],
         'GET / serves the docroot index.html', r)
    t.ok((r.header('content-type') or '').startswith('text/html'),
         '/ has Content-Type text/html', r.header('content-type'))
    r = fetch(a.port, '/style.css')
    t.ok(r.status == 200 and r.body == files['/style.css'] and
         (r.header('content-type') or '').startswith('text/css'),
         'GET /style.css: 200, the file, text/css', r)
    r = fetch(a.port, '/sub/dir/page.txt')
    t.ok(r.status == 200 and r.body == files['/sub/dir/page.txt'] and
         (r.header('content-type') or '').startswith('text/plain'),
         'GET /sub/dir/page.txt (nested): 200, the file, text/plain', r)
    c = Conn(a.port, timeout=20)
    c.send(build('/big.bin') + build('/style.css'))
    r = c.response()
    r2 = c.response()
    t.ok(r.status == 200 and r.body == files['/big.bin'] and
         r2.body == files['/style.css'],
         'GET /big.bin (%d bytes) whole, then a pipelined request after it'
         % len(files['/big.bin']), (r.status, len(r.body), r2))
    h = c.request('/big.bin', 'HEAD')
    t.ok(h.status == 200 and
         h.header('content-length') == str(len(files['/big.bin'])),
         'HEAD /big.bin: its Content-Length, no body', h)
    c.close()
    r = fetch(a.port, '/sub/dir/nope.txt')
    t.ok(r.status == 404, 'GET of a missing file: 404', r)
    r = fetch(a.port, '/leak.txt')
    t.ok(r.status == 404 and SECRET.encode() not in r.body,
         'a symlink leading out of the docroot is not served', r)


def case_slow_readers(t, a):
    """Clients that do not read their large responses must not hold the
    workers (the pools defer the rest of a response and wait for POLLOUT),
    and each still gets every byte, in order, once it reads."""
    files = docroot_files(a.docroot)
    want = (files['/big.bin'],) * 3 + (files['/style.css'],)
    slow = []
    try:
        for i in range(3):
            c = Conn(a.port, timeout=20)
            # a bounded receive window: 9 MB cannot all be in flight, so
            # the server's writes must stall until the client reads
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            c.send(build('/big.bin') * 3 + build('/style.css'))
            slow.append(c)
        time.sleep(0.3)
        t0 = time.monotonic()
        r = fetch(a.port, '/cpu?n=100', timeout=10)
        dt = time.monotonic() - t0
        t.ok(r.status == 200 and dt < 1.0,
             '3 clients not reading 9 MB each (2 workers): another client '
             'is served in %.3f s' % dt, r)
        # read them all at once: a stalled write is closed after
        # request_timeout, as it should be
        got = parallel(len(slow), lambda i: tuple(slow[i].response().body
                                                  for _ in want))
        t.ok(all(g == want for g in got),
             'each slow reader then gets its three big responses and the '
             'one after them, whole and in order',
             [[len(b) for b in g] if isinstance(g, tuple) else g
              for g in got])
    finally:
        for c in slow:
            c.close()


def case_builtin_page(t, a):
    r = fetch(a.port, '/')
    t.ok(r.status == 200 and b'<html' in r.body.lower() and
         (r.header('content-type') or '').startswith('text/html'),
         'GET / without a docroot serves the built-in HTML page', r)


def case_cpu(t, a):
    r = fetch(a.port, '/cpu')
    t.ok(r.status == 200 and r.body == b'primes<=10000: 1229\n',
         '/cpu: "primes<=10000: 1229"', r)
    r = fetch(a.port, '/cpu?n=100')
    t.ok(r.status == 200 and r.body == b'primes<=100: 25\n',
         '/cpu?n=100: 25 primes', r)
    for q in ('n=1000001', 'n=99999999999999999999999', 'n=abc', 'n=-1'):
        r = fetch(a.port, '/cpu?' + q)
        t.ok(r.status == 400, '/cpu?%s: 400' % q, r)


def case_io(t, a):
    t0 = time.monotonic()
    r = fetch(a.port, '/io?ms=20')
    dt = time.monotonic() - t0
    t.ok(r.status == 200 and r.body == b'slept 20 ms\n' and dt >= 0.020,
         '/io?ms=20: 200 "slept 20 ms" after >= 20 ms (%.1f ms)' % (dt * 1e3),
         r)
    for q in ('ms=999999', 'ms=10001', 'ms=x'):
        t0 = time.monotonic()
        r = fetch(a.port, '/io?' + q)
        dt = time.monotonic() - t0
        t.ok(r.status == 400 and dt < 2.0,
             '/io?%s: 400 at once (%.1f ms)' % (q, dt * 1e3), r)


def mixed_kind(r):
    """Which workload a /mixed response came from."""
    if r.status != 200:
        return 'status %d' % r.status
    if b'<html' in r.body.lower():
        return 'static'
    if r.body.startswith(b'primes<='):
        return 'cpu'
    if r.body.startswith(b'slept '):
        return 'io'
    return 'other %r' % r.body[:40]


def case_mixed(t, a):
    """The default weights are 1:1:1 and the cycle is shared by every thread
    of the server: 9 requests in a row are 3 of each, on one keep-alive
    connection as well as on 9 fresh connections (thread-per-connection
    serves each of those from a new thread)."""
    want = {'static': 3, 'cpu': 3, 'io': 3}
    c = Conn(a.port)
    got = [mixed_kind(c.request('/mixed')) for _ in range(9)]
    c.close()
    mix = {k: got.count(k) for k in set(got)}
    t.ok(mix == want, '/mixed 9 times on one connection: 3 static, 3 cpu, '
         '3 io', got)
    got = [mixed_kind(fetch(a.port, '/mixed')) for _ in range(9)]
    mix = {k: got.count(k) for k in set(got)}
    t.ok(mix == want, '/mixed on 9 fresh connections: 3 static, 3 cpu, 3 io',
         got)


def case_steady_reader(t, a):
    """A client that reads a large file slowly but steadily gets all of it,
    even when that takes several times request_timeout: the timeout bounds a
    write that makes no progress, not the whole response."""
    path = os.path.join(a.docroot, 'large.bin')
    with open(path, 'rb') as f:
        want = f.read()
    secs = 3.5      # request_timeout is 1 s in this server's ini
    rate = len(want) / secs
    c = Conn(a.port, timeout=10)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.send(build('/large.bin'))
    head = b''
    body = bytearray()
    t0 = time.monotonic()
    try:
        while b'\r\n\r\n' not in head:
            d = c.sock.recv(4096)
            if not d:
                break
            head += d
        i = head.find(b'\r\n\r\n')
        body = bytearray(head[i + 4:] if i >= 0 else b'')
        t0 = time.monotonic()
        how = 'complete'
        while len(body) < len(want):
            d = c.sock.recv(16384)
            if not d:
                how = 'eof'
                break
            body += d
            # pace the reads: len(want) bytes in SECS seconds
            lag = t0 + len(body) / rate - time.monotonic()
            if lag > 0:
                time.sleep(lag)
        dt = time.monotonic() - t0
    except (socket.timeout, ConnectionResetError) as e:
        how, dt = repr(e), time.monotonic() - t0
    finally:
        c.close()
    t.ok(how == 'complete' and bytes(body) == want,
         'a steady reader of a %d MiB file at %.1f MiB/s (request_timeout '
         '1 s): all of it in %.1f s (%s at %d bytes)'
         % (len(want) >> 20, rate / 1048576, dt, how, len(body)))


def case_stats(t, a):
    r = fetch(a.port, '/stats')
    try:
        s = json.loads(r.body.decode())
    except ValueError as e:
        t.ok(False, '/stats is JSON', '%s: %r' % (e, r.body))
        return
    t.ok(r.status == 200 and
         (r.header('content-type') or '').startswith('application/json'),
         '/stats: 200 application/json', r)
    keys = ('mode', 'workers', 'queue_capacity', 'pid', 'uptime_s', 'requests',
            'errors', 'connections', 'connections_total', 'queue_full',
            'reloads', 'p50_us', 'p99_us', 'max_us')
    missing = [k for k in keys if k not in s]
    t.ok(not missing, '/stats has every documented key', 'missing %r' % missing)
    t.ok(s.get('mode') == a.mode, '/stats mode is %s' % a.mode, s)
    if a.pid:
        t.ok(s.get('pid') == a.pid, '/stats pid is the server\'s', s)
    if a.workers is not None and a.mode in ('lockfree', 'locked'):
        t.ok(s.get('workers') == a.workers, '/stats workers is %d' % a.workers, s)
    if a.mode == 'sequential':
        t.ok(s.get('workers') == 1, 'sequential: /stats workers is 1', s)
    t.ok(isinstance(s.get('requests'), int) and s['requests'] > 0 and
         s.get('connections', 0) >= 1,
         '/stats counts requests and this connection', s)
    for _ in range(3):
        fetch(a.port, '/cpu?n=10')
    # a request is counted once its response is written: allow a moment
    s2 = wait_for(lambda: (lambda x: x if x['requests'] >= s['requests'] + 3
                           else None)(stats(a.port)), 2) or stats(a.port)
    t.ok(s2['requests'] >= s['requests'] + 3,
         '/stats requests grows with the requests served', (s, s2))
    t.ok(0 < s2['p50_us'] <= s2['p99_us'] <= s2['max_us'] and
         s2['uptime_s'] >= s['uptime_s'] and
         s2['connections_total'] > s['connections_total'],
         '/stats latency 0 < p50 <= p99 <= max, uptime and connections_total '
         'grow', (s, s2))


def case_keepalive(t, a):
    c = Conn(a.port)
    paths = ('/', '/cpu?n=10', '/stats', '/io?ms=1', '/style.css' if a.docroot
             else '/cpu?n=20', '/mixed')
    st = []
    closed = []
    for p in paths:
        r = c.request(p)
        st.append(r.status)
        closed.append(r.closes())
    t.ok(st == [200] * len(paths) and not any(closed),
         '%d requests on one keep-alive connection: all 200, none closes'
         % len(paths), (st, closed))
    t.ok(c.wait_close(0.2) == 'timeout',
         'the keep-alive connection stays open after them')
    c.close()


def case_close(t, a):
    c = Conn(a.port)
    r = c.request('/cpu?n=10', headers=['Connection: close'])
    t.ok(r.status == 200 and r.closes(),
         'HTTP/1.1 Connection: close: 200 with Connection: close', r)
    t.ok(c.wait_close(3) == 'eof', '... and the server closes the connection')
    c.close()
    c = Conn(a.port)
    r = c.request('/cpu?n=10', version='HTTP/1.0', host=None)
    t.ok(r.status == 200, 'HTTP/1.0 without Host: 200', r)
    t.ok(c.wait_close(3) == 'eof', 'HTTP/1.0: the server closes after it')
    c.close()
    c = Conn(a.port)
    r1 = c.request('/cpu?n=10', version='HTTP/1.0', host=None,
                   headers=['Connection: keep-alive'])
    r2 = c.request('/cpu?n=100', version='HTTP/1.0', host=None,
                   headers=['Connection: keep-alive'])
    t.ok(r1.status == 200 and r2.status == 200 and
         (r1.header('connection') or '').lower() == 'keep-alive' and
         r2.body == b'primes<=100: 25\n',
         'HTTP/1.0 Connection: keep-alive: two requests on one connection',
         (r1, r2))
    c.close()
    # A last response is sent with MSG_MORE, so that the close that follows
    # sends its last segment with the FIN: the kernel would hold that
    # segment for 200 ms if no close came.
    times = []
    for _ in range(10):
        c = Conn(a.port)
        t0 = time.monotonic()
        r = c.request('/cpu?n=10', version='HTTP/1.0', host=None)
        end = c.wait_close(3)
        times.append(time.monotonic() - t0 if r.status == 200 and
                     end == 'eof' else 99.0)
        c.close()
    t.ok(sorted(times)[5] < 0.1,
         'a last response and the close come at once (median %.3f s of '
         '10, a held segment would add 0.2 s)' % sorted(times)[5], times)
    if a.docroot:
        want = docroot_files(a.docroot)['/big.bin']
        c = Conn(a.port, timeout=20)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        r = c.request('/big.bin', headers=['Connection: close'])
        t.ok(r.status == 200 and r.body == want and c.wait_close(3) == 'eof',
             'a last response written in pieces (%d bytes, a small receive '
             'window) arrives whole, then the close' % len(want),
             (r.status, len(r.body or b'')))
        c.close()


def case_head(t, a):
    g = fetch(a.port, '/')
    c = Conn(a.port)
    h = c.request('/', 'HEAD')
    t.ok(h.status == 200 and h.header('content-length') == str(len(g.body)) and
         h.header('content-type') == g.header('content-type'),
         'HEAD /: 200, the Content-Length and Content-Type of GET',
         (h, len(g.body)))
    t.ok(c.wait_close(0.3) == 'timeout' and c.buf == b'',
         'HEAD: no body follows the head', c.buf[:200])
    r = c.request('/cpu?n=100')
    t.ok(r.status == 200 and r.body == b'primes<=100: 25\n',
         'HEAD: the next request on the connection is answered correctly', r)
    c.close()
    h = fetch(a.port, '/cpu?n=100', 'HEAD')
    t.ok(h.status == 200 and h.header('content-length') == '16',
         'HEAD /cpu?n=100: Content-Length 16', h)


def case_date(t, a):
    r = fetch(a.port, '/cpu?n=10')
    d = r.header('date')
    ok = False
    diag = repr(d)
    if d:
        try:
            when = email.utils.parsedate_to_datetime(d).timestamp()
            ok = abs(when - time.time()) < 10 and d.endswith(' GMT') and \
                re.match(r'^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} '
                         r'\d\d:\d\d:\d\d GMT$', d) is not None
        except (TypeError, ValueError) as e:
            diag += ': ' + str(e)
    t.ok(ok, 'Date: an IMF-fixdate within 10 s of now', diag)
    t.ok(r.header('content-length') == str(len(r.body)),
         'Content-Length matches the body', r)


def case_errors(t, a):
    r = fetch(a.port, '/no/such/thing')
    t.ok(r.status == 404, 'GET of an unknown path: 404', r)
    for m in ('POST', 'PUT', 'DELETE'):
        r = fetch(a.port, '/', m)
        allow = (r.header('allow') or '').replace(' ', '').split(',')
        t.ok(r.status == 405 and allow == ['GET', 'HEAD', 'OPTIONS'],
             '%s /: 405 with Allow: GET, HEAD, OPTIONS' % m, r)
    for size in (3, 100000):
        # RFC 9112 9.3: the body is read (and dropped), the connection kept
        c = Conn(a.port)
        body = b'a=' + b'x' * (size - 2)
        try:
            c.send(build('/', 'POST', body=body,
                         headers=['Content-Type: text/plain']) +
                   build('/cpu?n=100'))
            r = c.response()
            r2 = c.response()
            t.ok(r.status == 405 and not r.closes() and
                 r2.body == b'primes<=100: 25\n',
                 'POST with a %d-byte body: 405, the body is skipped, the '
                 'next request answered' % size, (r, r2))
        except (Closed, OSError) as e:
            t.ok(False, 'POST with a %d-byte body: 405, the body is skipped, '
                 'the next request answered' % size, repr(e))
        c.close()
    c = Conn(a.port)
    c.send(build('/cpu?n=10', body=b'hello') + build('/cpu?n=100'))
    r1 = c.response()
    how = c.wait_close(3)
    t.ok(r1.status == 200 and r1.closes() and how == 'eof',
         'a GET with a 5-byte body: answered, then the connection closes '
         '(RFC 9110 9.3.1)', (r1, how))
    c.close()
    c = Conn(a.port)
    c.send(build('/', headers=['Content-Length: 2000000']))
    try:
        r = c.response()
        how = c.wait_close(3)
    except Closed as e:
        r, how = None, e.how
    t.ok(r is not None and r.status == 413 and how == 'eof',
         'a GET announcing a 2 MB body: 413, then close', (r, how))
    c.close()
    r = fetch(a.port, '/', 'BREW')
    t.ok(r.status == 501, 'an unknown method token (BREW): 501', r)
    for raw in (b'GET / HTTP/1.1 junk\r\nHost: x\r\n\r\n',
                b'GET\r\nHost: x\r\n\r\n',
                b'G@T / HTTP/1.1\r\nHost: x\r\n\r\n',
                b'GET / HTXP/1.1\r\nHost: x\r\n\r\n',
                b'GET / HTTP/1.1\r\nno colon here\r\n\r\n'):
        c = Conn(a.port)
        c.send(raw)
        try:
            r = c.response()
            how = c.wait_close(3)
        except Closed as e:
            r, how = None, e.how
        t.ok(r is not None and r.status == 400 and how == 'eof',
             'malformed %r: 400, then close' % raw.split(b'\r\n')[0]
             if b'colon' not in raw else 'a header line without a colon: 400',
             (r, how))
        c.close()
    r = fetch(a.port, '/' + 'a' * 9000)
    t.ok(r.status == 414, 'a 9001-byte target: 414', r)
    r = fetch(a.port, '/' + 'a' * 8191)
    t.ok(r.status == 404, 'an 8192-byte target (the limit): 404, not 414', r)
    r = fetch(a.port, '/', headers=['X-Fill-%d: %s' % (i, 'y' * 1000)
                                    for i in range(20)])
    t.ok(r.status == 431, '20 KB of header fields: 431', r)
    r = fetch(a.port, '/', headers=['X-H%d: 1' % i for i in range(150)])
    t.ok(r.status == 431, '150 header fields: 431', r)
    r = fetch(a.port, '/', version='HTTP/2.0')
    t.ok(r.status == 505, 'HTTP/2.0: 505', r)
    r = fetch(a.port, '/', host=None)
    t.ok(r.status == 400, 'HTTP/1.1 without Host: 400', r)


def case_traversal(t, a):
    paths = ['/../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd',
             '/..%2f..%2fetc%2fpasswd', '/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
             '/sub/../../etc/passwd', '/./../../../../etc/passwd',
             '/etc/passwd', '//etc/passwd', '/%00', '/index.html%00.txt',
             '/%00/../etc/passwd', '/..\\..\\etc\\passwd',
             '/%252e%252e/etc/passwd', '/../secret.txt', '/%2e%2e/secret.txt',
             '/sub/dir/../../../secret.txt', '/..%2fsecret.txt']
    for p in paths:
        for v in ('HTTP/1.1', 'HTTP/1.0'):
            try:
                r = fetch(a.port, p, version=v, headers=['Connection: close'])
            except (Closed, OSError) as e:
                t.ok(False, '%s %s: answered' % (v, p), repr(e))
                continue
            leak = b'root:' in r.body or SECRET.encode() in r.body
            t.ok(r.status in (400, 404) and not leak,
                 '%s %s: %d, nothing from outside the docroot'
                 % (v, p, r.status), r)


def case_pipelined(t, a):
    c = Conn(a.port)
    c.send(build('/cpu?n=10') + build('/cpu?n=100') + build('/cpu?n=1000'))
    bodies = [c.response().body for _ in range(3)]
    t.ok(bodies == [b'primes<=10: 4\n', b'primes<=100: 25\n',
                    b'primes<=1000: 168\n'],
         '3 pipelined GETs in one send: 3 responses in order', bodies)
    # the last one asks to close: answered, then the connection ends
    c.send(build('/cpu?n=10') + build('/cpu?n=100', headers=['Connection: close']))
    r1 = c.response()
    r2 = c.response()
    t.ok(r1.body == b'primes<=10: 4\n' and r2.body == b'primes<=100: 25\n' and
         r2.closes() and c.wait_close(3) == 'eof',
         'pipelined, the second with Connection: close: both, then close',
         (r1, r2))
    c.close()


def case_split(t, a):
    c = Conn(a.port, nodelay=True)
    raw = build('/cpu?n=100', headers=['User-Agent: itest-one-byte'])
    for i in range(len(raw)):
        c.send(raw[i:i + 1])
        time.sleep(0.002)
    r = c.response()
    t.ok(r.status == 200 and r.body == b'primes<=100: 25\n',
         'a request sent in %d one-byte sends: 200' % len(raw), r)
    c.close()


def case_timeouts(t, a):
    # request_timeout = 1 and keepalive_timeout = 1 in this server's ini
    c = Conn(a.port)
    c.send(b'GET /cpu?n=10 HTTP/1.1\r\nHost: x\r\n')
    t0 = time.monotonic()
    try:
        r = c.response()
        dt = time.monotonic() - t0
        how = c.wait_close(3)
    except Closed as e:
        r, dt, how = None, time.monotonic() - t0, e.how
    t.ok(r is not None and r.status == 408 and 0.5 <= dt <= 3.5 and how == 'eof',
         'request_timeout = 1: a partial request gets 408 in %.2f s, then close'
         % dt, (r, how))
    c.close()
    c = Conn(a.port)
    r = c.request('/cpu?n=10')
    t0 = time.monotonic()
    how = c.wait_close(5)
    dt = time.monotonic() - t0
    t.ok(r.status == 200 and how == 'eof' and 0.5 <= dt <= 3.5,
         'keepalive_timeout = 1: an idle connection is closed after %.2f s (%s)'
         % (dt, how))
    c.close()
    c = Conn(a.port)
    t0 = time.monotonic()
    how = c.wait_close(5)
    dt = time.monotonic() - t0
    t.ok(how == 'eof' and dt <= 3.5,
         'a connection that never sends is closed after %.2f s (%s)' % (dt, how))
    c.close()


def case_pipeline_burst(t, a):
    """Thousands of pipelined requests at once: more input than one turn of
    a worker reads, so the server must come back for the rest by itself."""
    n = 3000
    # 1 KiB a request: 3 MB of input arrives faster than a turn reads it
    req = build('/cpu?n=10', headers=('X-Pad: ' + 'p' * 1000,))

    def client(i):
        c = Conn(a.port, timeout=30)
        try:
            th = threading.Thread(target=c.send, args=(req * n,), daemon=True)
            th.start()
            bodies = [c.response().body for _ in range(n)]
            th.join(10)
            return bodies.count(b'primes<=10: 4\n')
        finally:
            c.close()

    res = parallel(4, client)
    t.ok(res == [n] * 4, '4 clients x %d pipelined 1 KiB requests sent at '
         'once: every one answered' % n, res)


ENDPOINT_CASES = [case_cpu, case_io, case_mixed, case_stats, case_keepalive,
                  case_close, case_head, case_date, case_errors, case_traversal,
                  case_pipelined, case_pipeline_burst, case_split]


def cmd_endpoints(t, a):
    cases = ([case_docroot, case_slow_readers] if a.docroot
             else [case_builtin_page]) + \
        ENDPOINT_CASES + ([case_timeouts] if a.timeouts else []) + \
        ([case_steady_reader] if a.timeouts and a.docroot else [])
    run_cases(t, cases, a)


# ---------------------------------------------------------------- concurrency

def parallel(n, fn):
    """Runs fn(i) in N threads started together; returns their results
    (an exception is returned as its repr)."""
    out = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(30)
            out[i] = fn(i)
        except Exception as e:
            out[i] = 'exception: %r' % e

    ths = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(120)
    return out


def case_many_clients(t, a):
    n = a.clients
    paths = ('/cpu?n=100', '/stats', '/io?ms=5', '/')

    def client(i):
        c = Conn(a.port, timeout=60)
        try:
            res = []
            for p in paths:
                r = c.request(p)
                res.append(r.status)
            return res
        finally:
            c.close()

    t0 = time.monotonic()
    res = parallel(n, client)
    dt = time.monotonic() - t0
    bad = [r for r in res if r != [200] * len(paths)]
    t.ok(not bad, '%d concurrent keep-alive clients x %d requests: all 200 '
         '(%.1f s)' % (n, len(paths), dt), 'bad: %r' % bad[:5])


def case_idle_no_starve(t, a):
    idle = []
    try:
        for i in range(a.idle):
            c = Conn(a.port, timeout=30)
            if i % 2 == 0:
                # an established keep-alive connection that then goes quiet
                r = c.request('/cpu?n=10')
                if r.status != 200:
                    raise ValueError('idle client %d got %r' % (i, r))
            idle.append(c)
        time.sleep(0.2)

        def client(i):
            t0 = time.monotonic()
            r = fetch(a.port, '/cpu?n=100', timeout=30)
            return r.status, time.monotonic() - t0

        res = parallel(10, client)
        ok = all(isinstance(x, tuple) and x[0] == 200 for x in res)
        worst = max((x[1] for x in res if isinstance(x, tuple)), default=99)
        t.ok(ok and worst < 2.0, 'with %d idle connections open, 10 other '
             'clients are served promptly (slowest %.3f s)' % (a.idle, worst),
             res)
        bad = []
        for i, c in enumerate(idle):
            try:
                r = c.request('/cpu?n=10')
                if r.status != 200:
                    bad.append((i, r.status))
            except (Closed, OSError) as e:
                bad.append((i, repr(e)))
        t.ok(not bad, 'the %d idle connections are all still served' % a.idle,
             bad[:10])
    finally:
        for c in idle:
            c.close()


def ab_run(a, keepalive):
    cmd = ['ab', '-q', '-n', str(a.ab_n), '-c', str(a.ab_c), '-s', '30']
    if keepalive:
        cmd.append('-k')
    cmd.append('http://%s:%d/cpu?n=100' % (HOST, a.port))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=90)
    out = p.stdout.decode(errors='replace')

    def num(label):
        m = re.search(r'^%s:\s+(\d+)' % re.escape(label), out, re.M)
        return int(m.group(1)) if m else None

    return {'rc': p.returncode, 'complete': num('Complete requests'),
            'failed': num('Failed requests'),
            'non2xx': num('Non-2xx responses') or 0,
            'keepalive': num('Keep-Alive requests'), 'out': out,
            'cmd': ' '.join(cmd)}


def py_load(a, keepalive):
    """ab's job done with threads, when ab is missing."""
    per = a.ab_n // a.ab_c
    res = {'complete': 0, 'failed': 0, 'non2xx': 0, 'keepalive': 0, 'rc': 0,
           'out': '', 'cmd': 'python threads'}
    lock = threading.Lock()

    def client(i):
        c = None
        for _ in range(per):
            try:
                if c is None:
                    c = Conn(a.port, timeout=30)
                r = c.request('/cpu?n=100', version='HTTP/1.0', host=None,
                              headers=['Connection: keep-alive'] if keepalive
                              else [])
                with lock:
                    res['complete'] += 1
                    if r.status != 200:
                        res['non2xx'] += 1
                    if not r.closes() and keepalive:
                        res['keepalive'] += 1
                if not keepalive or r.closes():
                    c.close()
                    c = None
            except (Closed, OSError, ValueError):
                with lock:
                    res['failed'] += 1
                if c:
                    c.close()
                c = None
        if c:
            c.close()

    parallel(a.ab_c, client)
    return res


def case_queue_pressure(t, a):
    for keepalive in (False, True):
        t0 = time.monotonic()
        r = ab_run(a, keepalive) if shutil.which('ab') else py_load(a, keepalive)
        dt = time.monotonic() - t0
        what = '%s%s -n %d -c %d against queue_capacity %s' % (
            r['cmd'].split()[0], ' -k' if keepalive else '', a.ab_n, a.ab_c,
            a.queue_capacity)
        ok = r['rc'] == 0 and r['complete'] == a.ab_n and r['failed'] == 0 and \
            not r['non2xx']
        t.ok(ok, '%s: %s complete, %s failed, %s non-2xx (%.1f s)' % (
            what, r['complete'], r['failed'], r['non2xx'], dt), r['out'][-2500:])
        if keepalive:
            t.ok(r['keepalive'] is not None and r['keepalive'] >= a.ab_n * 0.9,
                 '%s: connections were kept alive (%s keep-alive requests)'
                 % (what, r['keepalive']), r['out'][-1500:])


def cmd_concurrency(t, a):
    run_cases(t, [case_builtin_page, case_many_clients, case_idle_no_starve,
                  case_queue_pressure], a)


# ---------------------------------------------------------------- process

def cmd_idlecpu(t, a):
    held = []
    try:
        for _ in range(a.hold):
            c = Conn(a.port)
            c.request('/cpu?n=10')
            held.append(c)
        time.sleep(a.settle)
        hz = os.sysconf('SC_CLK_TCK')
        c0 = cpu_ticks(a.pid)
        time.sleep(a.seconds)
        c1 = cpu_ticks(a.pid)
        share = (c1 - c0) / hz / a.seconds
        t.ok(share < 0.01, 'idle for %g s%s: %.2f%% of one CPU (%d ticks at '
             '%d Hz), under 1%%' % (
                 a.seconds, ' with %d keep-alive connections open' % a.hold
                 if a.hold else '', share * 100, c1 - c0, hz))
        if held:
            st = [c.request('/cpu?n=10').status for c in held]
            t.ok(st == [200] * len(held), 'the %d held connections still '
                 'serve' % len(held), st)
    finally:
        for c in held:
            c.close()


def cmd_threads(t, a):
    names = thread_names(a.pid)
    t.note('threads: %s' % ' '.join(sorted(names)))
    if a.mode in POOL_MODES:
        want = 1 if a.mode == 'sequential' else a.workers
        workers = sorted(n for n in names if n.startswith('lf-worker-'))
        reactors = [n for n in names if n.startswith('lf-reactor-')]
        t.ok('lf-reactor-0' in names and 'lf-worker-0' in names,
             '%s: threads lf-reactor-0 and lf-worker-0 exist' % a.mode, names)
        # reactors = 0 (the default) depends on the CPUs: 1 on small machines
        t.ok(set(reactors) == set('lf-reactor-%d' % i
                                  for i in range(len(reactors))) and
             (a.mode != 'sequential' or len(reactors) == 1) and
             len(workers) == want and
             set(workers) == set('lf-worker-%d' % i for i in range(want)),
             '%s: reactors lf-reactor-0..%d and %d workers lf-worker-0..%d'
             % (a.mode, len(reactors) - 1, want, want - 1), names)
    else:
        t.ok('lf-acceptor' in names and not any(n.startswith('lf-worker')
                                                for n in names),
             '%s: an lf-acceptor thread, no pool workers' % a.mode, names)


def cmd_drain(t, a):
    """SIGTERM while a slow request is in flight: it completes, idle
    keep-alive connections are closed cleanly."""
    idle = Conn(a.port, timeout=15)
    r = idle.request('/cpu?n=10')
    slow = Conn(a.port, timeout=15)
    slow.send(build('/io?ms=%d' % a.ms))
    time.sleep(0.3)
    t0 = time.monotonic()
    os.kill(a.pid, signal.SIGTERM)
    try:
        r = slow.response()
        dt = time.monotonic() - t0
        t.ok(r.status == 200 and r.body == b'slept %d ms\n' % a.ms,
             'SIGTERM with /io?ms=%d in flight: it still completes with 200 '
             '(%.2f s later)' % (a.ms, dt), r)
    except (Closed, OSError) as e:
        t.ok(False, 'SIGTERM with /io?ms=%d in flight: it still completes '
             'with 200' % a.ms, repr(e))
    how = idle.wait_close(10)
    t.ok(how == 'eof', 'SIGTERM: an idle keep-alive connection is closed '
         'cleanly (%s)' % how)
    how = slow.wait_close(10)
    t.ok(how == 'eof', 'SIGTERM: the drained connection is then closed (%s)'
         % how)
    idle.close()
    slow.close()


def cmd_wait(a):
    """Until the server answers HTTP (exit 0), or it died / timed out (1)."""
    end = time.monotonic() + a.timeout
    while time.monotonic() < end:
        if a.pid and not alive(a.pid):
            return 1
        try:
            # any status will do: /stats may be off on the public port
            fetch(a.port, '/stats', timeout=2, headers=['Connection: close'])
            return 0
        except (OSError, Closed, ValueError):
            pass
        time.sleep(0.05)
    return 1


def cmd_mkdocroot(a):
    d = a.dir
    os.makedirs(os.path.join(d, 'sub', 'dir'), exist_ok=True)
    files = {
        'index.html': '<!DOCTYPE html>\n<html><head><title>itest</title>'
                      '<link rel="stylesheet" href="/style.css"></head>\n'
                      '<body><p>lfserver integration test docroot</p></body>'
                      '</html>\n',
        'style.css': 'body { color: #123456; }\n',
        'sub/dir/page.txt': 'a nested page\n' * 50,
    }
    for rel, text in files.items():
        with open(os.path.join(d, rel), 'w') as f:
            f.write(text)
    # larger than any socket buffer: the server must write it in pieces
    with open(os.path.join(d, 'big.bin'), 'wb') as f:
        f.write(bytes(range(256)) * (3 * 4096 + 7))
    if a.large:
        # bigger than socket buffers and defaults together: a slow reader
        # of it keeps the server writing for seconds
        with open(os.path.join(d, 'large.bin'), 'wb') as f:
            f.write(bytes(range(251)) * (a.large * 1048576 // 251 + 1))
    parent = os.path.dirname(os.path.abspath(d))
    with open(os.path.join(parent, 'secret.txt'), 'w') as f:
        f.write(SECRET + '\n')
    link = os.path.join(d, 'leak.txt')
    if not os.path.lexists(link):
        os.symlink('../secret.txt', link)
    return 0


def cmd_writeini(a):
    extra = []
    if a.admin_listen:
        extra.append('admin_listen = ' + a.admin_listen)
    if a.access_log:
        extra.append('access_log = ' + a.access_log)
    if a.access_log_format:
        extra.append('access_log_format = ' + a.access_log_format)
    write_ini(a.ini, mode=a.mode, workers=a.workers,
              queue_capacity=a.queue_capacity, docroot=a.docroot,
              keepalive_timeout=a.keepalive_timeout,
              request_timeout=a.request_timeout, interval=a.interval,
              extra=extra, public_stats=not a.no_public_stats)
    return 0


# ---------------------------------------------------------------- observability

PROM_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
PROM_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def prom_parse(text):
    """{(name, frozenset(labels.items())): value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        m = PROM_LINE.match(line)
        if not m:
            raise ValueError('bad exposition line %r' % line)
        labels = frozenset(PROM_LABEL.findall(m.group(2) or ''))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def prom_get(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


def prom_sum(m, name):
    return sum(v for (n, _), v in m.items() if n == name)


def scrape(port, path='/metrics'):
    r = fetch(port, path, headers=['Connection: close'])
    if r.status != 200:
        raise ValueError('%s answered %d' % (path, r.status))
    return r


# the request is free text for a request the parser refused ("-" if none)
COMBINED = re.compile(r'^(\S+) - - \[([^\]]+)\] "((?:[^"\\]|\\.)*)" '
                      r'(\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" '
                      r'"((?:[^"\\]|\\.)*)"$')
REQUEST_LINE = re.compile(r'^(\S+) (\S+) (HTTP/1\.\d)$')


def access_lines(path, fmt):
    """The access log's lines as dicts (path, query, status, agent...)."""
    out = []
    for line in read_log(path).splitlines():
        if fmt == 'json':
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({'bad': line})
            continue
        m = COMBINED.match(line)
        if not m:
            out.append({'bad': line})
            continue
        x = {'remote': m.group(1), 'time': m.group(2), 'request': m.group(3),
             'method': '', 'path': '', 'query': '', 'protocol': '',
             'status': int(m.group(4)),
             'bytes': 0 if m.group(5) == '-' else int(m.group(5)),
             'referer': m.group(6), 'user_agent': m.group(7)}
        r = REQUEST_LINE.match(m.group(3))
        if r:
            p, _, q = r.group(2).partition('?')
            x.update(method=r.group(1), path=p, query=q, protocol=r.group(3))
        out.append(x)
    return out


def cmd_observe(t, a):
    """The admin listener (/stats, /metrics, 404 else), public /stats off,
    counters that move with real requests, and the access log (fields,
    flushed within a second, reopened on SIGUSR2 after a rename)."""
    mode = a.mode
    r = fetch(a.port, '/stats', headers=['Connection: close'])
    t.ok(r.status == 404, '%s: /stats on the public port is 404 by default' % mode, r)
    r = fetch(a.port, '/metrics', headers=['Connection: close'])
    t.ok(r.status == 404, '%s: /metrics on the public port is 404' % mode, r)
    r = scrape(a.admin_port, '/stats')
    s = json.loads(r.body.decode())
    t.ok(s.get('mode') == mode and s.get('pid') == a.pid,
         '%s: admin /stats is JSON with the mode and pid' % mode, s)
    for path, method, want in (('/', 'GET', 404), ('/cpu', 'GET', 404),
                               ('/metrics?x=1', 'GET', 200),
                               ('/metrics', 'POST', 405),
                               ('/metrics', 'HEAD', 200)):
        r = fetch(a.admin_port, path, method=method, headers=['Connection: close'])
        t.ok(r.status == want, '%s: admin %s %s answers %d' % (mode, method, path, want),
             r)
    # idle and half-sent admin clients hold no one else up
    idle = [Conn(a.admin_port) for _ in range(3)]
    idle[0].send(b'GET /metr')
    t0 = time.monotonic()
    r = scrape(a.admin_port)
    dt = time.monotonic() - t0
    t.ok(r.status == 200 and dt < 2, '%s: a scrape is answered while three admin '
         'clients idle, one mid-request (%.2f s)' % (mode, dt))
    for c in idle:
        c.close()
    r = scrape(a.admin_port)
    ctype = r.header('content-type') or ''
    t.ok(ctype.startswith('text/plain; version=0.0.4'),
         '%s: /metrics is text/plain; version=0.0.4' % mode, ctype)
    m0 = prom_parse(r.body.decode())
    n_cpu, n_404 = 7, 2
    c = Conn(a.port)
    for i in range(n_cpu):
        rr = c.request('/cpu?n=%d' % (100 + i), headers=['User-Agent: itest-observe/1',
                                                         'Referer: http://ref/"x"'])
        if rr.status != 200:
            t.ok(False, '/cpu answered 200', rr)
    c.close()
    for i in range(n_404):
        fetch(a.port, '/no-such-file-%d' % i, headers=['Connection: close'])
    m1 = prom_parse(scrape(a.admin_port).body.decode())

    def delta(name, **labels):
        return prom_get(m1, name, **labels) - prom_get(m0, name, **labels)
    d_cpu = delta('lfserver_requests_total', route='/cpu', code='2xx')
    t.ok(d_cpu == n_cpu, '%s: %d requests to /cpu add %d to '
         'lfserver_requests_total{route="/cpu",code="2xx"} (got %g)'
         % (mode, n_cpu, n_cpu, d_cpu))
    d_404 = delta('lfserver_requests_total', route='/', code='4xx')
    t.ok(d_404 == n_404, '%s: %d misses add %d to {route="/",code="4xx"} (got %g)'
         % (mode, n_404, n_404, d_404))
    count = prom_get(m1, 'lfserver_request_duration_seconds_count')
    d_count = count - prom_get(m0, 'lfserver_request_duration_seconds_count')
    t.ok(d_count == n_cpu + n_404 and
         count == prom_sum(m1, 'lfserver_requests_total'),
         '%s: the histogram count moved by %d and equals the sum of '
         'lfserver_requests_total' % (mode, n_cpu + n_404),
         (d_count, count, prom_sum(m1, 'lfserver_requests_total')))
    buckets = sorted((float('inf') if dict(l)['le'] == '+Inf' else float(dict(l)['le']), v)
                     for (n, l), v in m1.items()
                     if n == 'lfserver_request_duration_seconds_bucket')
    t.ok(len(buckets) == 17 and buckets[0][0] == 0.0001 and buckets[-2][0] == 10
         and all(buckets[i][1] <= buckets[i + 1][1] for i in range(16))
         and buckets[-1][1] == count,
         '%s: 17 cumulative buckets from 100 us to 10 s, +Inf = count' % mode,
         buckets)
    t.ok(prom_get(m1, 'lfserver_request_duration_seconds_sum') > 0,
         '%s: the histogram sum is positive' % mode)
    d_acc = delta('lfserver_connections_accepted_total')
    t.ok(d_acc >= 1 + n_404, '%s: connections_accepted_total grew by >= %d (got %g)'
         % (mode, 1 + n_404, d_acc))
    info = [dict(l) for (n, l), v in m1.items() if n == 'lfserver_build_info' and v == 1]
    t.ok(len(info) == 1 and info[0].get('mode') == mode and
         info[0].get('workers') == str(s.get('workers')) and
         info[0].get('queue_capacity') == str(s.get('queue_capacity')),
         '%s: lfserver_build_info names the mode, workers, capacity' % mode, info)
    busy = prom_get(m1, 'lfserver_workers', state='busy')
    idle = prom_get(m1, 'lfserver_workers', state='idle')
    if mode != 'thread-per-connection':
        t.ok(busy + idle == s['workers'], '%s: busy + idle workers = %d (%g + %g)'
             % (mode, s['workers'], busy, idle))
    now = time.time()
    t.ok(prom_get(m1, 'process_open_fds') >= 3 and
         prom_get(m1, 'process_max_fds') >= prom_get(m1, 'process_open_fds') and
         prom_get(m1, 'process_resident_memory_bytes') > 1e5 and
         now - 3600 < prom_get(m1, 'process_start_time_seconds') <= now + 1 and
         prom_get(m1, 'process_cpu_seconds_total') >= 0,
         '%s: the process metrics are plausible' % mode,
         {k: v for k, v in m1.items() if k[0].startswith('process_')})
    if shutil.which('promtool'):
        text = scrape(a.admin_port).body
        p = subprocess.run(['promtool', 'check', 'metrics'], input=text,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        t.ok(p.returncode == 0, '%s: promtool check metrics accepts /metrics' % mode,
             p.stdout.decode(errors='replace'))
    if not a.log:
        return

    # the access log: flushed within about a second, without a stop
    def cpu_lines():
        return [x for x in access_lines(a.log, a.format)
                if x.get('path') == '/cpu']
    lines = wait_for(lambda: len(cpu_lines()) >= n_cpu and cpu_lines(), 3)
    bad = [x for x in access_lines(a.log, a.format) if 'bad' in x]
    t.ok(not bad, '%s: every %s access log line parses' % (mode, a.format), bad[:3])
    lines = cpu_lines()
    want_q = ['n=%d' % (100 + i) for i in range(n_cpu)]
    # per-thread buffers: lines of different workers may come out of order
    good = (len(lines) == n_cpu and sorted(x['query'] for x in lines) == want_q and
            all(x['status'] == 200 and x['method'] == 'GET' and
                x['remote'] == '127.0.0.1' and x['protocol'] == 'HTTP/1.1' and
                x['user_agent'] == 'itest-observe/1' and x['bytes'] > 0
                for x in lines))
    t.ok(good, '%s: %d /cpu lines with query, status 200, client address, '
         'protocol, user agent and size, within 3 s' % (mode, n_cpu),
         lines[:3])
    ref = lines[0].get('referer') if lines else None
    t.ok(ref in ('http://ref/"x"', 'http://ref/\\"x\\"'),
         '%s: the referer is logged (quotes escaped in combined)' % mode, ref)
    misses = [x for x in access_lines(a.log, a.format)
              if x.get('path', '').startswith('/no-such-file-')]
    t.ok(len(misses) == n_404 and all(x['status'] == 404 for x in misses),
         '%s: the misses are logged with status 404' % mode, misses)
    if a.format == 'json':
        t.ok(all(isinstance(x.get('duration_us'), int) for x in lines),
             '%s: json lines carry duration_us' % mode, lines[:1])

    # a request the parser refuses is logged too, with its line as received
    c = Conn(a.port)
    c.send(b'G@T /refused-probe HTTP/1.1\r\nHost: x\r\n\r\n')
    rr = c.response()
    c.close()
    refused = wait_for(lambda: [x for x in access_lines(a.log, a.format)
                                if x.get('request') == 'G@T /refused-probe HTTP/1.1'], 3)
    t.ok(rr.status == 400 and refused and refused[0]['status'] == 400 and
         refused[0]['remote'] == '127.0.0.1' and 'bad' not in refused[0],
         '%s: a request the parser refuses (400) is logged with its request line'
         % mode, refused)

    # logrotate: rename, SIGUSR2, new lines go to a new file of the old name
    os.rename(a.log, a.log + '.1')
    os.kill(a.pid, signal.SIGUSR2)
    t.ok(wait_for(lambda: os.path.exists(a.log), 3),
         '%s: SIGUSR2 makes a new %s' % (mode, os.path.basename(a.log)))
    for i in range(3):
        fetch(a.port, '/cpu?n=3&after=rotate', headers=['Connection: close'])
    after = wait_for(lambda: [x for x in access_lines(a.log, a.format)
                              if x.get('query') == 'n=3&after=rotate'], 3)
    old = [x for x in access_lines(a.log + '.1', a.format)
           if x.get('query') == 'n=3&after=rotate']
    t.ok(after and len(after) == 3 and not old,
         '%s: after the rename and SIGUSR2 the new lines go to the new file'
         % mode, (after, old))


# ---------------------------------------------------------------- reload

class Load(threading.Thread):
    """One client looping requests until told to stop, with keep-alive or
    with Connection: close. With keep-alive, the server may close only after
    a response that says Connection: close: an EOF or a reset while a
    response is awaited is a failure, and so is a refused connection."""

    PATHS = ('/', '/cpu?n=2000', '/io?ms=3', '/stats', '/mixed', '/cpu?n=10')

    def __init__(self, port, keepalive, stop, limit):
        threading.Thread.__init__(self, daemon=True)
        self.port = port
        self.keepalive = keepalive
        self.stop = stop
        self.limit = limit
        self.ok = 0
        self.failures = []
        self.nfail = 0
        self.resets = 0
        self.reconnects = 0

    def fail(self, msg):
        self.nfail += 1
        if len(self.failures) < 20:
            self.failures.append(msg)

    def run(self):
        c = None
        n = 0
        while not self.stop.is_set() and n < self.limit:
            path = self.PATHS[n % len(self.PATHS)]
            n += 1
            try:
                if c is None:
                    c = Conn(self.port, timeout=15)
                    self.reconnects += 1
                r = c.request(path, headers=[] if self.keepalive
                              else ['Connection: close'])
            except Closed as e:
                if e.how == 'reset':
                    self.resets += 1
                self.fail('%s while awaiting %s (request %d, keep-alive %s)'
                          % (e.how, path, n, self.keepalive))
                if c:
                    c.close()
                c = None
                continue
            except OSError as e:
                if isinstance(e, ConnectionResetError):
                    self.resets += 1
                self.fail('%r on %s (request %d)' % (e, path, n))
                if c:
                    c.close()
                c = None
                continue
            if r.status != 200:
                self.fail('%s answered %d: %r' % (path, r.status, r.body[:100]))
            else:
                self.ok += 1
            if not self.keepalive:
                how = c.wait_close(5)
                if how != 'eof' or not r.closes():
                    if how == 'reset':
                        self.resets += 1
                    self.fail('Connection: close request: %s, header %r'
                              % (how, r.header('connection')))
                c.close()
                c = None
            elif r.closes():
                c.close()
                c = None
        if c:
            c.close()


def load_stop(stop, loads):
    """Sets STOP, waits for the Load threads LOADS; what they did, summed:
    (requests OK, requests failed, resets, failure texts)."""
    stop.set()
    for ld in loads:
        ld.join(30)
    return (sum(ld.ok for ld in loads), sum(ld.nfail for ld in loads),
            sum(ld.resets for ld in loads),
            [f for ld in loads for f in ld.failures])


def settle_counts(pid, fds0, tasks0, timeout):
    def good():
        return count_fds(pid) <= fds0 and count_tasks(pid) == tasks0
    wait_for(good, timeout, 0.1)
    return count_fds(pid), count_tasks(pid)


def wait_reloads(port, n, timeout):
    """/stats once reloads has reached N (or the last one seen)."""
    last = [None]

    def seen():
        try:
            s = stats(port)
        except (OSError, Closed, ValueError):
            return None
        last[0] = s
        return s if s['reloads'] >= n else None

    return wait_for(seen, timeout, 0.02) or last[0]


def stats_lines(log):
    return re.findall(r'^lfserver: stats: .*$', read_log(log), re.M)


def cmd_reload(t, a):
    # as test_reload.sh starts it
    base = dict(mode='lockfree', workers=2, queue_capacity=8, docroot=a.docroot,
                keepalive_timeout=30, interval=0)
    pid, port = a.pid, a.port
    time.sleep(0.3)
    fds0, tasks0 = count_fds(pid), count_tasks(pid)
    t.note('before: %d fds, %d threads' % (fds0, tasks0))

    # quiet keep-alive connections, to be used again after all the reloads
    idle = []
    for _ in range(4):
        c = Conn(port, timeout=10)
        c.request('/cpu?n=10')
        idle.append(c)
    partial = None

    stop = threading.Event()
    loads = [Load(port, True, stop, 100000) for _ in range(4)] + \
        [Load(port, False, stop, 30000) for _ in range(2)]
    for ld in loads:
        ld.start()
    time.sleep(0.3)

    workers = (1, 2, 4, 8)
    caps = (1, 2, 8, 64)
    cycle = ('locked', 'thread-per-connection', 'sequential', 'lockfree')
    wrong = []
    stalled = []
    t0 = time.monotonic()
    for i in range(a.count):
        if i == a.count - 1:
            cfg = dict(base)    # back to the start: fds and threads compare
        else:
            cfg = dict(base, mode=cycle[i % 4], workers=workers[(i // 4) % 4],
                       queue_capacity=caps[(i // 2 + i // 16) % 4])
        t1 = time.monotonic()
        done0 = sum(ld.ok for ld in loads)
        if i == 10:
            # half a request before a reload, the rest after the next one
            partial = Conn(port, timeout=10)
            partial.send(b'GET /cpu?n=1000 HTTP/1.1\r\nHo')
        write_ini(a.ini, **cfg)
        os.kill(pid, signal.SIGHUP)
        s = wait_reloads(port, i + 1, 5)
        if i == 11 and partial is not None:
            partial.send(b'st: x\r\n\r\n')
        # the clients go on under every engine: progress before the next one
        if not wait_for(lambda: sum(ld.ok for ld in loads) >= done0 + 12, 5):
            stalled.append((i + 1, cfg['mode'], sum(ld.ok for ld in loads)
                            - done0))
        left = a.gap - (time.monotonic() - t1)
        if left > 0:
            time.sleep(left)
        # signals of one kind coalesce: the next SIGHUP only once this one ran
        if s is None or s['reloads'] != i + 1 or s['mode'] != cfg['mode'] or \
                s['queue_capacity'] != cfg['queue_capacity'] or \
                (cfg['mode'] in ('lockfree', 'locked') and
                 s['workers'] != cfg['workers']):
            wrong.append((i + 1, cfg['mode'], cfg['workers'],
                          cfg['queue_capacity'], s))
            if s is None or s['reloads'] < i + 1:
                break
    dt = time.monotonic() - t0
    time.sleep(0.3)
    okn, nfail, resets, fails = load_stop(stop, loads)
    t.ok(not wrong, '%d SIGHUPs in %.1f s cycling 4 modes, workers 1-8, '
         'capacity 1-64: each one applied as written' % (a.count, dt),
         wrong[:5])
    t.ok(dt < 45, '%d reloads took %.1f s (< 45 s)' % (a.count, dt))
    t.ok(not stalled, 'the clients made progress after every reload',
         'reload, mode, requests done after it: %r' % stalled[:10])
    t.ok(okn >= 200 and nfail == 0, 'load during the reloads: %d requests OK, '
         '%d failed' % (okn, nfail), '\n'.join(fails[:20]))
    t.ok(resets == 0, 'no connection reset during the reloads (%d)' % resets)
    t.ok(all(not ld.is_alive() for ld in loads), 'the load clients finished')
    t.note('load: %s' % ', '.join('%s%d ok/%d conns' % (
        'ka ' if ld.keepalive else 'close ', ld.ok, ld.reconnects)
        for ld in loads))
    s = stats(port)
    t.ok(s['mode'] == 'lockfree' and s['reloads'] == a.count and
         s['workers'] == 2 and s['queue_capacity'] == 8,
         '/stats after them: mode lockfree, workers 2, capacity 8, reloads %d'
         % a.count, s)
    try:
        r = partial.response() if partial is not None else None
        t.ok(r is not None and r.status == 200 and
             r.body == b'primes<=1000: 168\n',
             'a request begun before reload 11 and ended after reload 12 is '
             'answered', r)
    except (Closed, OSError) as e:
        t.ok(False, 'a request begun before reload 11 and ended after reload '
             '12 is answered', repr(e))
    res = []
    for c in idle:
        try:
            res.append(c.request('/cpu?n=100').status)
        except (Closed, OSError) as e:
            res.append(repr(e))
    t.ok(res == [200] * len(idle), '%d keep-alive connections left idle '
         'through the %d reloads still serve' % (len(idle), a.count), res)
    for c in idle + ([partial] if partial else []):
        c.close()
    s = wait_for(lambda: (lambda x: x if x['connections'] == 1 else None)(
        stats(port)), 5) or stats(port)
    t.ok(s['connections'] == 1, '/stats counts 1 open connection (this one) '
         'once the clients are gone', s)
    fds1, tasks1 = settle_counts(pid, fds0, tasks0, 5)
    t.ok(fds1 <= fds0, 'no fd leak: %d open before, %d after' % (fds0, fds1),
         os.listdir('/proc/%d/fd' % pid))
    t.ok(tasks1 == tasks0, 'no thread leak: %d threads before, %d after'
         % (tasks0, tasks1), thread_names(pid))

    # an invalid file: the running engine stays, the error names FILE:LINE
    lines = write_ini(a.ini, **dict(base, mode='locked', extra=['bogus_key = 1']))
    lineno = lines.index('bogus_key = 1') + 1
    before = read_log(a.log).count('reload_failed')
    os.kill(pid, signal.SIGHUP)
    got = wait_for(lambda: read_log(a.log).count('reload_failed') > before, 5)
    log = read_log(a.log)
    failed = [ln for ln in log.splitlines() if 'reload_failed' in ln]
    where = '%s:%d' % (a.ini, lineno)
    t.ok(got and failed and where in failed[-1] and 'bogus_key' in failed[-1],
         'an unknown key on reload: stderr has reload_failed with %s and the '
         'key' % where, failed[-1:] or log[-2000:])
    s = stats(port)
    t.ok(s['mode'] == 'lockfree' and s['reloads'] == a.count,
         'after the failed reload the old engine runs (mode lockfree, reloads '
         '%d)' % a.count, s)
    r = fetch(port, '/cpu?n=100')
    t.ok(r.status == 200 and r.body == b'primes<=100: 25\n',
         'after the failed reload it keeps serving', r)

    # SIGUSR1: one stats line now
    n0 = len(stats_lines(a.log))
    os.kill(pid, signal.SIGUSR1)
    wait_for(lambda: len(stats_lines(a.log)) > n0, 3)
    sl = stats_lines(a.log)
    t.ok(len(sl) == n0 + 1 and 'requests=' in sl[-1] and 'mode=lockfree' in sl[-1],
         'SIGUSR1 prints one "stats:" line on stderr', sl[-2:])

    # [stats] interval = 1 through a reload: a line every second
    write_ini(a.ini, **dict(base, interval=1))
    os.kill(pid, signal.SIGHUP)
    s = wait_reloads(port, a.count + 1, 5)
    t.ok(s is not None and s['reloads'] == a.count + 1,
         'reload to [stats] interval = 1 applied', s)
    n0 = len(stats_lines(a.log))
    end = time.monotonic() + 3.5
    while time.monotonic() < end:   # busy: a request every 0.2 s
        fetch(port, '/cpu?n=10')
        time.sleep(0.2)
    sl = stats_lines(a.log)[n0:]
    reqs = [int(m.group(1)) for m in
            (re.search(r' requests=(\d+)', ln) for ln in sl) if m]
    t.ok(3 <= len(sl) <= 5 and len(reqs) == len(sl),
         '[stats] interval = 1, busy: %d stats lines with requests= in 3.5 s'
         % len(sl), sl)
    t.ok(reqs == sorted(reqs) and all(r > 0 for r in reqs),
         'the requests= counts never go down', reqs)
    # idle: one entry per 5 minutes at most (the interval's last busy one aside)
    time.sleep(1.2)
    n1 = len(stats_lines(a.log))
    time.sleep(3)
    sl = stats_lines(a.log)[n1:]
    t.ok(len(sl) == 0, '[stats] interval = 1, idle: no stats line in 3 s', sl)


# ---------------------------------------------------------------- sd_notify

def cmd_notify_listen(a):
    """Records every datagram on an AF_UNIX socket (one JSON line each, with
    CLOCK_MONOTONIC at arrival) until STOPPING=1 or the timeout."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.socket)
    s.settimeout(0.5)
    end = time.monotonic() + a.timeout
    with open(a.out, 'a') as f:
        while time.monotonic() < end:
            try:
                d = s.recv(65536)
            except socket.timeout:
                continue
            msg = d.decode(errors='replace')
            f.write(json.dumps({'t': time.monotonic(), 'msg': msg}) + '\n')
            f.flush()
            if 'STOPPING=1' in msg.split('\n'):
                # a last look for anything sent after it
                s.settimeout(0.5)
                try:
                    d = s.recv(65536)
                    f.write(json.dumps({'t': time.monotonic(),
                                        'msg': d.decode(errors='replace')})
                            + '\n')
                except socket.timeout:
                    pass
                break
    s.close()
    return 0


def cmd_notify_check(t, a):
    with open(a.file) as f:
        recs = [json.loads(ln) for ln in f if ln.strip()]
    msgs = [r['msg'].split('\n') for r in recs]
    t.note('notify messages: %r' % [r['msg'] for r in recs])
    events = []     # (index, assignment) in order, watchdog left out
    for i, m in enumerate(msgs):
        for kv in m:
            if kv and kv != 'WATCHDOG=1':
                events.append((i, kv))

    def find(pred, start):
        for j in range(start, len(events)):
            if pred(events[j][1]):
                return j
        return None

    r1 = find(lambda kv: kv == 'READY=1', 0)
    t.ok(r1 is not None, 'READY=1 is sent', msgs)
    st = [kv for _, kv in events[:r1 + 1 if r1 is not None else 0]
          if kv.startswith('STATUS=')]
    t.ok(st and 'mode=%s' % a.first_mode in st[-1],
         'STATUS= with mode=%s before the first READY=1' % a.first_mode, st)
    rl = find(lambda kv: kv == 'RELOADING=1', (r1 or 0) + 1) \
        if r1 is not None else None
    ok = False
    diag = msgs
    if rl is not None:
        i = events[rl][0]
        mono = [kv for kv in msgs[i] if kv.startswith('MONOTONIC_USEC=')]
        if mono and mono[0][15:].isdigit():
            usec = int(mono[0][15:])
            diag = 'MONOTONIC_USEC=%d, received at %.6f s' % (usec, recs[i]['t'])
            ok = abs(usec / 1e6 - recs[i]['t']) < 5
    t.ok(ok, 'then RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC, in the '
         'same message)', diag)
    r2 = find(lambda kv: kv == 'READY=1', rl + 1) if rl is not None else None
    t.ok(r2 is not None, 'then READY=1 again', msgs)
    st2 = [kv for _, kv in events[rl:r2 + 1]
           if kv.startswith('STATUS=')] if r2 is not None else []
    t.ok(st2 and 'mode=%s' % a.second_mode in st2[-1],
         'STATUS= with mode=%s after the reload' % a.second_mode, st2)
    sp = find(lambda kv: kv == 'STOPPING=1', r2 + 1) if r2 is not None else None
    t.ok(sp is not None, 'then STOPPING=1', msgs)
    t.ok(sp is not None and find(lambda kv: kv == 'READY=1', sp) is None,
         'nothing says READY=1 after STOPPING=1', msgs)
    if a.watchdog:
        wd = sum(1 for m in msgs if 'WATCHDOG=1' in m)
        t.ok(wd >= 2, 'WATCHDOG_USEC set: WATCHDOG=1 sent (%d times)' % wd, msgs)


# ---------------------------------------------------------------- main

def arg_parser(doc):
    """(parser, subparsers) of a test script whose description is DOC's
    first paragraph: --tap-start and --tap-file for lib.sh, and the wait
    subcommand that lib.sh's lf_start runs."""
    p = argparse.ArgumentParser(description=doc.split('\n\n')[0])
    p.add_argument('--tap-start', type=int, default=0)
    p.add_argument('--tap-file')
    sub = p.add_subparsers(dest='cmd', required=True)
    sp = sub.add_parser('wait', help='until the server answers')
    server(sp)
    sp.add_argument('--timeout', type=float, default=10)
    return p, sub


def server(sp):
    """The server a subcommand SP talks to: --port, and --pid."""
    sp.add_argument('--port', type=int, required=True)
    sp.add_argument('--pid', type=int, default=0)


def run_tapped(cmds, a):
    """Runs subcommand a.cmd, CMDS[a.cmd](tap, a); its exception is a
    failure. Saves the TAP count for lib.sh; returns the exit status."""
    t = Tap(a.tap_start, a.tap_file)
    try:
        cmds[a.cmd](t, a)
    except Exception:
        t.ok(False, '%s ran to the end' % a.cmd, traceback.format_exc())
    finally:
        t.save()
    return 1 if t.failed else 0


def main():
    p, sub = arg_parser(__doc__)
    sp = sub.add_parser('endpoints', help='every endpoint and HTTP edge case')
    server(sp)
    sp.add_argument('--mode', required=True, choices=MODES)
    sp.add_argument('--workers', type=int)
    sp.add_argument('--docroot')
    sp.add_argument('--timeouts', action='store_true',
                    help='the server runs with request/keepalive_timeout = 1')
    sp = sub.add_parser('concurrency', help='many clients, idle ones, ab')
    server(sp)
    sp.add_argument('--mode', required=True, choices=MODES)
    sp.add_argument('--clients', type=int, default=200)
    sp.add_argument('--idle', type=int, default=190)
    sp.add_argument('--ab-n', type=int, default=2000)
    sp.add_argument('--ab-c', type=int, default=100)
    sp.add_argument('--queue-capacity', default='?')
    sp = sub.add_parser('idlecpu', help='CPU used while idle')
    server(sp)
    sp.add_argument('--seconds', type=float, default=5)
    sp.add_argument('--settle', type=float, default=1)
    sp.add_argument('--hold', type=int, default=0,
                    help='keep-alive connections kept open meanwhile')
    sp = sub.add_parser('threads', help='thread names')
    server(sp)
    sp.add_argument('--mode', required=True, choices=MODES)
    sp.add_argument('--workers', type=int, required=True)
    sp = sub.add_parser('drain', help='SIGTERM with a request in flight')
    server(sp)
    sp.add_argument('--ms', type=int, default=1500)
    sp = sub.add_parser('reload', help='SIGHUP under load, failed reload, '
                        'SIGUSR1, stats interval')
    server(sp)
    sp.add_argument('--ini', required=True)
    sp.add_argument('--log', required=True)
    sp.add_argument('--docroot')
    sp.add_argument('--count', type=int, default=50)
    sp.add_argument('--gap', type=float, default=0.15,
                    help='seconds at least between two SIGHUPs')
    sp = sub.add_parser('mkdocroot', help='a test docroot (and a secret '
                        'file next to it)')
    sp.add_argument('dir')
    sp.add_argument('--large', type=int, default=0, metavar='MIB',
                    help='also large.bin of about MIB MiB')
    sp = sub.add_parser('writeini', help='a test ini')
    sp.add_argument('ini')
    sp.add_argument('--mode', default='lockfree')
    sp.add_argument('--workers', type=int, default=2)
    sp.add_argument('--queue-capacity', type=int, default=8)
    sp.add_argument('--docroot')
    sp.add_argument('--keepalive-timeout', type=int)
    sp.add_argument('--request-timeout', type=int)
    sp.add_argument('--interval', type=int, default=0)
    sp.add_argument('--no-public-stats', action='store_true')
    sp.add_argument('--admin-listen')
    sp.add_argument('--access-log')
    sp.add_argument('--access-log-format', choices=('combined', 'json'))
    sp = sub.add_parser('observe', help='admin listener, /metrics, access log')
    server(sp)
    sp.add_argument('--mode', required=True, choices=MODES)
    sp.add_argument('--admin-port', type=int, required=True)
    sp.add_argument('--log', help='the access log file, if on')
    sp.add_argument('--format', default='combined', choices=('combined', 'json'))
    sp = sub.add_parser('notify-listen', help='record sd_notify datagrams')
    sp.add_argument('--socket', required=True)
    sp.add_argument('--out', required=True)
    sp.add_argument('--timeout', type=float, default=30)
    sp = sub.add_parser('notify-check', help='check their order')
    sp.add_argument('--file', required=True)
    sp.add_argument('--first-mode', default='lockfree')
    sp.add_argument('--second-mode', default='locked')
    sp.add_argument('--watchdog', action='store_true')
    a = p.parse_args()

    plain = {'wait': cmd_wait, 'mkdocroot': cmd_mkdocroot,
             'writeini': cmd_writeini, 'notify-listen': cmd_notify_listen}
    if a.cmd in plain:
        return plain[a.cmd](a)
    tapped = {'endpoints': cmd_endpoints, 'concurrency': cmd_concurrency,
              'idlecpu': cmd_idlecpu, 'threads': cmd_threads,
              'drain': cmd_drain, 'reload': cmd_reload,
              'notify-check': cmd_notify_check, 'observe': cmd_observe}
    return run_tapped(tapped, a)


if __name__ == '__main__':
    sys.exit(main())

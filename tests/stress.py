#!/usr/bin/env python3
"""
stress.py - lfserver's bounds tests (`make check-stress`, not `make check`):
what a crowd of clients can make the server hold, and that it holds it. Run
by the tests/stress_*.sh wrappers against the real binary, loopback only,
with tests/itest.py's client and TAP plumbing.

Every case is bounded in count and time (the whole run stays within about
five minutes on two cores). Memory is the server's resident set
(/proc/PID/status VmRSS); kernel socket buffers are not in it.
"""

import os
import resource
import selectors
import signal
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itest    # noqa: E402
from itest import (Closed, Conn, HOST, Load, build, count_fds,  # noqa: E402
                   count_tasks, fetch, load_stop, read_log, rss_kib, server,
                   settle_counts, stats, wait_for, write_ini)


def raise_nofile(want):
    """Raises this process's soft RLIMIT_NOFILE towards WANT; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def timed_fetch(port, path='/cpu?n=10'):
    """(status, seconds) of one request on a fresh connection."""
    t0 = time.monotonic()
    try:
        r = fetch(port, path, timeout=10)
        return r.status, time.monotonic() - t0
    except (Closed, OSError) as e:
        return repr(e), time.monotonic() - t0


def open_conns(port, want, timeout):
    """/stats once its open connection count (itself included) is WANT."""
    def get():
        s = stats(port)
        return s if s['connections'] == want else None
    return wait_for(get, timeout, 0.1) or stats(port)


def close_all(t, port, socks, timeout, what):
    """Closes SOCKS, then checks within TIMEOUT s that the server holds none
    of them: WHAT, the check's text."""
    for s in socks:
        s.close()
    n = open_conns(port, 1, timeout)['connections']
    t.ok(n == 1, '%s (connections %d)' % (what, n))


# ------------------------------------------------------------ many sockets

REQ = b'GET /cpu?n=10 HTTP/1.1\r\nHost: x\r\n\r\n'
BODY = b'primes<=10: 4\n'


def round_trip(socks, timeout):
    """Sends REQ on every socket at once, then reads the responses with one
    epoll. Returns (answered, failures)."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        s.setblocking(False)
    fails = []
    for s in socks:
        try:
            s.send(REQ)
            bufs[s] = b''
            sel.register(s, selectors.EVENT_READ)
        except OSError as e:
            fails.append(repr(e))
    done = 0
    end = time.monotonic() + timeout
    while bufs and time.monotonic() < end:
        for key, _ in sel.select(1.0):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError as e:
                d = None
                fails.append(repr(e))
            if not d:
                if d is not None:
                    fails.append('eof')
                sel.unregister(s)
                del bufs[s]
                continue
            bufs[s] += d
            b = bufs[s]
            if b.endswith(BODY) and b'\r\n\r\n' in b:
                if not b.startswith(b'HTTP/1.1 200 '):
                    fails.append(b[:40])
                else:
                    done += 1
                sel.unregister(s)
                del bufs[s]
    if bufs:
        fails.append('%d without an answer in %d s' % (len(bufs), timeout))
    sel.close()
    return done, fails


def readable(socks):
    """The sockets with something to read (data or EOF) right now."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    got = [k.fileobj for k, _ in sel.select(0)]
    sel.close()
    return got


def cmd_idle(t, a):
    """COUNT keep-alive connections, each served once and then idle: the
    server holds them all, serves each again, and an idle one costs it
    little memory."""
    n = a.count
    lim = raise_nofile(n + 256)
    if not t.ok(lim >= n + 256, 'the client may open %d sockets (limit %d)'
                % (n, lim)):
        return
    for _ in range(20):
        timed_fetch(a.port)
    time.sleep(0.5)
    rss0 = rss_kib(a.pid)
    socks = []
    t0 = time.monotonic()
    try:
        for _ in range(n):
            s = socket.create_connection((HOST, a.port), timeout=10)
            socks.append(s)
    except OSError as e:
        t.note('connect %d: %r' % (len(socks), e))
    t.ok(len(socks) == n, '%d connections opened in %.1f s'
         % (len(socks), time.monotonic() - t0))
    done, fails = round_trip(socks, 60)
    t.ok(done == n and not fails, 'each served one request (%d of %d)'
         % (done, n), fails[:10])
    time.sleep(2)
    rss1 = rss_kib(a.pid)
    per = (rss1 - rss0) * 1024.0 / max(n, 1)
    s = stats(a.port)
    gone = readable(socks)
    t.ok(s['connections'] == n + 1 and not gone,
         'after 2 s idle the server holds all %d (connections %d, %d closed)'
         % (n, s['connections'], len(gone)))
    t.note('RSS %d KiB before, %d KiB with %d idle keep-alive connections: '
           '%.0f bytes each' % (rss0, rss1, n, per))
    t.ok(per < a.max_bytes, 'memory per idle keep-alive connection: %.0f '
         'bytes (bound %d)' % (per, a.max_bytes))
    done, fails = round_trip(socks, 60)
    t.ok(done == n and not fails, 'then all %d are served again when they '
         'send a request (%d)' % (n, done), fails[:10])
    close_all(t, a.port, socks, 20, 'closed by the clients, they are all '
              'released')


# ------------------------------------------------------------ slowloris

def latencies(port, k):
    res = [timed_fetch(port) for _ in range(k)]
    bad = [r for r in res if r[0] != 200]
    return sorted(r[1] for r in res), bad


def cmd_slowloris(t, a):
    """COUNT clients that send a request head a few bytes a second: a normal
    client is served as fast as before, and each slow head is cut off
    request_timeout after its first byte although bytes keep coming."""
    n = a.count
    raise_nofile(n + 256)
    latencies(a.port, 10)
    before, bad0 = latencies(a.port, 40)
    m0 = statistics.median(before)
    socks = []
    for _ in range(n):
        s = socket.create_connection((HOST, a.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    t0 = time.monotonic()
    for s in socks:
        s.send(b'GET /cpu?n=10 HTTP/1.1\r\n')
    stop = threading.Event()
    closed = {}         # socket -> seconds after its first byte

    def trickle():
        live = list(socks)
        while live and not stop.is_set():
            t1 = time.monotonic()
            for s in live:
                try:
                    s.send(b'X')
                except OSError:
                    closed.setdefault(s, time.monotonic() - t0)
            live = [s for s in live if s not in closed]
            for s in readable(live):
                closed.setdefault(s, time.monotonic() - t0)
            live = [s for s in live if s not in closed]
            stop.wait(max(0.0, 0.5 - (time.monotonic() - t1)))

    th = threading.Thread(target=trickle, daemon=True)
    th.start()
    time.sleep(0.5)
    during, bad1 = latencies(a.port, 40)
    m1 = statistics.median(during)
    bound = max(5 * m0, m0 + 0.05)
    t.ok(not bad0 and not bad1 and m1 <= bound,
         'a normal client beside %d slowloris clients: median %.2f ms (%.2f '
         'ms before; bound %.1f ms), slowest %.2f ms'
         % (n, m1 * 1e3, m0 * 1e3, bound * 1e3, during[-1] * 1e3),
         (bad0, bad1))
    early = len(closed)
    limit = a.request_timeout + 5
    wait_for(lambda: len(closed) == n, limit + 1 - (time.monotonic() - t0))
    stop.set()
    th.join(5)
    when = sorted(closed.values())
    t.ok(early == 0 and len(closed) == n and when[0] >= a.request_timeout - 0.5
         and when[-1] <= limit,
         'every slow head is closed %d-%d s after its first byte although it '
         'kept sending (%d closed, first %.1f s, last %.1f s)'
         % (a.request_timeout, limit, len(closed), when[0] if when else -1,
            when[-1] if when else -1))
    close_all(t, a.port, socks, 10, 'none is left open')


# ------------------------------------------------------------ slow readers

def cmd_readers(t, a):
    """COUNT clients ask for a large file and never read it: the server's
    memory stays under a bound, and it still serves others."""
    n = a.count
    raise_nofile(n + 256)
    r = fetch(a.port, '/large.bin', timeout=30)
    size = len(r.body)
    t.ok(r.status == 200 and size >= 1 << 20, 'GET /large.bin: %d bytes'
         % size)
    time.sleep(0.5)
    rss0 = rss_kib(a.pid)
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(10)
        s.connect((HOST, a.port))
        s.send(build('/large.bin'))
        socks.append(s)
    peak = rss0
    end = time.monotonic() + 3
    while time.monotonic() < end:
        peak = max(peak, rss_kib(a.pid))
        time.sleep(0.05)
    st, dt = timed_fetch(a.port)
    grow = (peak - rss0) / 1024.0
    t.note('RSS %d KiB before, peak %d KiB with %d readers of %d bytes not '
           'reading' % (rss0, peak, n, size))
    t.ok(grow < a.max_mib, '%d clients not reading a %.0f MiB file: RSS grew '
         '%.1f MiB (bound %d MiB)' % (n, size / 1048576.0, grow, a.max_mib))
    t.ok(st == 200 and dt < 1.0, 'meanwhile another client is served in '
         '%.3f s' % dt, st)
    close_all(t, a.port, socks, 15, 'once they leave, none is left open')


# ------------------------------------------------------------ fd limits

def cmd_limits(t, a):
    """max_connections and running out of descriptors: clients beyond
    either wait in the listen backlog (never refused, never spun on) and
    are served once others leave."""
    mode = a.mode
    held = []
    for _ in range(a.max_connections):
        c = Conn(a.port, timeout=10)
        held.append(c)
    res = [c.request('/cpu?n=10').status for c in held]
    t.ok(res == [200] * a.max_connections, '%s: %d keep-alive connections '
         '(max_connections) served' % (mode, a.max_connections), res)
    extra = []
    for _ in range(8):
        c = Conn(a.port, timeout=10)
        c.send(REQ)
        extra.append(c)
    time.sleep(1.0)
    early = readable([c.sock for c in extra])
    t.ok(not early, '%s: 8 more connect (the backlog) but are not served '
         'while max_connections are open (%d answered)' % (mode, len(early)))
    for c in held[:8]:
        c.close()
    held = held[8:]
    res = []
    for c in extra:
        try:
            res.append(c.response().status)
        except (Closed, OSError) as e:
            res.append(repr(e))
    t.ok(res == [200] * 8, '%s: once 8 leave, the 8 waiting are served'
         % mode, res)
    for c in held + extra:
        c.close()
    open_conns(a.port, 1, 10)

    # out of descriptors: the server may open only a few more
    soft, hard = resource.prlimit(a.pid, resource.RLIMIT_NOFILE)
    fds = count_fds(a.pid)
    resource.prlimit(a.pid, resource.RLIMIT_NOFILE, (fds + 6, hard))
    try:
        crowd = []
        for _ in range(40):
            c = Conn(a.port, timeout=15)
            c.send(REQ)
            crowd.append(c)
        time.sleep(0.5)
        cpu0 = itest.cpu_ticks(a.pid)
        time.sleep(2.0)
        busy = (itest.cpu_ticks(a.pid) - cpu0) / os.sysconf('SC_CLK_TCK')
        t.ok(itest.alive(a.pid) and busy < 0.4,
             '%s: out of descriptors with 40 clients waiting, the server '
             'does not spin (%.2f s CPU in 2 s)' % (mode, busy))
        # the served ones leave; the rest get their turn
        res = []
        for c in crowd:
            try:
                r = c.response()
                res.append(r.status)
            except (Closed, OSError) as e:
                res.append(repr(e))
            c.close()
        t.ok(res.count(200) == 40, '%s: as descriptors free up, all 40 are '
             'served (%d)' % (mode, res.count(200)),
             [r for r in res if r != 200][:5])
    finally:
        resource.prlimit(a.pid, resource.RLIMIT_NOFILE, (soft, hard))
    st, dt = timed_fetch(a.port)
    t.ok(st == 200, '%s: then a new client is served (%.3f s)' % (mode, dt),
         st)


# ------------------------------------------------------------ reload storm

INVALID = (
    dict(extra=['bogus_key = 1']),
    dict(mode='fastest'),
    dict(extra=['max_connections = many']),
    dict(extra=['routes = /nonexistent/lfserver-routes.conf']),
)
CYCLE = ('locked', 'thread-per-connection', 'sequential', 'lockfree')


def cmd_hupstorm(t, a):
    """COUNT SIGHUPs, one in four with an invalid file, most sent the moment
    the previous one was handled and some back to back, under load."""
    base = dict(mode='lockfree', workers=2, queue_capacity=8,
                docroot=a.docroot, keepalive_timeout=30, interval=0)
    pid, port = a.pid, a.port
    time.sleep(0.3)
    fds0, tasks0 = count_fds(pid), count_tasks(pid)
    t.note('before: %d fds, %d threads' % (fds0, tasks0))
    stop = threading.Event()
    loads = [Load(port, True, stop, 10 ** 6) for _ in range(4)] + \
        [Load(port, False, stop, 10 ** 6) for _ in range(2)]
    for ld in loads:
        ld.start()
    time.sleep(0.3)

    def failed_count():
        return read_log(a.log).count('reload_failed')

    last_valid = None
    stuck = []
    t0 = time.monotonic()
    for i in range(a.count):
        tail = i >= a.count - 3
        if i == a.count - 3:
            # the last valid file: the pool of the start, another capacity
            cfg = dict(base, queue_capacity=10 + i)
        elif i % 4 == 3 or i > a.count - 3:
            cfg = dict(base, **INVALID[(i // 4) % len(INVALID)])
        else:
            cfg = dict(base, mode=CYCLE[i % 4], workers=1 + i % 3,
                       queue_capacity=10 + i)
        valid = 'extra' not in cfg and cfg['mode'] in CYCLE
        nf = failed_count()
        write_ini(a.ini, **cfg)
        os.kill(pid, signal.SIGHUP)
        if i % 10 in (5, 6) and not tail:
            continue        # back to back: the next SIGHUP at once
        if valid:
            last_valid = cfg
            got = wait_for(lambda: (lambda s: s if s['queue_capacity'] ==
                                    cfg['queue_capacity'] and s['mode'] ==
                                    cfg['mode'] else None)(stats(port)), 10)
        else:
            got = wait_for(lambda: failed_count() > nf, 10)
        if not got:
            stuck.append((i, cfg.get('mode'), cfg.get('queue_capacity')))
            if len(stuck) > 3:
                break
    dt = time.monotonic() - t0
    time.sleep(0.5)
    okn, nfail, resets, fails = load_stop(stop, loads)
    t.ok(not stuck, '%d SIGHUPs in %.1f s, a quarter with an invalid file: '
         'each handled' % (a.count, dt), stuck)
    t.ok(okn >= 200 and nfail == 0, 'load meanwhile: %d requests OK, %d '
         'failed' % (okn, nfail), '\n'.join(fails[:20]))
    t.ok(resets == 0, 'no connection reset')
    s = stats(port)
    t.ok(last_valid is not None and s['mode'] == last_valid['mode'] and
         s['workers'] == last_valid['workers'] and
         s['queue_capacity'] == last_valid['queue_capacity'],
         'the server runs the last valid file (mode %s, workers %d, '
         'capacity %d)' % (s['mode'], s['workers'], s['queue_capacity']),
         (s, last_valid))
    t.note('%d reloads applied, %d failed' % (s['reloads'], failed_count()))
    s = open_conns(port, 1, 10)
    fds1, tasks1 = settle_counts(pid, fds0, tasks0, 10)
    t.ok(fds1 <= fds0, 'no fd leak: %d open before, %d after' % (fds0, fds1),
         sorted(os.listdir('/proc/%d/fd' % pid)))
    t.ok(tasks1 == tasks0, 'no thread leak: %d threads before, %d after'
         % (tasks0, tasks1), itest.thread_names(pid))


# ------------------------------------------------------------ SIGTERM

def cmd_stop(t, a):
    """SIGTERM while clients keep asking and slow requests are in flight:
    those finish whole, no response is cut short, and the server is gone
    well within the unit's stop timeout."""
    stop = threading.Event()
    cut = []
    served = [0]

    def client(keepalive):
        c = None
        while not stop.is_set():
            try:
                if c is None:
                    c = Conn(a.port, timeout=10)
                r = c.request('/cpu?n=1000', headers=[] if keepalive
                              else ['Connection: close'])
                if r.status == 200 and r.body == b'primes<=1000: 168\n':
                    served[0] += 1
                elif r.status != 503:
                    cut.append(repr(r))
                if not keepalive or r.closes():
                    c.close()
                    c = None
            except Closed as e:
                # an idle connection closed by the stop is fine; bytes of a
                # response and then the end is not
                if c.buf:
                    cut.append('%s after %r' % (e.how, c.buf[:60]))
                c.close()
                c = None
            except OSError:
                if c is not None:
                    c.close()
                c = None
                stop.wait(0.05)     # refused: the server is going

    ths = [threading.Thread(target=client, args=(i % 2 == 0,), daemon=True)
           for i in range(6)]
    for th in ths:
        th.start()
    time.sleep(0.5)
    slow = []
    for _ in range(a.slow):
        c = Conn(a.port, timeout=15)
        c.send(build('/io?ms=%d' % a.ms))
        slow.append(c)
    time.sleep(0.3)
    t0 = time.monotonic()
    os.kill(a.pid, signal.SIGTERM)
    res = []
    for c in slow:
        try:
            r = c.response()
            res.append(r.status if r.body == b'slept %d ms\n' % a.ms
                       else repr(r))
        except (Closed, OSError) as e:
            res.append(repr(e))
        c.close()
    gone = wait_for(lambda: not itest.alive(a.pid), a.stop_timeout)
    dt = time.monotonic() - t0
    stop.set()
    for th in ths:
        th.join(15)
    t.ok(res == [200] * a.slow, '%s: SIGTERM with %d /io?ms=%d in flight: '
         'all finish with 200' % (a.mode, a.slow, a.ms), res)
    t.ok(served[0] >= 50 and not cut, '%s: the load before and during the stop '
         'got whole responses (%d), none cut short' % (a.mode, served[0]),
         cut[:10])
    t.ok(gone and dt < a.stop_timeout / 3.0,
         '%s: the server exits %.2f s after SIGTERM (TimeoutStopSec=%d; '
         'bound a third of it)' % (a.mode, dt, a.stop_timeout))


# ------------------------------------------------------------ main

def main():
    p, sub = itest.arg_parser(__doc__)
    sp = sub.add_parser('idle', help='many idle keep-alive connections')
    server(sp)
    sp.add_argument('--count', type=int, default=10000)
    sp.add_argument('--max-bytes', type=int, default=2048,
                    help='bound on RSS growth per idle connection')
    sp = sub.add_parser('slowloris', help='clients sending a head slowly')
    server(sp)
    sp.add_argument('--count', type=int, default=1000)
    sp.add_argument('--request-timeout', type=int, required=True)
    sp = sub.add_parser('readers', help='clients not reading a large file')
    server(sp)
    sp.add_argument('--count', type=int, default=100)
    sp.add_argument('--max-mib', type=int, default=64)
    sp = sub.add_parser('limits', help='max_connections, EMFILE')
    server(sp)
    sp.add_argument('--mode', required=True)
    sp.add_argument('--max-connections', type=int, required=True)
    sp = sub.add_parser('hupstorm', help='SIGHUPs under load')
    server(sp)
    sp.add_argument('--ini', required=True)
    sp.add_argument('--log', required=True)
    sp.add_argument('--docroot')
    sp.add_argument('--count', type=int, default=200)
    sp = sub.add_parser('stop', help='SIGTERM under load')
    server(sp)
    sp.add_argument('--mode', required=True)
    sp.add_argument('--slow', type=int, default=8,
                    help='slow requests in flight (fewer than workers)')
    sp.add_argument('--ms', type=int, default=1000)
    sp.add_argument('--stop-timeout', type=int, default=90)
    a = p.parse_args()

    if a.cmd == 'wait':
        return itest.cmd_wait(a)
    cmds = {'idle': cmd_idle, 'slowloris': cmd_slowloris,
            'readers': cmd_readers, 'limits': cmd_limits,
            'hupstorm': cmd_hupstorm,
            'stop': cmd_stop}
    return itest.run_tapped(cmds, a)


if __name__ == '__main__':
    sys.exit(main())

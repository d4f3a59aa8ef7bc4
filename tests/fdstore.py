#!/usr/bin/env python3
"""fdstore.py - systemd's file descriptor store, played by this script.

lfserver keeps its idle keep-alive connections across a restart by handing
them to systemd at the stop (sd_pid_notify_with_fds "FDSTORE=1\\nFDNAME=conn")
and taking them back at the next start (LISTEN_FDS/LISTEN_FDNAMES, after the
listening sockets). Here the notify socket and the fd passing are done by
hand, as systemd 252 does them, so the exchange is checked without a booted
systemd (tests/nspawn/ci-test.sh checks it with the real one):

  1. lfserver #1 (MODE1) serves N keep-alive clients, one request each; one
     more client leaves half a request in the server's buffer;
  2. SIGTERM: #1 must store exactly the N idle connections (not the one with
     buffered input, which it closes) and exit 0;
  3. half the clients send their next request while no lfserver runs;
     lfserver #2 (MODE2) starts with the listening socket and the N stored
     fds; each client's next request is answered on the same connection.
"""
import argparse
import array
import fcntl
import os
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itest import Conn, Tap, write_ini  # noqa: E402

SCM_MAX = 253
seen = []          # every datagram's text, in order


def recv_notify(ns, timeout):
    """One datagram: (text, [fds]) or None after TIMEOUT s."""
    r, _, _ = select.select([ns], [], [], timeout)
    if not r:
        return None
    fds = array.array('i')
    msg, anc, _, _ = ns.recvmsg(65536, socket.CMSG_SPACE(SCM_MAX * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    return msg.decode(errors='replace'), list(fds)


def spawn(lfserver, ini, fds, names, notify_path, log):
    """lfserver with FDS at 3, 4, ... named NAMES, as systemd passes them."""
    env = dict(os.environ, LISTEN_FDS=str(len(fds)),
               LISTEN_FDNAMES=':'.join(names), NOTIFY_SOCKET=notify_path)

    def place():
        # copies above 3 + n first, so that no dup2 below overwrites a source;
        # not far above: RLIMIT_NOFILE may be 1024
        high = [fcntl.fcntl(f, fcntl.F_DUPFD, 3 + len(fds)) for f in fds]
        for i, f in enumerate(high):
            os.dup2(f, 3 + i)                    # dup2 clears close-on-exec
    return subprocess.Popen(
        ['sh', '-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"',
         lfserver, '-c', ini], env=env, stdout=log, stderr=log,
        preexec_fn=place, close_fds=False)


def wait_text(ns, text, timeout, stored=None):
    """Datagrams until one contains TEXT; FDSTORE=1 fds go to STORED, every
    other fd (sd_notify_barrier's pipe) is closed as systemd does."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = recv_notify(ns, end - time.monotonic())
        if m is None:
            break
        msg, fds = m
        seen.append(msg)
        lines = msg.split('\n')
        if 'FDSTORE=1' in lines and stored is not None:
            name = [ln[7:] for ln in lines if ln.startswith('FDNAME=')]
            stored.extend((name[0] if name else 'stored', f) for f in fds)
        else:
            for f in fds:
                os.close(f)
        if text in lines:
            return True
    return False


def stop(proc, ns, stored, timeout=15):
    """SIGTERM, then the notify messages until PROC exits (reading them as
    systemd does, so that sd_notify_barrier() returns); its exit status."""
    proc.send_signal(signal.SIGTERM)
    end = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < end:
        wait_text(ns, 'never', 0.05, stored)
    if proc.poll() is None:
        proc.kill()
    rc = proc.wait()
    wait_text(ns, 'never', 0.2, stored)    # anything sent just before the exit
    return rc


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--lfserver', required=True)
    p.add_argument('--tmp', required=True)
    p.add_argument('--mode1', default='lockfree')
    p.add_argument('--mode2', default='thread-per-connection')
    p.add_argument('--n', type=int, default=50)
    p.add_argument('--tap-start', type=int, default=0)
    a = p.parse_args()
    t = Tap(a.tap_start, None)

    npath = os.path.join(a.tmp, 'notify-%d.sock' % os.getpid())
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(npath)
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen(128)
    port = lsock.getsockname()[1]
    ini = os.path.join(a.tmp, 'fdstore.ini')
    log = open(os.path.join(a.tmp, 'fdstore.log'), 'a')

    write_ini(ini, mode=a.mode1, workers=2)
    p1 = spawn(a.lfserver, ini, [lsock.fileno()], ['http'], npath, log)
    t.ok(wait_text(ns, 'READY=1', 10), '#1 (%s) is ready' % a.mode1)
    clients = [Conn(port) for _ in range(a.n)]
    first = [c.request('/cpu?n=100') for c in clients]
    t.ok(all(r.status == 200 and r.body.strip() == b'primes<=100: 25' for r in first),
         '#1 answers %d keep-alive clients' % a.n)
    half = Conn(port)
    half.send(b'GET /cpu?n=100 HTTP/1.1\r\nHost: x\r\n')   # no end of head
    time.sleep(0.3)

    stored = []
    rc = stop(p1, ns, stored)
    t.ok(rc == 0, '#1 exits 0 on SIGTERM (got %s)' % rc)
    names = set(n for n, _ in stored)
    t.ok(len(stored) == a.n and names == {'conn'},
         '#1 stored exactly the %d idle connections, named conn (got %d, %s)'
         % (a.n, len(stored), names))
    t.ok(half.wait_close(3) in ('eof', 'reset'),
         'the connection with half a request in its buffer was closed')

    # half the clients send their next request while no lfserver runs: it
    # waits in the socket and must be served once #2 adopts the connection
    early = clients[:a.n // 2]
    for c in early:
        c.send(b'GET /cpu?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n')
    write_ini(ini, mode=a.mode2, workers=2)
    fds = [lsock.fileno()] + [f for _, f in stored]
    p2 = spawn(a.lfserver, ini, fds, ['http'] + ['conn'] * len(stored), npath, log)
    for _, f in stored:
        os.close(f)       # #2 and the clients hold them now
    del seen[:]
    t.ok(wait_text(ns, 'READY=1', 10), '#2 (%s) is ready' % a.mode2)
    # systemd would pass them again at every start while they stay open there
    t.ok(any(m.split('\n')[:2] == ['FDSTOREREMOVE=1', 'FDNAME=conn'] for m in seen),
         '#2 took them out of the store (FDSTOREREMOVE=1, FDNAME=conn)', seen)
    good = 0
    bad = []
    for i, c in enumerate(clients):
        try:
            r = c.response() if i < len(early) else c.request('/cpu?n=1000')
            if r.status == 200 and r.body.strip() == b'primes<=1000: 168':
                good += 1
            else:
                bad.append((i, r.status))
        except Exception as e:        # noqa: BLE001 - reported, not raised
            bad.append((i, repr(e)))
    t.ok(good == a.n, '#2 (%s) answers the next request of all %d clients on '
         'their first TCP connection, %d of them sent during the restart '
         '(%d answered)' % (a.mode2, a.n, len(early), good), bad[:5])
    r = Conn(port).request('/stats')
    t.ok(r.status == 200 and b'"mode":"%s"' % a.mode2.encode() in r.body,
         '#2 accepts new clients on the passed listening socket too')
    more = []
    rc = stop(p2, ns, more)
    t.ok(rc == 0, '#2 exits 0 (got %s)' % rc)
    for _, f in more:
        os.close(f)
    for c in clients:
        c.close()
    ns.close()
    os.unlink(npath)
    print('1..%d' % t.n)
    return 1 if t.failed else 0


if __name__ == '__main__':
    sys.exit(main())

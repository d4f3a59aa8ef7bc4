#!/usr/bin/env python3
"""
conform.py - RFC 9112 / 9110 conformance at the connection level: exact
request bytes sent to the real server and what must come back, including
whether the connection is closed afterwards or still serves a request.
docs/CONFORMANCE.md names these cases. Run by tests/test_conformance.sh in
every mode (through tests/lib.sh, like tests/itest.py, whose client and TAP
output this reuses).

    conform.py cases --port PORT      the cases against a running server
    conform.py corpus DIR             each case's bytes as a file (the parser
                                      fuzz targets' seed corpus)
"""

import argparse
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itest  # noqa: E402  (its client, TAP and helpers)

# Sent after a request whose connection must stay usable: proves that exactly
# the request's bytes (body included) were consumed.
NEXT = b'GET /cpu?n=100 HTTP/1.1\r\nHost: x\r\n\r\n'
NEXT_BODY = b'primes<=100: 25\n'
ALLOW = 'GET, HEAD, OPTIONS'

H = b'Host: x\r\n'
POST = b'POST / HTTP/1.1\r\n' + H
TECH = POST + b'Transfer-Encoding: chunked\r\n\r\n'


def chunked_post(size_line, data=b'hello'):
    return TECH + size_line + b'\r\n' + data + b'\r\n0\r\n\r\n'


# (name, bytes, status, checks, after). NEXT is sent in the same write; after
# is 'keep' (NEXT is answered on the same connection) or 'close' (the response
# says Connection: close, NEXT is never answered, the server closes).
CASES = [
    # RFC 9112 3.2 / RFC 9110 7.2: Host
    ('host-missing', b'GET / HTTP/1.1\r\n\r\n', 400, {}, 'close'),
    ('host-twice', b'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, {},
     'close'),
    ('host-userinfo', b'GET / HTTP/1.1\r\nHost: user@host\r\n\r\n', 400, {},
     'close'),
    ('host-path', b'GET / HTTP/1.1\r\nHost: host:80/path\r\n\r\n', 400, {},
     'close'),
    ('host-empty', b'GET / HTTP/1.1\r\nHost: \r\n\r\n', 400, {}, 'close'),
    ('host-list', b'GET / HTTP/1.1\r\nHost: a, b\r\n\r\n', 400, {}, 'close'),
    ('host-valid', b'GET /cpu?n=10 HTTP/1.1\r\nHost: [::1]:7878\r\n\r\n', 200,
     {}, 'keep'),
    # RFC 9112 3.2.2: absolute-form
    ('absolute-form', b'GET http://other.example/cpu?n=10 HTTP/1.1\r\n' + H +
     b'\r\n', 200, {'body': b'primes<=10: 4\n'}, 'keep'),
    # RFC 9112 3: the request line and target
    ('target-non-ascii', b'GET /\xc3\xa9 HTTP/1.1\r\n' + H + b'\r\n', 400, {},
     'close'),
    ('target-control', b'GET /a\x01 HTTP/1.1\r\n' + H + b'\r\n', 400, {},
     'close'),
    ('target-fragment', b'GET /cpu#x HTTP/1.1\r\n' + H + b'\r\n', 400, {},
     'close'),
    ('method-33-bytes', b'A' * 33 + b' / HTTP/1.1\r\n' + H + b'\r\n', 501, {},
     'close'),
    ('method-100k', b'A' * 100000 + b' / HTTP/1.1\r\n' + H + b'\r\n', 400, {},
     'close'),
    ('method-unknown', b'BREW / HTTP/1.1\r\n' + H + b'\r\n', 501, {}, 'keep'),
    ('version-1.2-as-1.1', b'GET /cpu?n=10 HTTP/1.2\r\n' + H + b'\r\n', 200,
     {'version': 'HTTP/1.1'}, 'keep'),
    ('version-2.0', b'GET / HTTP/2.0\r\n' + H + b'\r\n', 505, {}, 'close'),
    # RFC 9112 2.2 and 5: lines and fields
    ('bare-lf', b'GET / HTTP/1.1\nHost: x\n\n', 400, {}, 'close'),
    ('bare-cr', b'GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n', 400, {}, 'close'),
    ('obs-fold', b'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n', 400, {},
     'close'),
    ('ws-before-colon', b'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400, {},
     'close'),
    ('leading-crlf', b'\r\nGET /cpu?n=10 HTTP/1.1\r\n' + H + b'\r\n', 200, {},
     'keep'),
    # RFC 9112 6.1, 6.3: framing, before the method is looked at
    ('te-gzip', POST + b'Transfer-Encoding: gzip\r\n\r\n', 400, {}, 'close'),
    ('te-chunked-gzip', POST + b'Transfer-Encoding: chunked, gzip\r\n\r\n',
     400, {}, 'close'),
    ('te-gzip-chunked', POST + b'Transfer-Encoding: gzip, chunked\r\n\r\n'
     b'0\r\n\r\n', 501, {}, 'close'),
    ('te-http10', b'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n'
     b'0\r\n\r\n', 400, {}, 'close'),
    ('cl-and-te', POST + b'Content-Length: 5\r\nTransfer-Encoding: chunked'
     b'\r\n\r\n0\r\n\r\n', 400, {}, 'close'),
    ('cl-differing', POST + b'Content-Length: 5\r\nContent-Length: 6\r\n\r\n'
     b'hello!', 400, {}, 'close'),
    ('cl-not-digits', POST + b'Content-Length: 5x\r\n\r\nhello', 400, {},
     'close'),
    ('cl-plus', POST + b'Content-Length: +5\r\n\r\nhello', 400, {}, 'close'),
    ('chunked-size-ext-empty', chunked_post(b'5;'), 400, {}, 'close'),
    ('chunked-size-underscore', chunked_post(b'1_0', b'0123456789abcdef'),
     400, {}, 'close'),
    ('chunked-size-0x', chunked_post(b'0x5'), 400, {}, 'close'),
    ('chunked-size-plus', chunked_post(b'+5'), 400, {}, 'close'),
    ('chunked-size-minus', chunked_post(b'-1', b'h'), 400, {}, 'close'),
    ('chunked-size-65-bits', chunked_post(b'1ffffffffffffffff'), 400, {},
     'close'),
    ('chunked-data-too-long', chunked_post(b'5', b'helloX'), 400, {},
     'close'),
    ('chunked-too-large', chunked_post(b'1400', b'z' * 0x1400), 413, {},
     'close'),
    # RFC 9110 15.5.6 and RFC 9112 9.3: 405 after the body is read: kept
    ('405-cl-body', POST + b'Content-Length: 5\r\n\r\nhello', 405,
     {'allow': ALLOW}, 'keep'),
    ('405-chunked-body', chunked_post(b'5;ext=1'), 405, {'allow': ALLOW},
     'keep'),
    ('405-large-cl-body', POST + b'Content-Length: 100000\r\n\r\n' +
     b'b' * 100000, 405, {'allow': ALLOW}, 'keep'),
    ('405-no-body', b'DELETE / HTTP/1.1\r\n' + H + b'\r\n', 405,
     {'allow': ALLOW}, 'keep'),
    # RFC 9110 9.3.1: a body on GET is read, answered, then the end
    ('get-cl-body', b'GET /cpu?n=10 HTTP/1.1\r\n' + H +
     b'Content-Length: 5\r\n\r\nhello', 200, {'connection': 'close'}, 'close'),
    ('get-chunked-body', b'GET /cpu?n=10 HTTP/1.1\r\n' + H +
     b'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 200,
     {'connection': 'close'}, 'close'),
    ('get-cl-zero', b'GET /cpu?n=10 HTTP/1.1\r\n' + H +
     b'Content-Length: 0\r\n\r\n', 200, {}, 'keep'),
    ('head-cl-body', b'HEAD /cpu?n=10 HTTP/1.1\r\n' + H +
     b'Content-Length: 3\r\n\r\nabc', 200, {'connection': 'close'},
     'close'),
    ('get-cl-body-too-large', b'GET / HTTP/1.1\r\n' + H +
     b'Content-Length: 2000000\r\n\r\n', 413, {}, 'close'),
    # RFC 9112 9.6: nothing after "close" is processed
    ('connection-close', b'GET /cpu?n=10 HTTP/1.1\r\n' + H +
     b'Connection: close\r\n\r\n', 200, {'connection': 'close'}, 'close'),
    # RFC 9110 10.1.1: Expect: 100-continue gets its answer at once
    ('expect-continue', POST + b'Expect: 100-continue\r\n'
     b'Content-Length: 5\r\n\r\n', 405, {'connection': 'close'}, 'close'),
    # RFC 9110 13.1.1: If-Match, strong comparison; 412 keeps the connection
    ('if-match-other', b'GET / HTTP/1.1\r\n' + H + b'If-Match: "nope"\r\n\r\n',
     412, {}, 'keep'),
    ('if-match-no-etag', b'GET /cpu?n=10 HTTP/1.1\r\n' + H +
     b'If-Match: "x"\r\n\r\n', 412, {}, 'keep'),
    ('if-match-star', b'GET /cpu?n=10 HTTP/1.1\r\n' + H +
     b'If-Match: *\r\n\r\n', 200, {'body': b'primes<=10: 4\n'}, 'keep'),
    # RFC 9110 9.3.7: OPTIONS
    ('options-asterisk', b'OPTIONS * HTTP/1.1\r\n' + H + b'\r\n', 200,
     {'allow': ALLOW, 'content-length': '0'}, 'keep'),
    ('options-path', b'OPTIONS /cpu HTTP/1.1\r\n' + H + b'\r\n', 200,
     {'allow': ALLOW, 'content-length': '0'}, 'keep'),
]


def check(r, status, checks):
    """What is wrong with response R, or None."""
    if r.status != status:
        return 'status %d, want %d' % (r.status, status)
    for k, want in checks.items():
        if k == 'body':
            got = r.body
        elif k == 'version':
            got = r.version
        else:
            got = r.header(k)
            if k == 'connection' and got:
                got = got.lower()
        if got != want:
            return '%s is %r, want %r' % (k, got, want)
    return None


def run_case(t, port, name, raw, status, checks, after):
    c = itest.Conn(port, timeout=10)
    try:
        try:
            c.send(raw + NEXT)
        except OSError:
            pass    # a server may close before all of a large request is in
        r = c.response(head=raw.startswith(b'HEAD '))
        err = check(r, status, checks)
        if after == 'close':
            how = c.wait_close(3)
            closes = r.closes()
            t.ok(err is None and closes and how == 'eof',
                 '%s: %d, Connection: close, the request after it is not '
                 'answered, the server closes' % (name, status),
                 (err, r, how, c.buf[:80]))
        else:
            r2 = c.response()
            t.ok(err is None and not r.closes() and r2.status == 200 and
                 r2.body == NEXT_BODY,
                 '%s: %d, then the next request on the connection is answered'
                 % (name, status), (err, r, r2))
    except (itest.Closed, OSError, ValueError) as e:
        t.ok(False, '%s: answered' % name, repr(e))
    finally:
        c.close()


def case_incomplete_body(t, a):
    """A Content-Length body that never completes gets no early 405: the
    server waits for it, then request_timeout (1 s here) ends it with 408."""
    c = itest.Conn(a.port, timeout=10)
    try:
        c.send(POST + b'Content-Length: 10\r\n\r\nabc')
        early = c.wait_close(0.5)
        t0 = time.monotonic()
        r = c.response()
        dt = time.monotonic() - t0
        how = c.wait_close(3)
        t.ok(early == 'timeout' and r.status == 408 and how == 'eof',
             'cl-body-incomplete: nothing before the body ends; 408 after '
             'request_timeout (%.2f s), then close' % dt, (early, r, how))
    except (itest.Closed, OSError, ValueError) as e:
        t.ok(False, 'cl-body-incomplete: answered', repr(e))
    finally:
        c.close()


def case_split(t, a):
    """The 405-with-chunked-body case sent in 7-byte pieces: the same
    answers as in one write (the parser is incremental)."""
    raw = chunked_post(b'5;ext=1') + NEXT
    c = itest.Conn(a.port, timeout=10, nodelay=True)
    try:
        for i in range(0, len(raw), 7):
            c.send(raw[i:i + 7])
            time.sleep(0.002)
        r1 = c.response()
        r2 = c.response()
        t.ok(r1.status == 405 and r2.status == 200 and r2.body == NEXT_BODY,
             '405-chunked-body in 7-byte writes: 405, then 200', (r1, r2))
    except (itest.Closed, OSError, ValueError) as e:
        t.ok(False, '405-chunked-body in 7-byte writes', repr(e))
    finally:
        c.close()


def case_not_modified(t, a):
    """RFC 9110 13.1.2 and 15.4.5: If-None-Match with the current ETag is
    304 with that ETag and a Date, no Content-Length, no content; the
    connection stays usable."""
    c = itest.Conn(a.port, timeout=10)
    try:
        r = c.request('/')
        tag = r.header('etag')
        c.send(b'GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: ' +
               (tag or '"none"').encode() + b'\r\n\r\n' + NEXT)
        r304 = c.response()
        r2 = c.response()
        c.send(b'GET / HTTP/1.1\r\nHost: x\r\nIf-Match: ' +
               (tag or '"none"').encode() + b'\r\n\r\n')
        rmatch = c.response()
        t.ok(rmatch.status == 200 and rmatch.header('etag') == tag,
             'if-match-listed: its own ETag: 200', rmatch)
        t.ok(tag is not None and r304.status == 304 and
             r304.header('etag') == tag and r304.header('date') and
             r304.header('content-length') is None and
             r2.body == NEXT_BODY,
             'if-none-match: 304 with ETag and Date, no Content-Length or '
             'content, the connection kept', (tag, r304, r2))
    except (itest.Closed, OSError, ValueError) as e:
        t.ok(False, 'if-none-match: 304', repr(e))
    finally:
        c.close()


def cmd_cases(t, a):
    for case in CASES:
        try:
            run_case(t, a.port, *case)
        except Exception:
            t.ok(False, '%s ran' % case[0], traceback.format_exc())
    itest.run_cases(t, [case_split, case_incomplete_body, case_not_modified],
                    a)


def cmd_corpus(a):
    os.makedirs(a.dir, exist_ok=True)
    for name, raw, *_ in CASES:
        with open(os.path.join(a.dir, 'conn-' + name), 'wb') as f:
            f.write(raw)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--tap-start', type=int, default=0)
    p.add_argument('--tap-file')
    sub = p.add_subparsers(dest='cmd', required=True)
    sp = sub.add_parser('cases', help='run the cases against a server')
    sp.add_argument('--port', type=int, required=True)
    sp.add_argument('--pid', type=int, default=0)
    sp = sub.add_parser('corpus', help='write each case\'s bytes to DIR')
    sp.add_argument('dir')
    a = p.parse_args()
    if a.cmd == 'corpus':
        return cmd_corpus(a)
    t = itest.Tap(a.tap_start, a.tap_file)
    try:
        cmd_cases(t, a)
    except Exception:
        t.ok(False, 'conform.py ran to the end', traceback.format_exc())
    finally:
        t.save()
    return 1 if t.failed else 0


if __name__ == '__main__':
    sys.exit(main())

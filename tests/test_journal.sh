#!/bin/sh
# test_journal.sh - access_log = journal: one journal entry per request with
# the structured LF_* fields, checked in a private journald (the recipe of
# systemd-testing.md: a mount namespace with its own /run, where
# systemd-journald listens and writes to a directory of this test). Needs
# root, unshare and systemd-journald; skips otherwise.

. "${srcdir:-.}/tests/lib.sh"
JOURNALD=/lib/systemd/systemd-journald

if [ -z "${LF_IN_NS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: not root (a private journald needs a mount namespace)"
		exit 77
	fi
	for t in unshare journalctl; do
		if ! command -v $t >/dev/null 2>&1; then
			echo "SKIP: $t not found"
			exit 77
		fi
	done
	if [ ! -x "$JOURNALD" ]; then
		echo "SKIP: $JOURNALD not found (Debian package systemd)"
		exit 77
	fi
	if ! unshare --mount --propagation private true 2>/dev/null; then
		echo "SKIP: unshare --mount is not permitted here"
		exit 77
	fi
	LF_IN_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi

lf_init
mkdir -p "$LF_TMP/journal"
mount -t tmpfs tmpfs /run || { echo "SKIP: cannot mount a tmpfs on /run"; exit 77; }
mkdir -p /run/log/journal
mount --bind "$LF_TMP/journal" /run/log/journal
"$JOURNALD" > "$LF_TMP/journald.log" 2>&1 &
LF_PIDS="$LF_PIDS $!"
lf_wait_for 50 -S /run/systemd/journal/socket
lf_ok $? "a private journald listens"

python3 "$LF_ITEST" writeini "$LF_TMP/j.ini" --mode lockfree --workers 2 \
    --access-log journal || exit 1
if ! lf_start "$LF_TMP/j.ini"; then
	lf_ok 1 "the server starts with access_log = journal"
	lf_done
fi
python3 - "$LF_PORT" <<'PY'
import sys, urllib.request
port = sys.argv[1]
for i in range(5):
    r = urllib.request.Request('http://127.0.0.1:%s/cpu?n=7&j=%d' % (port, i),
                               headers={'User-Agent': 'itest-journal/1'})
    urllib.request.urlopen(r).read()
try:
    urllib.request.urlopen('http://127.0.0.1:%s/missing.txt' % port)
except urllib.error.HTTPError:
    pass
# a request the parser refuses (400): logged with LF_REQUEST
import socket
s = socket.create_connection(('127.0.0.1', int(port)))
s.sendall(b'G@T /jrefused HTTP/1.1\r\nHost: x\r\n\r\n')
s.recv(4096)
s.close()
PY
# the writer flushes within a second
n=0
i=0
while [ $i -lt 40 ]; do
	journalctl --sync 2>/dev/null
	journalctl -D "$LF_TMP/journal" -o json LF_EVENT=access > "$LF_TMP/access.json" 2>/dev/null
	# (lf_start's own probe is logged too)
	n=$(grep -c -E '"LF_PATH" *: *"/(cpu|missing.txt)"' "$LF_TMP/access.json")
	[ "$n" -ge 6 ] && grep -q '"LF_REQUEST"' "$LF_TMP/access.json" && break
	sleep 0.1
	i=$((i + 1))
done
[ "$n" = 6 ]
lf_ok $? "six requests make six LF_EVENT=access entries within 4 s (got $n)"
python3 - "$LF_TMP/access.json" "$LF_PID" > "$LF_TMP/check" <<'PY'
import json, sys
es = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cpu = [e for e in es if e.get('LF_PATH') == '/cpu']
miss = [e for e in es if e.get('LF_PATH') == '/missing.txt']
def good(e, status):
    return (e.get('LF_STATUS') == str(status) and e.get('LF_METHOD') == 'GET' and
            e.get('LF_REMOTE') == '127.0.0.1' and e.get('LF_PROTOCOL') == 'HTTP/1.1' and
            e.get('LF_DURATION_US', '').isdigit() and
            e.get('LF_USER_AGENT', '').startswith('itest-journal/1' if status == 200
                                                  else 'Python-urllib') and
            e.get('_PID') == sys.argv[2] and e.get('PRIORITY') == '6' and
            '"GET ' in e.get('MESSAGE', ''))
print(1 if len(cpu) == 5 and all(good(e, 200) for e in cpu) else 0)
print(1 if sorted(e.get('LF_QUERY') for e in cpu) == ['n=7&j=%d' % i for i in range(5)] else 0)
print(1 if len(miss) == 1 and good(miss[0], 404) else 0)
print(1 if all(e.get('LF_BYTES', '').isdigit() for e in es) and
      all(int(e['LF_BYTES']) > 0 for e in cpu) else 0)
bad = [e for e in es if e.get('LF_REQUEST') == 'G@T /jrefused HTTP/1.1']
print(1 if len(bad) == 1 and bad[0].get('LF_STATUS') == '400' and
      'LF_METHOD' not in bad[0] and bad[0].get('LF_REMOTE') == '127.0.0.1' and
      '"G@T /jrefused HTTP/1.1" 400 ' in bad[0].get('MESSAGE', '') else 0)
PY
{ read -r a; read -r b; read -r c; read -r d; read -r e; } < "$LF_TMP/check"
[ "$a" = 1 ]
lf_ok $? "/cpu entries: LF_STATUS 200, LF_METHOD, LF_REMOTE, LF_PROTOCOL, LF_DURATION_US, LF_USER_AGENT, _PID, MESSAGE"
[ "$b" = 1 ]
lf_ok $? "LF_QUERY holds each request's query"
[ "$c" = 1 ]
lf_ok $? "the miss is logged with LF_STATUS 404 and LF_PATH"
[ "$d" = 1 ]
lf_ok $? "LF_BYTES is the body size"
[ "$e" = 1 ]
lf_ok $? "a request the parser refuses: LF_REQUEST with its line, LF_STATUS 400, no LF_METHOD"
[ "$a$b$c$d$e" = 11111 ] || sed 's/^/#   /' "$LF_TMP/access.json" | head -3
lf_stop
lf_done

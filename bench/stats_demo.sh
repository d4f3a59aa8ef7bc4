#!/bin/sh
# stats_demo.sh - the run behind docs/img/lfserver-stats.png: lfserver with
# its stats entries going to a private journald (no systemd needed, as root),
# [stats] interval = 1, a light mixed load from a few client threads, and
# two reloads (lockfree -> locked, then locked -> thread-per-connection).
# Writes the journal export (journalctl -o json, lfserver's entries) and the
# pictures lfserver-stats draws from it.
#
#   sh bench/stats_demo.sh LFSERVER OUTDIR [SECONDS]
#
# Loopback only; low rate (a picture, not a benchmark).
set -eu
LFSERVER=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
SECS=${3:-36}
HERE=$(cd "$(dirname "$0")/.." && pwd)
JD=/lib/systemd/systemd-journald
[ "$(id -u)" = 0 ] || { echo "stats_demo.sh: needs root (unshare, mount)" >&2; exit 77; }
[ -x "$JD" ] || { echo "stats_demo.sh: $JD not found" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/journal"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ini() {
	printf '[server]\nmode = %s\nworkers = 2\nqueue_capacity = 2\n[stats]\ninterval = 1\n' "$1" > "$tmp/l.ini.new"
	mv "$tmp/l.ini.new" "$tmp/l.ini"
}
ini lockfree
# everything below runs with a private /run, where our journald listens
unshare --mount --propagation private sh -s "$LFSERVER" "$tmp" "$port" "$SECS" "$JD" <<'INNER'
set -eu
LFSERVER=$1 tmp=$2 port=$3 SECS=$4 JD=$5
mount -t tmpfs tmpfs /run
mkdir -p /run/log/journal
mount --bind "$tmp/journal" /run/log/journal
"$JD" & jpid=$!
sleep 0.5
# stderr to the journal, with JOURNAL_STREAM set as systemd sets it
systemd-cat -t lfserver sh -c 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$0" -c "$1" -l "127.0.0.1:$2"' \
    "$LFSERVER" "$tmp/l.ini" "$port" &
sleep 1
spid=$(pgrep -n -f "lfserver -c $tmp/l.ini") 
python3 - "$port" "$SECS" <<'PY' &
import socket, sys, threading, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + secs
paths = ['/cpu?n=20000', '/io?ms=15', '/', '/mixed', '/io?ms=40']
def client(k):
    i = k
    while time.monotonic() < end:
        try:
            s = socket.create_connection(('127.0.0.1', port), timeout=5)
            s.sendall(('GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
                       % paths[i % len(paths)]).encode())
            while s.recv(65536):
                pass
            s.close()
        except OSError:
            pass
        i += 1
        # the load rises and falls: a few quiet seconds every ten
        phase = (time.monotonic() % 10)
        time.sleep(0.02 if phase < 7 else 0.2)
ts = [threading.Thread(target=client, args=(k,)) for k in range(6)]
for t in ts: t.start()
for t in ts: t.join()
PY
lpid=$!
sleep $((SECS / 3))
printf '[server]\nmode = locked\nworkers = 2\nqueue_capacity = 2\n[stats]\ninterval = 1\n' > "$tmp/l.ini"
kill -HUP "$spid"
sleep $((SECS / 3))
printf '[server]\nmode = thread-per-connection\nworkers = 2\nqueue_capacity = 2\n[stats]\ninterval = 1\n' > "$tmp/l.ini"
kill -HUP "$spid"
wait "$lpid"
sleep 1.5
kill -TERM "$spid"
sleep 1
journalctl --sync
journalctl -D "$tmp/journal" -o json LF_EVENT=start LF_EVENT=stats LF_EVENT=reload LF_EVENT=reload_failed LF_EVENT=stop > "$tmp/export.json"
kill "$jpid"
INNER
# keep lfserver's own fields and the timestamps: a small, stable export
python3 - "$tmp/export.json" "$OUT/lfserver-stats.json" <<'PY'
import json, sys
keep = ('__REALTIME_TIMESTAMP', '_PID', 'MESSAGE', 'PRIORITY', 'SYSLOG_IDENTIFIER')
with open(sys.argv[1]) as f, open(sys.argv[2], 'w') as o:
    for line in f:
        e = json.loads(line)
        o.write(json.dumps({k: v for k, v in e.items()
                            if k in keep or k.startswith('LF_')},
                           sort_keys=True) + '\n')
PY
"$HERE/tools/lfserver-stats" -f "$OUT/lfserver-stats.json" -o "$OUT/lfserver-stats.png"
"$HERE/tools/lfserver-stats" -f "$OUT/lfserver-stats.json" -o "$OUT/lfserver-stats.svg"

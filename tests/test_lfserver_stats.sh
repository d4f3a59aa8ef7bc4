#!/bin/sh
# test_lfserver_stats.sh - tools/lfserver-stats on a canned journal export
# (tests/data/lfserver-stats.json: a real run with [stats] interval = 1 and
# two reloads, made by bench/stats_demo.sh): the series and marks it reads,
# from -o json and from the -o export format, the PNG and SVG it draws with
# gnuplot, its errors, and --live against a running server's admin listener.

. "${srcdir:-.}/tests/lib.sh"
lf_init
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "SKIP: gnuplot not found (Debian package gnuplot-nox)"
	exit 77
fi
STATS=$LF_SRCDIR/tools/lfserver-stats
DATA=$LF_SRCDIR/tests/data/lfserver-stats.json

python3 "$STATS" -f "$DATA" --dump > "$LF_TMP/dump" 2> "$LF_TMP/err"
lf_ok $? "--dump reads the canned export"
# what the file holds, counted independently of the tool
python3 - "$DATA" > "$LF_TMP/want" <<'PY'
import json, sys
es = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pts = [e for e in es if e['LF_EVENT'] in ('stats', 'reload')]
print(len(pts))
print(sum(1 for e in es if e['LF_EVENT'] == 'reload'))
print('%.1f' % max(float(e['LF_RPS']) for e in pts))
print(max(int(e['LF_QUEUE_FULL']) for e in es))
PY
{ read -r npts; read -r nrel; read -r maxrps; read -r qf; } < "$LF_TMP/want"
got=$(grep -c -E '^[0-9.]+	(stats|reload)	' "$LF_TMP/dump")
[ "$got" = "$npts" ]
lf_ok $? "one point per stats and reload entry ($npts, got $got)"
[ "$(grep -c '^mark	[0-9.]*	reload	' "$LF_TMP/dump")" = "$nrel" ] && [ "$nrel" = 2 ]
lf_ok $? "the two reloads are marked"
grep -q '	reload: lockfree -> locked$' "$LF_TMP/dump" &&
    grep -q '	reload: locked -> thread-per-connection$' "$LF_TMP/dump"
lf_ok $? "the marks name the mode changes"
grep -q '^mark	[0-9.]*	start	start (lockfree)$' "$LF_TMP/dump" &&
    grep -q '^mark	[0-9.]*	stop	stop (thread-per-connection)$' "$LF_TMP/dump"
lf_ok $? "start and stop are marked"
awk -F'\t' -v m="$maxrps" '$2 ~ /^(stats|reload)$/ && $4 == m { f = 1 } END { exit !f }' \
    "$LF_TMP/dump"
lf_ok $? "the highest requests/s of the file ($maxrps) is a point"
sum=$(awk -F'\t' '$2 ~ /^(stats|reload)$/ { s += $8 } END { print s + 0 }' "$LF_TMP/dump")
[ "$sum" -le "$qf" ] && [ "$sum" -gt 0 ]
lf_ok $? "queue-full events per interval are differences of the counter (sum $sum <= $qf)"
awk -F'\t' '$1 ~ /^[0-9]/ { if ($1 < p) exit 1; p = $1 }' "$LF_TMP/dump"
lf_ok $? "points are in time order"

# the same entries in journalctl's export format, one through standard input
python3 - "$DATA" > "$LF_TMP/export" <<'PY'
import json, sys
out = sys.stdout.buffer
for l in open(sys.argv[1]):
    e = json.loads(l)
    for k, v in e.items():
        v = str(v).encode()
        if k == 'MESSAGE':    # a field in the binary form
            out.write(k.encode() + b'\n' + len(v).to_bytes(8, 'little') + v + b'\n')
        else:
            out.write(k.encode() + b'=' + v + b'\n')
    out.write(b'\n')
PY
python3 "$STATS" -f - --dump < "$LF_TMP/export" > "$LF_TMP/dump2"
cmp -s "$LF_TMP/dump" "$LF_TMP/dump2"
lf_ok $? "the export format (with a binary field) on standard input reads the same"

python3 "$STATS" -f "$DATA" -o "$LF_TMP/s.svg" 2> "$LF_TMP/err"
rc=$?
[ $rc -eq 0 ] && grep -q '<svg' "$LF_TMP/s.svg" && grep -q 'reload: locked' "$LF_TMP/s.svg" &&
    grep -q 'requests/s' "$LF_TMP/s.svg" && grep -q 'p99' "$LF_TMP/s.svg" &&
    grep -q 'open connections' "$LF_TMP/s.svg" && grep -q 'queue-full' "$LF_TMP/s.svg"
lf_ok $? "-o s.svg draws the four panels and the reload marks"
[ $rc -ne 0 ] && lf_diag "$LF_TMP/err"
python3 "$STATS" -f "$DATA" -o "$LF_TMP/s.png" 2> "$LF_TMP/err" &&
    [ "$(head -c 8 "$LF_TMP/s.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
lf_ok $? "-o s.png writes a PNG"

echo 'not json' > "$LF_TMP/bad.json"
printf '{"a": 1}\n' > "$LF_TMP/none.json"
python3 "$STATS" -f "$LF_TMP/none.json" -o "$LF_TMP/n.png" 2> "$LF_TMP/err"
[ $? -eq 1 ] && grep -q 'no stats entries' "$LF_TMP/err"
lf_ok $? "a file without stats entries: exit 1, said"
python3 "$STATS" -f "$DATA" -o "$LF_TMP/s.jpg" 2> "$LF_TMP/err"
[ $? -eq 2 ] && grep -q 'must end in .png or .svg' "$LF_TMP/err"
lf_ok $? "-o s.jpg: a usage error"
python3 "$STATS" -f "$LF_TMP/missing.json" 2> "$LF_TMP/err"
[ $? -eq 1 ] && grep -q 'missing.json' "$LF_TMP/err"
lf_ok $? "a missing file: exit 1 naming it"

# --live against a server's admin listener, under light load
admin=$(lf_free_port)
python3 "$LF_ITEST" writeini "$LF_TMP/l.ini" --mode lockfree --workers 2 \
    --no-public-stats --admin-listen "127.0.0.1:$admin" || exit 1
if lf_start "$LF_TMP/l.ini"; then
	python3 -c 'import sys, time, urllib.request
end = time.monotonic() + 2.5
while time.monotonic() < end:
    urllib.request.urlopen("http://127.0.0.1:%s/cpu?n=50" % sys.argv[1]).read()
    time.sleep(0.01)' "$LF_PORT" &
	load=$!
	python3 "$STATS" --live -a "127.0.0.1:$admin" -c 3 -i 0.5 > "$LF_TMP/live" 2>&1
	rc=$?
	wait "$load"
	[ $rc -eq 0 ] && [ "$(grep -c '^time ' "$LF_TMP/live")" = 1 ] &&
	    [ "$(grep -c '^[0-9][0-9]:[0-9][0-9]:[0-9][0-9] lockfree ' "$LF_TMP/live")" = 3 ]
	lf_ok $? "--live -c 3: a header and three lines naming the mode"
	awk '$2 == "lockfree" && $3 > 0 { f = 1 } END { exit !f }' "$LF_TMP/live"
	r2=$?
	lf_ok $r2 "--live: requests/s is positive under load"
	[ $rc -ne 0 ] || [ $r2 -ne 0 ] && lf_diag "$LF_TMP/live"
	lf_stop
	python3 "$STATS" --live -a "127.0.0.1:$admin" -c 1 -i 0.1 > "$LF_TMP/live" 2>&1
	[ $? -eq 1 ] && grep -q 'lfserver-stats:' "$LF_TMP/live"
	lf_ok $? "--live with nothing listening: exit 1 with a message"
else
	lf_ok 1 "the server for --live starts"
fi
lf_done

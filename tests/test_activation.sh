#!/bin/sh
# test_activation.sh - socket activation as systemd does it, through
# systemd-socket-activate: it listens, starts lfserver on the first
# connection and passes the listening sockets (LISTEN_FDS). The server must
# serve on them (two at once here), say so in its log, ignore the listen
# address of the ini and of -l (with a warning), keep the sockets through a
# reload, and stop cleanly on SIGTERM. A third socket named "admin" (as
# lfserver-admin.socket passes it) serves /metrics and /stats only.

. "${srcdir:-.}/tests/lib.sh"
lf_init

if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	echo "SKIP: systemd-socket-activate not found (Debian package systemd)"
	exit 77
fi

ini=$LF_TMP/lfserver.ini
p1=$(lf_free_port)
p2=$(lf_free_port)
while [ "$p2" = "$p1" ]; do
	p2=$(lf_free_port)
done
p3=$(lf_free_port)
while [ "$p3" = "$p1" ] || [ "$p3" = "$p2" ]; do
	p3=$(lf_free_port)
done
unused=$(lf_free_port)
unused2=$(lf_free_port)
# the ini's own listen address: with sockets from systemd it must stay unbound
python3 "$LF_ITEST" writeini "$LF_TMP/base.ini" --mode lockfree --workers 2 \
    || exit 1
sed "s/^\[server\]\$/[server]\nlisten = 127.0.0.1:$unused/" "$LF_TMP/base.ini" \
    > "$ini"

LF_LOG=$LF_TMP/activate.log
LF_PORT=$p1
systemd-socket-activate -l "127.0.0.1:$p1" -l "127.0.0.1:$p2" \
    -l "127.0.0.1:$p3" --fdname=http:http:admin "$LFSERVER" -c "$ini" -l "127.0.0.1:$unused2" \
    > "$LF_LOG" 2>&1 &
LF_PID=$!
LF_PIDS="$LF_PIDS $LF_PID"

# it listens before lfserver runs: the first connection starts the server
python3 "$LF_ITEST" wait --port "$p1" --pid "$LF_PID" --timeout 15
lf_ok $? "the first connection to the activation socket is answered"
tr '\0' ' ' < "/proc/$LF_PID/cmdline" > "$LF_TMP/cmdline" 2>/dev/null
grep -q "lfserver -c" "$LF_TMP/cmdline"
lf_ok $? "systemd-socket-activate exec'ed lfserver in its place (pid $LF_PID)"

if command -v curl >/dev/null 2>&1; then
	for path in / /stats; do
		for port in "$p1" "$p2"; do
			code=$(curl -s -o "$LF_TMP/body" -w '%{http_code}' \
			    --max-time 10 "http://127.0.0.1:$port$path")
			[ "$code" = 200 ] && [ -s "$LF_TMP/body" ]
			lf_ok $? "curl http://127.0.0.1:$port$path: 200 (got $code)"
		done
	done
	grep -q '"mode":"lockfree"' "$LF_TMP/body"
	lf_ok $? "/stats through the second socket says mode lockfree"
	code=$(curl -s -o "$LF_TMP/metrics" -w '%{http_code}' --max-time 10 \
	    "http://127.0.0.1:$p3/metrics")
	[ "$code" = 200 ] && grep -q '^lfserver_build_info{.*mode="lockfree"' \
	    "$LF_TMP/metrics"
	lf_ok $? "the socket named admin serves /metrics (got $code)"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	    "http://127.0.0.1:$p3/")
	[ "$code" = 404 ]
	lf_ok $? "the socket named admin answers / with 404 (got $code)"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	    "http://127.0.0.1:$p1/metrics")
	[ "$code" = 404 ]
	lf_ok $? "the http sockets do not serve /metrics (got $code)"
else
	echo "# curl not found: the python client checks instead"
fi
lf_py endpoints --port "$p2" --pid "$LF_PID" --mode lockfree --workers 2

grep -q "serving on 127.0.0.1:$p1, 127.0.0.1:$p2 (from systemd)" "$LF_LOG"
lf_ok $? "the start line names both addresses systemd passed"
[ $? -eq 0 ] || lf_dump_log
lf_refused "$unused"
lf_ok $? "the ini's listen address ($unused) is not bound"
grep -q -- "--listen 127.0.0.1:$unused2 ignored" "$LF_LOG" && lf_refused "$unused2"
lf_ok $? "-l 127.0.0.1:$unused2 is ignored with a warning and not bound"

# a reload keeps the sockets systemd passed
python3 "$LF_ITEST" writeini "$LF_TMP/base.ini" --mode thread-per-connection \
    --workers 2 || exit 1
sed "s/^\[server\]\$/[server]\nlisten = 127.0.0.1:$unused/" "$LF_TMP/base.ini" \
    > "$ini"
kill -HUP "$LF_PID"
i=0
while ! grep -q '"mode":"thread-per-connection"' "$LF_TMP/stats" 2>/dev/null \
    && [ $i -lt 50 ]; do
	sleep 0.1
	curl -s --max-time 5 -o "$LF_TMP/stats" "http://127.0.0.1:$p2/stats"
	i=$((i + 1))
done
grep -q '"reloads":1' "$LF_TMP/stats" && \
    grep -q '"mode":"thread-per-connection"' "$LF_TMP/stats"
lf_ok $? "SIGHUP: now thread-per-connection on the passed sockets"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    "http://127.0.0.1:$p1/cpu?n=100")
[ "$code" = 200 ]
lf_ok $? "after the reload the first socket still serves (got $code)"

curl -s --max-time 5 -o "$LF_TMP/astats" "http://127.0.0.1:$p3/stats"
grep -q '"mode":"thread-per-connection"' "$LF_TMP/astats"
lf_ok $? "the admin socket lives through the reload: /stats says the new mode"

lf_stop
lf_refused "$p2"
lf_ok $? "nothing listens on the second socket ($p2) after the stop"
lf_done

#!/bin/sh
# test_metrics.sh - /metrics as Prometheus reads it: `promtool check
# metrics` (Debian package prometheus) must accept the exposition after real
# traffic, served here on a Unix socket given by admin_listen, which the
# server removes when it stops. Skips when promtool is not installed.
# (tests/itest/mode.sh checks the values in every mode.)

. "${srcdir:-.}/tests/lib.sh"
lf_init

if ! command -v promtool >/dev/null 2>&1; then
	echo "SKIP: promtool not found (Debian package prometheus)"
	exit 77
fi
if ! command -v curl >/dev/null 2>&1; then
	echo "SKIP: curl not found (it speaks HTTP over a Unix socket)"
	exit 77
fi

sock=$LF_TMP/admin.sock
python3 "$LF_ITEST" writeini "$LF_TMP/m.ini" --mode lockfree --workers 2 \
    --no-public-stats --admin-listen "$sock" || exit 1
if ! lf_start "$LF_TMP/m.ini"; then
	lf_ok 1 "the server starts"
	lf_done
fi
[ -S "$sock" ]
lf_ok $? "admin_listen = PATH makes a Unix socket"
for path in / /cpu?n=100 /io?ms=1 /mixed /nope /stats; do
	curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$LF_PORT$path"
done
code=$(curl -s -o "$LF_TMP/metrics" -w '%{http_code}' --max-time 10 \
    --unix-socket "$sock" http://admin/metrics)
[ "$code" = 200 ]
lf_ok $? "GET /metrics over the Unix socket: 200 (got $code)"
promtool check metrics < "$LF_TMP/metrics" > "$LF_TMP/promtool.out" 2>&1
rc=$?
lf_ok $rc "promtool check metrics accepts it"
[ $rc -ne 0 ] && lf_diag "$LF_TMP/promtool.out"
for name in lfserver_requests_total lfserver_request_duration_seconds_bucket \
    lfserver_connections_open lfserver_connections_accepted_total \
    lfserver_queue_depth lfserver_queue_full_total lfserver_workers \
    lfserver_reloads_total lfserver_build_info lfserver_output_overflows_total \
    lfserver_output_copied_bytes process_cpu_seconds_total \
    process_resident_memory_bytes process_open_fds process_max_fds \
    process_start_time_seconds; do
	grep -q "^$name[ {]" "$LF_TMP/metrics"
	lf_ok $? "/metrics has $name"
done
# a reload: counted, and build_info follows the new configuration
python3 "$LF_ITEST" writeini "$LF_TMP/m.ini" --mode locked --workers 3 \
    --no-public-stats --admin-listen "$sock" || exit 1
kill -HUP "$LF_PID"
# both, for at most 20 s: under TSan on a slow machine a reload can take
# seconds, and one scrape may see the new build_info before the count
i=0
while [ $i -lt 200 ]; do
	curl -s --max-time 5 --unix-socket "$sock" http://admin/metrics \
	    > "$LF_TMP/metrics2"
	grep -q '^lfserver_reloads_total{result="success"} 1$' \
	    "$LF_TMP/metrics2" &&
	    grep -q 'mode="locked",workers="3"' "$LF_TMP/metrics2" && break
	sleep 0.1
	i=$((i + 1))
done
grep -q '^lfserver_reloads_total{result="success"} 1$' "$LF_TMP/metrics2" &&
    grep -q 'mode="locked",workers="3"' "$LF_TMP/metrics2"
lf_ok $? "after SIGHUP: reloads_total{result=\"success\"} 1, build_info mode locked, workers 3"
printf '[server]\nworkers = many\n' > "$LF_TMP/m.ini"
kill -HUP "$LF_PID"
i=0
while [ $i -lt 50 ]; do
	curl -s --max-time 5 --unix-socket "$sock" http://admin/metrics \
	    > "$LF_TMP/metrics3"
	grep -q '^lfserver_reloads_total{result="failure"} 1$' "$LF_TMP/metrics3" && break
	sleep 0.1
	i=$((i + 1))
done
grep -q '^lfserver_reloads_total{result="failure"} 1$' "$LF_TMP/metrics3"
lf_ok $? "a bad file: reloads_total{result=\"failure\"} 1"
lf_stop
[ ! -e "$sock" ]
lf_ok $? "the Unix socket file is removed at the stop"
lf_done

# mode.sh - the body of tests/test_mode_*.sh, sourced after tests/lib.sh with
# MODE set: every endpoint and HTTP edge case, the timeouts, many concurrent
# and idle clients, a full queue, a drain on SIGTERM, idle CPU and thread
# names, all against a server running in MODE.

lf_init
www=$LF_TMP/www
python3 "$LF_ITEST" mkdocroot "$www" --large 8 || exit 1

echo "# $MODE: endpoints, workers 2, request_timeout = keepalive_timeout = 1"
python3 "$LF_ITEST" writeini "$LF_TMP/endpoints.ini" --mode "$MODE" \
    --workers 2 --docroot "$www" --keepalive-timeout 1 --request-timeout 1
if lf_start "$LF_TMP/endpoints.ini"; then
	lf_py endpoints --port "$LF_PORT" --pid "$LF_PID" --mode "$MODE" \
	    --workers 2 --docroot "$www" --timeouts
	lf_stop
else
	lf_ok 1 "$MODE: the endpoints server starts"
fi

echo "# $MODE: concurrency, workers 2, queue_capacity 1, built-in page"
python3 "$LF_ITEST" writeini "$LF_TMP/load.ini" --mode "$MODE" \
    --workers 2 --queue-capacity 1 --keepalive-timeout 30
if lf_start "$LF_TMP/load.ini"; then
	lf_py concurrency --port "$LF_PORT" --pid "$LF_PID" --mode "$MODE" \
	    --queue-capacity 1
	lf_py threads --port "$LF_PORT" --pid "$LF_PID" --mode "$MODE" \
	    --workers 2
	lf_py drain --port "$LF_PORT" --pid "$LF_PID" --ms 1500
	lf_stopped "SIGTERM during /io?ms=1500"
else
	lf_ok 1 "$MODE: the concurrency server starts"
fi

echo "# $MODE: admin listener, /metrics, access log"
admin=$(lf_free_port)
case $MODE in
locked|thread-per-connection) fmt=json ;;
*) fmt=combined ;;
esac
python3 "$LF_ITEST" writeini "$LF_TMP/obs.ini" --mode "$MODE" --workers 2 \
    --no-public-stats --admin-listen "127.0.0.1:$admin" \
    --access-log "$LF_TMP/access.log" --access-log-format "$fmt"
if lf_start "$LF_TMP/obs.ini"; then
	lf_py observe --port "$LF_PORT" --pid "$LF_PID" --mode "$MODE" \
	    --admin-port "$admin" --log "$LF_TMP/access.log" --format "$fmt"
	# a line still buffered when the stop comes is written before the exit
	python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5).read()' \
	    "http://127.0.0.1:$LF_PORT/cpu?n=5&last=line"
	lf_stop "SIGTERM with the access log on"
	grep -q 'n=5&last=line' "$LF_TMP/access.log"
	lf_ok $? "$MODE: the last request's line is in the access log after the stop"
else
	lf_ok 1 "$MODE: the observability server starts"
fi

echo "# $MODE: idle, workers 64"
python3 "$LF_ITEST" writeini "$LF_TMP/idle.ini" --mode "$MODE" --workers 64 \
    --keepalive-timeout 30 --interval 10
if lf_start "$LF_TMP/idle.ini"; then
	lf_py threads --port "$LF_PORT" --pid "$LF_PID" --mode "$MODE" \
	    --workers 64
	lf_py idlecpu --port "$LF_PORT" --pid "$LF_PID" --seconds 5
	lf_py idlecpu --port "$LF_PORT" --pid "$LF_PID" --seconds 3 --hold 50
	kill -INT "$LF_PID"
	lf_stopped SIGINT
else
	lf_ok 1 "$MODE: the idle server starts"
fi

lf_done

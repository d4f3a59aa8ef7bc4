#!/bin/sh
# test_conformance.sh - RFC 9112 / 9110 behaviour at the connection level
# (tests/conform.py: exact bytes, the status, and whether the connection is
# closed or still serves the next request), in each of the four modes.

. "${srcdir:-.}/tests/lib.sh"

lf_init
for MODE in lockfree locked thread-per-connection sequential; do
	echo "# $MODE"
	python3 "$LF_ITEST" writeini "$LF_TMP/$MODE.ini" --mode "$MODE" \
	    --workers 2 --keepalive-timeout 5 --request-timeout 1
	if lf_start "$LF_TMP/$MODE.ini"; then
		LF_ITEST=$LF_SRCDIR/tests/conform.py lf_py cases \
		    --port "$LF_PORT" --pid "$LF_PID"
		lf_stop "$MODE"
	else
		lf_ok 1 "$MODE: the server starts"
	fi
done
lf_done

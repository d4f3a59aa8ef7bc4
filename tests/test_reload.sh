#!/bin/sh
# test_reload.sh - SIGHUP under load: 50 reloads cycling every mode, worker
# count and queue capacity while keep-alive and one-shot clients run, with no
# failed request, no reset and no fd or thread leak; a bad file on reload
# keeps the running engine; SIGUSR1 and [stats] interval print stats lines;
# SIGTERM with a slow request in flight lets it finish and exits 0.

. "${srcdir:-.}/tests/lib.sh"
lf_init

www=$LF_TMP/www
ini=$LF_TMP/lfserver.ini
python3 "$LF_ITEST" mkdocroot "$www" || exit 1
python3 "$LF_ITEST" writeini "$ini" --mode lockfree --workers 2 \
    --queue-capacity 8 --docroot "$www" --keepalive-timeout 30 \
    --interval 0 || exit 1

if ! lf_start "$ini"; then
	lf_ok 1 "the server starts in lockfree mode"
	lf_done
fi
lf_py reload --port "$LF_PORT" --pid "$LF_PID" --ini "$ini" --log "$LF_LOG" \
    --docroot "$www" --count 50
lf_py drain --port "$LF_PORT" --pid "$LF_PID" --ms 1500
lf_stopped "SIGTERM during /io?ms=1500 after the reloads"
grep -q '^lfserver: stop: .*requests=' "$LF_LOG"
lf_ok $? "the final stats line (stop:) is on stderr"
lf_done

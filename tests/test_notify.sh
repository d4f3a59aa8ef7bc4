#!/bin/sh
# test_notify.sh - the sd_notify protocol as systemd would see it: a datagram
# socket in NOTIFY_SOCKET records what the server sends through start, a
# reload to another mode and a stop, in order: STATUS=... mode=, READY=1;
# RELOADING=1 with MONOTONIC_USEC=, READY=1; STOPPING=1. WATCHDOG_USEC is set
# too, so WATCHDOG=1 keep-alives must arrive meanwhile.

. "${srcdir:-.}/tests/lib.sh"
lf_init

sock=$LF_TMP/notify.sock
msgs=$LF_TMP/notify.jsonl
ini=$LF_TMP/lfserver.ini
: > "$msgs"
python3 "$LF_ITEST" writeini "$ini" --mode lockfree --workers 2 || exit 1
python3 "$LF_ITEST" notify-listen --socket "$sock" --out "$msgs" --timeout 40 &
listener=$!
LF_PIDS="$LF_PIDS $listener"
lf_wait_for 100 -S "$sock"

# wait_msgs N TEXT: until TEXT is in N datagrams (10 s at most)
wait_msgs()
{
	_i=0
	while [ "$(grep -c "$2" "$msgs")" -lt "$1" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(grep -c "$2" "$msgs")" -ge "$1" ]
}

NOTIFY_SOCKET=$sock
WATCHDOG_USEC=1000000
export NOTIFY_SOCKET WATCHDOG_USEC
lf_start "$ini"
started=$?
unset NOTIFY_SOCKET WATCHDOG_USEC
if [ $started -ne 0 ]; then
	lf_ok 1 "the server starts with NOTIFY_SOCKET set"
	lf_done
fi
wait_msgs 1 'READY=1'
lf_ok $? "READY=1 arrives after the start"
# two watchdog periods
sleep 1.2
python3 "$LF_ITEST" writeini "$ini" --mode locked --workers 3 || exit 1
kill -HUP "$LF_PID"
wait_msgs 2 'READY=1'
lf_ok $? "READY=1 arrives again after SIGHUP"
lf_stop
lf_wait_exit "$listener" 10
lf_ok "$LF_RC" "the listener saw STOPPING=1 and ended (status $LF_RC)"
lf_py notify-check --file "$msgs" --first-mode lockfree --second-mode locked \
    --watchdog
lf_done

#!/bin/sh
# test_spin_pool.sh - the pools with the long spin forced on
# (worker_spin_us = 200, which spins even on two CPUs): every request is
# answered under load through a queue of one slot, where workers keep moving
# between spinning, parking and being woken, and an idle server still uses
# no CPU once the spells are over.  `lfserver -t` refuses a bad value with
# FILE:LINE.

. "${srcdir:-.}/tests/lib.sh"

lf_init

printf '[server]\nworker_spin_us = 10001\n' > "$LF_TMP/bad.ini"
out=$("$LFSERVER" -t -c "$LF_TMP/bad.ini" 2>&1)
rc=$?
case $out in
*"$LF_TMP/bad.ini:2: key 'worker_spin_us': value '10001' is out of range"*)
	lf_ok $((rc != 78)) "lfserver -t: worker_spin_us = 10001 exits 78 with FILE:2 (rc $rc)" ;;
*)
	lf_ok 1 "lfserver -t: worker_spin_us = 10001 names FILE:2: $out" ;;
esac

for MODE in lockfree locked; do
	echo "# $MODE: workers 4, queue_capacity 1, worker_spin_us = 200"
	ini=$LF_TMP/spin-$MODE.ini
	python3 "$LF_ITEST" writeini "$ini" --mode "$MODE" --workers 4 \
	    --queue-capacity 1 --keepalive-timeout 30
	sed -i 's/^\[server\]$/[server]\nworker_spin_us = 200/' "$ini"
	grep -q '^worker_spin_us = 200$' "$ini"
	lf_ok $? "$MODE: the ini sets worker_spin_us = 200"
	if lf_start "$ini"; then
		lf_py concurrency --port "$LF_PORT" --pid "$LF_PID" --mode "$MODE" \
		    --queue-capacity 1
		lf_py idlecpu --port "$LF_PORT" --pid "$LF_PID" --seconds 3
		lf_stop "$MODE with the spin: SIGTERM"
	else
		lf_ok 1 "$MODE: the server with worker_spin_us = 200 starts"
	fi
done

lf_done

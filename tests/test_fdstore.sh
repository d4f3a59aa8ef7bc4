#!/bin/sh
# test_fdstore.sh - a restart keeps every idle keep-alive connection through
# systemd's fd store; tests/fdstore.py plays systemd's part (see there). Two
# directions: a pool engine to thread-per-connection and back.

. "${srcdir:-.}/tests/lib.sh"
lf_init

python3 "$LF_SRCDIR/tests/fdstore.py" --lfserver "$LFSERVER" --tmp "$LF_TMP" \
    --mode1 lockfree --mode2 thread-per-connection --n 50 > "$LF_TMP/a.tap"
rc1=$?
python3 "$LF_SRCDIR/tests/fdstore.py" --lfserver "$LFSERVER" --tmp "$LF_TMP" \
    --mode1 thread-per-connection --mode2 locked --n 50 --tap-start 10 > "$LF_TMP/b.tap"
rc2=$?
grep -v '^1\.\.' "$LF_TMP/a.tap"
cat "$LF_TMP/b.tap"
if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
	sed 's/^/#   /' "$LF_TMP/fdstore.log" | tail -40
	exit 1
fi
exit 0

#!/bin/sh
# test_mode_tpc.sh - lfserver in thread-per-connection mode, end to end (tests/itest/mode.sh).

MODE=thread-per-connection
. "${srcdir:-.}/tests/lib.sh"
. "$LF_SRCDIR/tests/itest/mode.sh"

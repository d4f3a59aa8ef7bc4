#!/bin/sh
# test_mode_locked.sh - lfserver in locked mode, end to end (tests/itest/mode.sh).

MODE=locked
. "${srcdir:-.}/tests/lib.sh"
. "$LF_SRCDIR/tests/itest/mode.sh"

#!/bin/sh
# test_mode_sequential.sh - lfserver in sequential mode, end to end (tests/itest/mode.sh).

MODE=sequential
. "${srcdir:-.}/tests/lib.sh"
. "$LF_SRCDIR/tests/itest/mode.sh"

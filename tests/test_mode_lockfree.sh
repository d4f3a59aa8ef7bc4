#!/bin/sh
# test_mode_lockfree.sh - lfserver in lockfree mode, end to end (tests/itest/mode.sh).

MODE=lockfree
. "${srcdir:-.}/tests/lib.sh"
. "$LF_SRCDIR/tests/itest/mode.sh"

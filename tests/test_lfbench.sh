#!/bin/sh
# test_lfbench.sh - bench/lfbench.py's parsing of strace -c: the table's
# last row (the sum) is not a system call of its own.

srcdir=${srcdir:-.}

if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 not found"
	exit 77
fi

exec python3 - "$srcdir/bench" <<'PY'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import lfbench

table = '''% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 52.10    0.010000           2      4000           read
 40.00    0.008000           2      4000           sendmsg
  7.90    0.001580           5       300        12 futex
------ ----------- ----------- --------- --------- ----------------
100.00    0.019580           2      8300        12 total
'''
calls = lfbench.strace_calls(table.splitlines(True))
if calls != {'read': 4000, 'sendmsg': 4000, 'futex': 300}:
	print('not ok 1 - strace -c rows without the total: %r' % calls)
	sys.exit(1)
print('ok 1 - strace -c rows without the total (8300 calls, not 16600)')
print('1..1')
PY

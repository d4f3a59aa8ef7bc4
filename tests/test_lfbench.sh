#!/bin/sh
# test_lfbench.sh - bench/lfbench.py's parsing of strace -c (the table's
# last row, the sum, is not a system call of its own) and its per-thread CPU
# accounting from a made-up /proc: ns from schedstat where it exists, the
# 10 ms ticks of stat where it does not, exited threads from the process;
# and report.py's target rows of a run that used wrk alone, and the rounds
# of a target paired in run order; the machine's costs (bench/machcost) in
# the report's machine table.

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

import os, tempfile
n = 1
def ok(cond, what):
	global n
	n += 1
	print('%sok %d - %s' % ('' if cond else 'not ', n, what))
	if not cond:
		ok.failed = True
ok.failed = False

def fake_proc(root, threads, proc_ticks):
	"""THREADS: tid -> (comm, utime, stime, vcsw, schedstat or None)."""
	def stat(comm, ut, st):
		# pid (comm) state ppid ... field 14/15 (0-based 11/12 after ')')
		rest = ['S', '1'] + ['0'] * 9 + [str(ut), str(st)] + ['0'] * 30
		return '100 (%s) %s\n' % (comm, ' '.join(rest))
	os.makedirs('%s/100/task' % root, exist_ok=True)
	with open('%s/100/stat' % root, 'w') as f:
		f.write(stat('lfserver', *proc_ticks))
	for tid, (comm, ut, st, vcsw, sched) in threads.items():
		d = '%s/100/task/%d' % (root, tid)
		os.makedirs(d, exist_ok=True)
		with open(d + '/stat', 'w') as f:
			f.write(stat(comm, ut, st))
		with open(d + '/status', 'w') as f:
			f.write('Name:\t%s\nvoluntary_ctxt_switches:\t%d\n'
			    'nonvoluntary_ctxt_switches:\t1\n' % (comm, vcsw))
		if sched is not None:
			with open(d + '/schedstat', 'w') as f:
				f.write(sched)

with tempfile.TemporaryDirectory() as tmp:
	a, b = tmp + '/a', tmp + '/b'
	# the reactor runs 3.5 ms in the run, less than one tick; a worker
	# named with a space; thread 104 exits, 105 starts (5 ticks of the
	# process's 12 belong to no live thread)
	fake_proc(a, {100: ('lfserver', 1, 1, 5, '1000000 0 3\n'),
	    101: ('lf-reactor-0', 2, 3, 10, '50000000 0 9\n'),
	    102: ('lf-worker 0', 0, 1, 4, '10000000 0 2\n'),
	    104: ('lf-conn', 1, 0, 1, '10000000 0 1\n')}, (4, 5))
	fake_proc(b, {100: ('lfserver', 1, 1, 5, '1000000 0 3\n'),
	    101: ('lf-reactor-0', 2, 3, 30, '53500000 0 40\n'),
	    102: ('lf-worker 0', 1, 3, 14, '41000000 0 9\n'),
	    105: ('lf-reactor-1', 0, 1, 2, '12000000 0 4\n')}, (7, 14))
	s0 = lfbench.proc_threads([100], proc=a)
	s1 = lfbench.proc_threads([100], proc=b)
	row = lfbench.thread_costs(s0, s1, 1000, tick=100)
	ok(row['thread_cpu_clock'] == 'schedstat', 'every thread had schedstat: %r'
	    % row['thread_cpu_clock'])
	ok(row['us_req_reactor'] == 15.5, 'reactor µs/request from ns, below a '
	    'tick for reactor 0, plus a reactor started in the run: %r'
	    % row['us_req_reactor'])
	ok(row['us_req_worker'] == 31.0, 'worker µs/request from ns: %r'
	    % row['us_req_worker'])
	ok(row['us_req_main'] == 0.0, 'an idle main thread costs 0: %r'
	    % row['us_req_main'])
	# process: (7+14)-(4+5) = 12 ticks, 120 ms; live threads: 46.5 ms
	ok(row['us_req_exited'] == 73.5, 'exited threads: the process less the '
	    'live threads: %r' % row['us_req_exited'])
	ok(row['server_user_s'] == 0.03 and row['server_sys_s'] == 0.09,
	    'user and system seconds from stat: %r %r'
	    % (row['server_user_s'], row['server_sys_s']))
	ok(row['vcsw_req'] == 0.032 and row['ivcsw_req'] == 0.001,
	    'context switches of the live threads: %r %r'
	    % (row['vcsw_req'], row['ivcsw_req']))
	# 6 ticks of process time against 46.5 ms of threads: less than two
	# ticks apart is the truncation of the process's ticks, not a thread
	with open(b + '/100/stat') as f:
		st = f.read()
	with open(b + '/100/stat', 'w') as f:
		f.write(st.replace(' 7 14 ', ' 4 11 '))
	row = lfbench.thread_costs(s0, lfbench.proc_threads([100], proc=b),
	    1000, tick=100)
	ok(row['us_req_exited'] == 0, 'within two ticks of the live threads, no '
	    'exited time: %r' % row['us_req_exited'])
	with open(b + '/100/stat', 'w') as f:
		f.write(st)
	# no schedstat for the worker: its ticks, and the clock says so
	os.remove(b + '/100/task/102/schedstat')
	s1 = lfbench.proc_threads([100], proc=b)
	row = lfbench.thread_costs(s0, s1, 1000, tick=100)
	ok(row['thread_cpu_clock'] == 'ticks', 'a thread without schedstat: '
	    'the clock is ticks: %r' % row['thread_cpu_clock'])
	ok(row['us_req_worker'] == 30.0 and row['us_req_reactor'] == 15.5,
	    'that thread counts its 3 ticks, the others stay exact: %r %r'
	    % (row['us_req_worker'], row['us_req_reactor']))
	# schedstats off: the kernel writes zeros
	with open(b + '/100/task/102/schedstat', 'w') as f:
		f.write('0 0 0\n')
	s1 = lfbench.proc_threads([100], proc=b)
	row = lfbench.thread_costs(s0, s1, 1000, tick=100)
	ok(row['thread_cpu_clock'] == 'ticks' and row['us_req_worker'] == 30.0,
	    'a schedstat of zeros is no clock: %r %r'
	    % (row['thread_cpu_clock'], row['us_req_worker']))
	# the real /proc: this process's own threads, on a real kernel
	me = lfbench.proc_threads([os.getpid()])
	ok(len(me['threads']) >= 1 and me['process'][0] + me['process'][1] >= 0,
	    'this process sampled from /proc: %d thread(s)' % len(me['threads']))
	sum(i * i for i in range(300000))
	me2 = lfbench.proc_threads([os.getpid()])
	row = lfbench.thread_costs(me, me2, 1)
	ok(row['us_req_main'] > 0 if row['thread_cpu_clock'] == 'schedstat'
	    else row['us_req_main'] >= 0, 'a busy main thread shows CPU time '
	    '(clock %s): %r us' % (row['thread_cpu_clock'], row['us_req_main']))

# report.py's targets of a run with wrk alone (--tools wrk): the ab rows are
# left out, not shown as "static page, ?: n/ax (None n/a ...)"
import report
def static_row(mode, tool, rps_):
	return dict(experiment='static', mode=mode, tool=tool, threads='2',
	    concurrency='64', duration_s='5', requests='', requests_per_s=rps_,
	    completed='1000', server_cpu_s='', failed='0', non2xx='0')
d = report.Data([static_row('lighttpd', 'wrk', '200000'),
    static_row('lockfree', 'wrk', '190000')])
rows = report.targets(d, 2)
names = [r[0] for r in rows]
ok(any(x.startswith('static page, wrk -t2 -c64 -d5s: lockfree') for x in names)
   and not any('?' in x or 'ab ' in x for x in names)
   and not any('None' in r[2] for r in rows),
   'a run without ab has no ab target rows: %r' % names)
# the rounds of a target, paired in run order: lockfree's k-th run against
# lighttpd's k-th run; a goal inside their spread is said so
def raw_row(mode, rps_, cpu='1.0'):
	r = static_row(mode, 'wrk', rps_)
	r.update(server='lfserver' if mode in report.MODES else mode,
	    mode=mode if mode in report.MODES else '', server_cpu_s=cpu)
	return r
raw = []
for lt, lf in ((200000, 196000), (180000, 183600), (190000, 190000)):
	raw += [raw_row('lighttpd', str(lt)), raw_row('lockfree', str(lf))]
d = report.Data([static_row('lighttpd', 'wrk', '190000'),
    static_row('lockfree', 'wrk', '190000')], raw)
rs = report.round_ratios(d, 'static', 'wrk', 'lockfree', 'lighttpd',
    report.req_rate)
ok(rs is not None and [round(x, 3) for x in rs] == [0.98, 1.02, 1.0],
   'per-round ratios in run order: %r' % rs)
rows = report.targets(d, 2)
best = [r for r in rows if 'best lfserver mode' in r[0]]
ok(best and best[0][3] == 'met, within the spread' and
   '0.98-1.02x' in best[0][2], 'the goal inside the rounds\' spread: %r'
   % best)
lf = [r for r in rows if ': lockfree / best peer' in r[0]]
ok(lf and lf[0][3] == 'met', '0.9x below every round: plain met: %r' % lf)
d.raw = raw[:-1]
ok(report.round_ratios(d, 'static', 'wrk', 'lockfree', 'lighttpd',
   report.req_rate) is None, 'a round without its pair: no ratios')
# the machine's costs (bench/machcost) and its Meltdown mitigation: a row
# each in the report's machine table, in microseconds; none in a run that
# recorded neither (machine.json of earlier runs)
rows = report.machine_cost_rows({'meltdown': 'Mitigation: PTI',
    'machcost': {'syscall': [1015.0, 1008.0, 1022.0],
    'handoff_2cpu': [11245.0, 9520.0, 11336.0],
    'compute_1cpu': [140000.0, 138000.0, 144000.0],
    'compute_2cpu': [175000.0, 170000.0, 180000.0]}})
ok(rows == [['Meltdown mitigation (PTI makes system calls dear)',
    'Mitigation: PTI'],
    ['a system call (getppid), bench/machcost', '1.01 us (1.01-1.02)'],
    ['a futex hand-off between two threads on two CPUs',
    '11.2 us (9.52-11.3)'],
    ['CPU work as GET /cpu?n=10000 does it, one thread alone',
    '140.0 us (138.0-144.0)'],
    ['the same, one thread on each of two CPUs at once',
    '175.0 us (170.0-180.0)'],
    ["CPU work two CPUs do at once, in one CPU alone's", '1.60x']],
    'machine costs in the machine table: %r' % rows)
# without the two-CPU count (one CPU given), no ratio
rows = report.machine_cost_rows({'machcost':
    {'compute_1cpu': [140000.0, 138000.0, 144000.0]}})
ok(rows == [['CPU work as GET /cpu?n=10000 does it, one thread alone',
    '140.0 us (138.0-144.0)']], 'one CPU: no two-CPU ratio: %r' % rows)
ok(report.machine_cost_rows({'cores': 2}) == [],
   'no machine-cost rows for a run without them')
# lfbench reads bench/machcost's CSV; a missing probe is skipped, not fatal
with tempfile.TemporaryDirectory() as tmp:
	probe = os.path.join(tmp, 'machcost')
	with open(probe, 'w') as f:
		f.write('#!/bin/sh\necho measure,ns,ns_min,ns_max\n'
		    'echo syscall,120,110,130\n')
	os.chmod(probe, 0o755)
	costs = lfbench.run_machcost(probe, [])
	ok(costs == {'syscall': [120.0, 110.0, 130.0]},
	    'machcost CSV parsed: %r' % costs)
	ok(lfbench.run_machcost(os.path.join(tmp, 'none'), []) == {},
	    'machcost not built: skipped')
print('1..%d' % n)
sys.exit(1 if ok.failed else 0)
PY

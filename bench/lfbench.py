#!/usr/bin/env python3
"""
lfbench.py - the benchmark driver that reproduces the original study.

The study (a Rust server) timed a lock-free pool, a locked pool,
thread-per-connection and a sequential baseline with ApacheBench on four
workloads.  This driver repeats its three experiments against the real
lfserver binary (worker scaling, queue capacity, request scaling), adds the
comparison with nginx serving the same page, and measures the performance
targets of docs/BENCHMARKS.md.  For every point it starts a fresh server on
a free loopback port, checks that the server answers correctly and runs
in the mode asked for, runs a warm-up and then the load generator N times,
and writes one CSV row per run (raw.csv) and one per point (median.csv).
A failed or non-2xx request stops the suite with a non-zero exit: a
benchmark that quietly counted errors as fast answers would be worse than
none.  bench/report.py turns median.csv into plots and a report.

Python 3 standard library only, so that `make bench` needs nothing beyond
the load generators (apt-get install -y apache2-utils wrk nginx-light
gnuplot-nox).
"""

import argparse
import csv
import datetime
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

DEBIAN_PACKAGE = {
	'ab': 'apache2-utils',
	'wrk': 'wrk',
	'nginx': 'nginx-light',
	'lighttpd': 'lighttpd',
	'strace': 'strace',
	'gnuplot': 'gnuplot-nox',
	'taskset': 'util-linux',
}
SETUP_LINE = ('apt-get install -y apache2-utils wrk nginx-light lighttpd '
    'gnuplot-nox')

MODES = ['lockfree', 'locked', 'thread-per-connection', 'sequential']
POOL_MODES = ['lockfree', 'locked']

# workload -> URL path; the study's four: an in-memory HTML page, primes up
# to 10,000, a 10 ms sleep, and the server's deterministic mix of the three.
WORKLOADS = {
	'static': '/',
	'cpu': '/cpu?n=10000',
	'io': '/io?ms=10',
	'mixed': '/mixed',
}

RAW_FIELDS = [
	'experiment', 'server', 'mode', 'workers', 'queue_capacity',
	'workload', 'path', 'tool', 'concurrency', 'threads', 'requests',
	'duration_s', 'repeat', 'time_taken_s', 'requests_per_s', 'completed',
	'failed', 'non2xx', 'p50_ms', 'p99_ms', 'server_cpu_s',
	'server_peak_rss_kb', 'pinned', 'cpu_model', 'cores', 'kernel',
	'profile', 'timestamp', 'reactors', 'server_user_s', 'server_sys_s',
	'us_req_reactor', 'us_req_worker', 'us_req_acceptor', 'us_req_conn',
	'us_req_main', 'us_req_master', 'us_req_exited', 'vcsw_req', 'ivcsw_req',
	'futex_req', 'epoll_wait_req', 'syscalls_req', 'access_log',
	'variant', 'thread_cpu_clock',
]
COST_FIELDS = ['server_user_s', 'server_sys_s', 'us_req_reactor',
    'us_req_worker', 'us_req_acceptor', 'us_req_conn', 'us_req_main',
    'us_req_master', 'us_req_exited', 'vcsw_req', 'ivcsw_req', 'futex_req',
    'epoll_wait_req', 'syscalls_req']
KEY_FIELDS = [
	'experiment', 'server', 'mode', 'workers', 'queue_capacity',
	'workload', 'path', 'tool', 'concurrency', 'threads', 'requests',
	'duration_s', 'pinned', 'cpu_model', 'cores', 'kernel', 'profile',
	'reactors', 'access_log', 'variant',
]
MEDIAN_FIELDS = KEY_FIELDS + [
	'repeats', 'time_taken_s', 'time_min_s', 'time_max_s',
	'requests_per_s', 'completed', 'failed', 'non2xx', 'p50_ms', 'p99_ms',
	'server_cpu_s', 'server_peak_rss_kb',
] + COST_FIELDS + ['thread_cpu_clock']

# Grids.  `quick` must finish in under ten minutes on a 2-core machine, so
# it trims request counts and grids; it keeps three runs per point, since
# on a shared machine one run can be off by a third.
PROFILES = {
	'quick': {
		'repeats': 3,
		'target_repeats': 3,
		'grid_concurrency': 100,
		'static_ab_requests': 10000,
		'io_ab_requests': 6400,
		'scaling_workers': [1, 2, 4, 8, 16, 32, 64, 128],
		'scaling_workloads': ['static', 'cpu', 'io', 'mixed'],
		'scaling_requests': {'static': 3000, 'cpu': 3000, 'io': 200,
		    'mixed': 500},
		'scaling_concurrency': 100,
		'queue_capacities': [1, 4, 16, 64, 256, 1024],
		'queue_workloads': ['static', 'cpu'],
		'queue_requests': 3000,
		'request_counts': [1000, 3000, 10000],
		'request_workloads': ['static', 'cpu'],
		'wrk_duration': 5,
		'cpu_target_requests': 5000,
		'wrk_cpu_duration': 3,
		'reactors_ab_requests': 50000,
		'reactors_rounds': 5,
	},
	# a minute-long pass over every experiment, to check the setup
	'smoke': {
		'grid_concurrency': 20,
		'static_ab_requests': 500,
		'io_ab_requests': 640,
		'repeats': 1,
		'target_repeats': 1,
		'scaling_workers': [1, 4, 32],
		'scaling_workloads': ['static', 'cpu', 'io', 'mixed'],
		'scaling_requests': {'static': 200, 'cpu': 200, 'io': 100,
		    'mixed': 100},
		'scaling_concurrency': 20,
		'queue_capacities': [1, 64],
		'queue_workloads': ['cpu'],
		'queue_requests': 200,
		'request_counts': [100, 300],
		'request_workloads': ['cpu'],
		'wrk_duration': 1,
		'cpu_target_requests': 200,
		'wrk_cpu_duration': 1,
		'reactors_ab_requests': 500,
		'reactors_rounds': 1,
	},
	'full': {
		'grid_concurrency': 100,
		'static_ab_requests': 10000,
		'io_ab_requests': 6400,
		'repeats': 3,
		'target_repeats': 5,
		'scaling_workers': [1, 2, 4, 8, 16, 32, 64, 128],
		'scaling_workloads': ['static', 'cpu', 'io', 'mixed'],
		'scaling_requests': {'static': 10000, 'cpu': 10000, 'io': 2000,
		    'mixed': 5000},
		'scaling_concurrency': 100,
		'queue_capacities': [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
		'queue_workloads': ['static', 'cpu', 'io', 'mixed'],
		'queue_requests': 10000,
		'request_counts': [1000, 3000, 10000, 30000, 100000],
		'request_workloads': ['static', 'cpu', 'mixed'],
		'wrk_duration': 10,
		'cpu_target_requests': 10000,
		'wrk_cpu_duration': 10,
		'reactors_ab_requests': 100000,
		'reactors_rounds': 5,
	},
	# bench/device.sh on a lent 16-core machine: the study's worker
	# scaling with both clients, the peers' scaling, reactors; one run per
	# point so that it all fits in 8 minutes (see bench/device.sh)
	'device': {
		'grid_concurrency': 256,
		'static_ab_requests': 20000,
		'io_ab_requests': 6400,
		'repeats': 1,
		'scaling_workers': [1, 2, 4, 8, 16, 32, 64],
		'scaling_workloads': ['static', 'cpu'],
		'scaling_tools': ['wrk', 'ab'],
		'scaling_requests': {'static': 20000, 'cpu': 10000, 'io': 2000,
		    'mixed': 5000},
		'scaling_concurrency': 256,
		'scaling_wrk_threads': 8,
		'scaling_wrk_duration': 2,
		'peer_workers': [1, 2, 4, 8],
		'queue_capacities': [64],
		'queue_workloads': ['static'],
		'queue_requests': 10000,
		'request_counts': [1000, 3000, 10000],
		'request_workloads': ['cpu'],
		# the peers' comparison with a client that can load 8 server
		# cores (wrk -t2 -c64 is the 2-CPU setting: here it is the limit)
		'static_wrk_threads': 8,
		'static_wrk_connections': 256,
		'target_repeats': 3,
		'wrk_duration': 2,
		'cpu_target_requests': 10000,
		'wrk_cpu_duration': 2,
		'reactors_ab_requests': 50000,
		'reactors_rounds': 3,
	},
}
# accesslog: the static page with lfserver's access log off and on (a file,
# combined format); goal: on >= 0.9 x off.
EXPERIMENTS = ['workers', 'queue', 'requests', 'static', 'cpu', 'io',
    'onecpu', 'reactors', 'peers', 'accesslog']
DEFAULT_EXPERIMENTS = [e for e in EXPERIMENTS if e not in ('reactors',
    'peers', 'accesslog')]

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lfserver benchmark page</title>
</head>
<body>
<h1>lfserver benchmark page</h1>
<p>This page is served from memory by lfserver and from the page cache by
nginx, so that the static workload compares the two servers on the same
bytes.</p>
%s
</body>
</html>
""" % '\n'.join('<p>Line %d of filler text that brings the page to a size '
    'typical of a small HTML document.</p>' % i for i in range(1, 17))


class BenchError(Exception):
	"""A failure that ends the suite with a message and exit status 1."""


def log(msg):
	print(msg, file=sys.stderr, flush=True)


def fmt_secs(s):
	s = int(round(s))
	if s >= 3600:
		return '%dh%02dm' % (s // 3600, s % 3600 // 60)
	if s >= 60:
		return '%dm%02ds' % (s // 60, s % 60)
	return '%ds' % s


# ---------------------------------------------------------------- machine

def machine_facts():
	model = platform.processor() or 'unknown'
	try:
		with open('/proc/cpuinfo') as f:
			for line in f:
				if line.startswith('model name'):
					model = line.split(':', 1)[1].strip()
					break
	except OSError:
		pass
	return {
		'cpu_model': model,
		'cores': len(os.sched_getaffinity(0)),
		'kernel': platform.release(),
	}


def meltdown_mitigation():
	"""What the kernel says of Meltdown: 'Mitigation: PTI' means every
	system call and interrupt switches page tables, which makes them dear."""
	try:
		with open('/sys/devices/system/cpu/vulnerabilities/meltdown') as f:
			return f.read().strip()
	except OSError:
		return '?'


def loadavg():
	"""The 1-minute load average: on a shared machine, it says how much
	of the CPU the benchmark did not have to itself."""
	try:
		with open('/proc/loadavg') as f:
			return f.read().split()[0]
	except OSError:
		return '?'


def tool_version(argv):
	try:
		p = subprocess.run(argv, capture_output=True, text=True,
		    timeout=10)
	except (OSError, subprocess.TimeoutExpired):
		return 'unknown'
	out = (p.stdout + p.stderr).strip().splitlines()
	return out[0].strip() if out else 'unknown'


def check_tools(names, dry_run):
	missing = [n for n in names if shutil.which(n) is None]
	if not missing:
		return
	msg = '; '.join('%s not found (Debian package %s)' %
	    (n, DEBIAN_PACKAGE[n]) for n in missing)
	msg += '\n  setup: ' + SETUP_LINE
	if dry_run:
		log('warning: ' + msg)
		return
	raise BenchError(msg)


# ---------------------------------------------------------------- /proc

def proc_cpu_seconds(pids):
	"""utime+stime of PIDS (all threads of each process), in seconds."""
	tick = os.sysconf('SC_CLK_TCK')
	total = 0
	for pid in pids:
		try:
			with open('/proc/%d/stat' % pid) as f:
				stat = f.read()
		except OSError:
			continue
		# the command name may hold spaces: fields count from after ')'
		fields = stat[stat.rindex(')') + 2:].split()
		total += int(fields[11]) + int(fields[12])
	return total / tick


def proc_peak_rss_kb(pids):
	"""Sum of VmHWM over PIDS (shared pages of nginx workers count twice)."""
	total = 0
	for pid in pids:
		try:
			with open('/proc/%d/status' % pid) as f:
				for line in f:
					if line.startswith('VmHWM:'):
						total += int(line.split()[1])
		except OSError:
			continue
	return total


def proc_children(ppid):
	kids = []
	for d in os.listdir('/proc'):
		if not d.isdigit():
			continue
		try:
			with open('/proc/%s/stat' % d) as f:
				stat = f.read()
		except OSError:
			continue
		fields = stat[stat.rindex(')') + 2:].split()
		if int(fields[1]) == ppid:
			kids.append(int(d))
	return kids


THREAD_CLASSES = ['reactor', 'worker', 'acceptor', 'conn', 'main',
    'master', 'exited']


def thread_class(comm, tid, pid, master):
	"""The class a server thread's CPU time is reported under."""
	for prefix, cls in (('lf-reactor', 'reactor'), ('lf-worker', 'worker'),
	    ('lf-acceptor', 'acceptor'), ('lf-conn', 'conn')):
		if comm.startswith(prefix):
			return cls
	if master is not None and pid != master:
		return 'worker'		# an nginx worker process
	if master is not None:
		return 'master'
	return 'main'


def proc_threads(pids, master=None, proc='/proc'):
	"""A sample of PIDS' threads for thread_costs(): 'process', the whole
	processes' utime and stime in ticks (which, unlike the live threads,
	include threads that have exited, such as thread-per-connection's
	connection threads), and 'threads', per live thread (keyed by pid and
	tid) its class, utime and stime in ticks, voluntary and involuntary
	context switches, and its CPU time in ns from schedstat (None where the
	kernel has no schedstat). utime and stime are ticks of 10 ms: a reactor
	busy for 50 ms shows as 5 of them, hence the ns clock beside them."""
	out = {'process': [0, 0], 'threads': {}}
	for pid in pids:
		try:
			with open('%s/%d/stat' % (proc, pid)) as f:
				st = f.read()
			fields = st[st.rindex(')') + 2:].split()
			out['process'][0] += int(fields[11])
			out['process'][1] += int(fields[12])
			tids = os.listdir('%s/%d/task' % (proc, pid))
		except (OSError, ValueError):
			continue
		for tid in tids:
			base = '%s/%d/task/%s/' % (proc, pid, tid)
			try:
				with open(base + 'stat') as f:
					st = f.read()
				with open(base + 'status') as f:
					status = f.read()
			except OSError:
				continue
			comm = st[st.index('(') + 1:st.rindex(')')]
			fields = st[st.rindex(')') + 2:].split()
			v = re.search(r'^voluntary_ctxt_switches:\s+(\d+)', status, re.M)
			iv = re.search(r'^nonvoluntary_ctxt_switches:\s+(\d+)', status,
			    re.M)
			out['threads'][(pid, tid)] = {
				'class': thread_class(comm, int(tid), pid, master),
				'utime': int(fields[11]),
				'stime': int(fields[12]),
				'vcsw': int(v.group(1)) if v else 0,
				'ivcsw': int(iv.group(1)) if iv else 0,
				'ns': proc_schedstat_ns(base + 'schedstat'),
			}
	return out


def proc_schedstat_ns(path):
	"""The first field of a task's schedstat, its time on a CPU in ns, or
	None where the file is missing or all zero (schedstats off: a thread
	that ran at all has a run time)."""
	try:
		with open(path) as f:
			fields = f.read().split()
	except OSError:
		return None
	if len(fields) < 3 or not any(int(x) for x in fields[:3]):
		return None
	return int(fields[0])


def thread_costs(before, after, requests, tick=None):
	"""Row fields from two proc_threads() samples around a run of REQUESTS:
	CPU µs per request by thread class, user and system seconds of the
	processes, context switches per request of the live threads, and
	thread_cpu_clock: 'schedstat' when every thread's time came from
	schedstat in ns, else 'ticks'. A thread present in both samples
	counts its difference, one that started during the run all of its
	time; 'exited' is what the processes spent in threads gone by the
	second sample: the processes' time, which only stat gives and in
	ticks, less the live threads'. Both of the processes' ticks are
	truncated, so less than two ticks of it is the clock's grain, not a
	thread, and counts as 0."""
	tick = tick or os.sysconf('SC_CLK_TCK')
	tick_ns = 1e9 / tick
	ns = {c: 0 for c in THREAD_CLASSES}
	vcsw = ivcsw = 0
	exact = True
	for key, t in after['threads'].items():
		b = before['threads'].get(key)
		zero = {'utime': 0, 'stime': 0, 'vcsw': 0, 'ivcsw': 0, 'ns': 0}
		if b is None:
			b = zero
		ticks = t['utime'] + t['stime'] - b['utime'] - b['stime']
		vcsw += t['vcsw'] - b['vcsw']
		ivcsw += t['ivcsw'] - b['ivcsw']
		if t['ns'] is not None and b['ns'] is not None:
			ns[t['class']] += t['ns'] - b['ns']
		else:
			exact = False
			ns[t['class']] += ticks * tick_ns
	dproc = [a - b for a, b in zip(after['process'], before['process'])]
	gone = (dproc[0] + dproc[1]) * tick_ns - sum(ns.values())
	ns['exited'] = gone if gone >= 2 * tick_ns else 0
	row = {}
	for c in THREAD_CLASSES:
		row['us_req_' + c] = round(ns[c] / 1e3 / requests, 3) \
		    if requests else ''
	row['server_user_s'] = round(dproc[0] / tick, 3)
	row['server_sys_s'] = round(dproc[1] / tick, 3)
	row['vcsw_req'] = round(vcsw / requests, 3) if requests else ''
	row['ivcsw_req'] = round(ivcsw / requests, 3) if requests else ''
	row['thread_cpu_clock'] = 'schedstat' if exact else 'ticks'
	return row


# ---------------------------------------------------------------- ports

def free_port():
	"""A port the kernel just handed out; the server may still lose a race
	for it, which Server.start() detects and retries."""
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
		s.bind(('127.0.0.1', 0))
		return s.getsockname()[1]


def port_answers(port):
	try:
		with socket.create_connection(('127.0.0.1', port), timeout=0.2):
			return True
	except OSError:
		return False


def http_get(port, path, timeout=10):
	req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path),
	    headers={'Connection': 'close'})
	try:
		with urllib.request.urlopen(req, timeout=timeout) as r:
			return r.status, r.read()
	except urllib.error.HTTPError as e:
		return e.code, e.read()
	except (OSError, ValueError) as e:
		raise BenchError('GET %s on port %d failed: %s' % (path, port, e))


def primes_upto(n):
	if n < 2:
		return 0
	sieve = bytearray([1]) * (n + 1)
	sieve[0] = sieve[1] = 0
	for i in range(2, int(n ** 0.5) + 1):
		if sieve[i]:
			sieve[i * i::i] = bytearray(len(sieve[i * i::i]))
	return sum(sieve)


# ---------------------------------------------------------------- servers

class Server:
	"""One server process on a free loopback port, started and stopped by
	the suite.  Subclasses provide the command line and the pid set."""

	name = 'server'
	start_timeout = 10.0

	def __init__(self, tmpdir, cpu_prefix):
		self.tmpdir = tmpdir
		self.cpu_prefix = cpu_prefix
		self.proc = None
		self.port = None
		self.logpath = None
		self.argv = None

	def command(self, port):
		raise NotImplementedError

	def pids(self):
		return [self.proc.pid]

	def log_tail(self, n=15):
		try:
			with open(self.logpath, errors='replace') as f:
				lines = f.read().splitlines()
		except OSError:
			return '(no log)'
		return '\n'.join('    ' + l for l in lines[-n:]) or '    (empty log)'

	def start(self):
		last = None
		for attempt in range(5):
			port = free_port()
			if port_answers(port):
				last = 'port %d is taken by another process' % port
				continue
			err = self._start_on(port)
			if err is None:
				return
			last = err
			if 'in use' not in err and 'taken' not in err:
				break
		raise BenchError('%s failed to start: %s' % (self.name, last))

	def _start_on(self, port):
		self.port = port
		self.argv = self.cpu_prefix + self.command(port)
		self.logpath = os.path.join(self.tmpdir, '%s-%d.log' %
		    (self.name, port))
		logf = open(self.logpath, 'w')
		try:
			self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
			    stdout=logf, stderr=subprocess.STDOUT,
			    start_new_session=True)
		except OSError as e:
			return 'cannot execute %s: %s' % (self.argv[0], e)
		finally:
			logf.close()
		deadline = time.monotonic() + self.start_timeout
		while time.monotonic() < deadline:
			rc = self.proc.poll()
			if rc is not None:
				tail = self.log_tail()
				why = 'exited with status %d on port %d' % (rc, port)
				if 'in use' in tail:
					why = 'port %d is taken (address in use)' % port
				self.proc = None
				return '%s\n  command: %s\n  log:\n%s' % (why,
				    ' '.join(self.argv), tail)
			if port_answers(port):
				return None
			time.sleep(0.02)
		self.stop()
		return ('no answer on port %d within %.0f s\n'
		    '  command: %s\n  log:\n%s' % (port,
		    self.start_timeout, ' '.join(self.argv), self.log_tail()))

	def alive(self):
		return self.proc is not None and self.proc.poll() is None

	def stop(self):
		"""SIGTERM, then SIGKILL after 10 s; returns a warning or None."""
		if self.proc is None:
			return None
		warn = None
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(timeout=10)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
				warn = '%s did not stop within 10 s of SIGTERM' % self.name
		rc = self.proc.returncode
		if warn is None and rc not in (0, -signal.SIGTERM):
			warn = '%s exited with status %s on SIGTERM' % (self.name, rc)
		self.proc = None
		return warn

	def cpu_seconds(self):
		return proc_cpu_seconds(self.pids())

	def peak_rss_kb(self):
		return proc_peak_rss_kb(self.pids())


class Lfserver(Server):
	name = 'lfserver'

	def __init__(self, tmpdir, cpu_prefix, binary, docroot, mode, workers,
	    queue, reactors='', access_log='off', settings=()):
		super().__init__(tmpdir, cpu_prefix)
		self.settings = list(settings)
		self.binary = binary
		self.docroot = docroot
		self.mode = mode
		self.workers = workers
		self.queue = queue
		self.reactors = reactors
		self.access_log = access_log
		self.admin_port = None

	def command(self, port):
		# Settings that do not change between points live in an ini
		# passed by -c; those the experiments vary go on the command line,
		# which overrides the file (the contract), exactly as an operator
		# would try a mode.
		# /stats is read from the admin listener, off the public port
		ini = os.path.join(self.tmpdir, 'lfserver-%d.ini' % port)
		self.admin_port = free_port()
		extra = 'admin_listen = 127.0.0.1:%d\n' % self.admin_port
		if self.reactors != '':
			extra += 'reactors = %s\n' % self.reactors
		if self.access_log == 'file':
			extra += 'access_log = %s\n' % os.path.join(self.tmpdir,
			    'access-%d.log' % port)
		# a --variant's or --server-setting's [server] keys
		extra += ''.join('%s = %s\n' % kv for kv in self.settings)
		with open(ini, 'w') as f:
			f.write('# generated by bench/lfbench.py\n'
			    '[server]\n'
			    'docroot = %s\n'
			    'max_connections = 10000\n'
			    '%s'
			    '[stats]\n'
			    'interval = 0\n' % (self.docroot, extra))
		return self.argv_for(self.binary, ini, self.mode, port, self.workers,
		    self.queue)

	@staticmethod
	def argv_for(binary, ini, mode, port, workers, queue):
		argv = [binary, '-c', ini, '-m', mode, '-l', '127.0.0.1:%s' % port]
		# sequential is a pool of exactly one worker by definition
		if workers != '' and mode != 'sequential':
			argv += ['-w', str(workers)]
		if queue != '':
			argv += ['-q', str(queue)]
		return argv

	def check_identity(self):
		"""The port answers, but is it us, in the mode we asked for?"""
		status, body = http_get(self.admin_port, '/stats')
		if status != 200:
			raise BenchError('lfserver: GET /stats on the admin listener '
			    '(port %d) answered %d' % (self.admin_port, status))
		try:
			st = json.loads(body)
		except ValueError:
			raise BenchError('lfserver: /stats is not JSON: %r' % body[:200])
		if st.get('mode') != self.mode:
			raise BenchError('lfserver runs mode %r, asked for %r '
			    '(command: %s)' % (st.get('mode'), self.mode,
			    ' '.join(self.argv)))
		if self.workers != '' and self.mode != 'sequential' and \
		    st.get('workers') != self.workers:
			raise BenchError('lfserver runs %r workers, asked for %r' %
			    (st.get('workers'), self.workers))
		if self.queue != '' and st.get('queue_capacity') != self.queue:
			raise BenchError('lfserver has queue_capacity %r, asked for '
			    '%r' % (st.get('queue_capacity'), self.queue))
		if st.get('pid') not in (None, self.proc.pid):
			raise BenchError('port %d is answered by pid %r, not by our '
			    'lfserver (pid %d)' % (self.port, st.get('pid'),
			    self.proc.pid))


class Nginx(Server):
	"""nginx, master plus WORKERS worker processes.  SENDFILE on is its
	faster setting for large files; for the 754-byte page, off (its
	default) is faster: the suite runs both and keeps the better."""
	name = 'nginx'

	def __init__(self, tmpdir, cpu_prefix, docroot, workers, sendfile=False):
		super().__init__(tmpdir, cpu_prefix)
		self.docroot = docroot
		self.workers = workers
		self.sendfile = sendfile
		self.prefix = None
		if sendfile:
			self.name = 'nginx-sendfile'

	def command(self, port):
		self.prefix = os.path.join(self.tmpdir, 'nginx-%d' % port)
		os.makedirs(self.prefix, exist_ok=True)
		p = self.prefix
		conf = os.path.join(p, 'nginx.conf')
		# Temp paths point into the prefix so that nothing under
		# /var/lib/nginx is needed; keepalive_requests is raised because
		# lfserver does not cap requests per connection either; deferred
		# (TCP_DEFER_ACCEPT) as lfserver's listening sockets have it.
		with open(conf, 'w') as f:
			f.write('''# generated by bench/lfbench.py
worker_processes %(workers)d;
daemon off;
master_process on;
pid %(p)s/nginx.pid;
error_log %(p)s/error.log warn;
events {
	worker_connections 10000;
}
http {
	access_log off;
	sendfile %(sendfile)s;
	tcp_nopush %(sendfile)s;
	keepalive_requests 1000000;
	open_file_cache max=1000 inactive=60s;
	open_file_cache_valid 60s;
	client_body_temp_path %(p)s/body;
	proxy_temp_path %(p)s/proxy;
	fastcgi_temp_path %(p)s/fastcgi;
	uwsgi_temp_path %(p)s/uwsgi;
	scgi_temp_path %(p)s/scgi;
	types {
		text/html html;
	}
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:%(port)d deferred;
		root %(docroot)s;
		index index.html;
	}
}
''' % {'workers': self.workers, 'p': p, 'port': port,
			    'docroot': self.docroot,
			    'sendfile': 'on' if self.sendfile else 'off'})
		return [shutil.which('nginx') or 'nginx', '-p', p, '-e',
		    os.path.join(p, 'error.log'), '-c', conf]

	def pids(self):
		return [self.proc.pid] + proc_children(self.proc.pid)

	def log_tail(self, n=15):
		out = super().log_tail(n)
		if self.prefix:
			try:
				with open(os.path.join(self.prefix, 'error.log'),
				    errors='replace') as f:
					lines = f.read().splitlines()[-n:]
				out += '\n' + '\n'.join('    ' + l for l in lines)
			except OSError:
				pass
		return out

	def check_identity(self):
		pass


class Lighttpd(Server):
	"""lighttpd 1.4: one process (its recommended setting: server.max-worker
	is documented as not needed and it does not scale that way), with its
	defaults otherwise (sendfile-capable network backend chosen by itself)."""
	name = 'lighttpd'

	def __init__(self, tmpdir, cpu_prefix, docroot):
		super().__init__(tmpdir, cpu_prefix)
		self.docroot = docroot

	def command(self, port):
		conf = os.path.join(self.tmpdir, 'lighttpd-%d.conf' % port)
		with open(conf, 'w') as f:
			f.write('# generated by bench/lfbench.py\n'
			    'server.document-root = "%s"\n'
			    'server.bind = "127.0.0.1"\n'
			    'server.port = %d\n'
			    'server.max-connections = 10000\n'
			    'server.max-fds = 20000\n'
			    'server.max-keep-alive-requests = 1000000\n'
			    'server.defer-accept = 1\n'
			    'server.errorlog = "%s"\n'
			    'index-file.names = ("index.html")\n'
			    'mimetype.assign = (".html" => "text/html")\n' % (
			    self.docroot, port, os.path.join(self.tmpdir,
			    'lighttpd-%d.err' % port)))
		return [shutil.which('lighttpd') or '/usr/sbin/lighttpd', '-D',
		    '-f', conf]

	def check_identity(self):
		pass


class Yardstick(Server):
	"""bench/yardstick: not a server, the least an epoll loop can do per
	keep-alive request (wrk only; it never closes a connection)."""
	name = 'yardstick'

	def __init__(self, tmpdir, cpu_prefix, binary, docroot):
		super().__init__(tmpdir, cpu_prefix)
		self.binary = binary
		self.docroot = docroot

	def command(self, port):
		return [self.binary, str(port),
		    os.path.join(self.docroot, 'index.html')]

	def check_identity(self):
		pass


PEERS = ['nginx', 'nginx-sendfile', 'lighttpd']


def peer_server(name, ctx, args, workers):
	if name in ('nginx', 'nginx-sendfile'):
		return Nginx(ctx['tmpdir'], ctx['server_prefix'], ctx['docroot'],
		    workers, sendfile=name == 'nginx-sendfile')
	if name == 'lighttpd':
		return Lighttpd(ctx['tmpdir'], ctx['server_prefix'], ctx['docroot'])
	if name == 'yardstick':
		return Yardstick(ctx['tmpdir'], ctx['server_prefix'],
		    args.yardstick, ctx['docroot'])
	raise BenchError('unknown server %r' % name)


# ---------------------------------------------------------------- clients

_UNIT = {'us': 1e-3, 'ms': 1.0, 's': 1e3, 'm': 60e3}


def parse_ab(text):
	"""ApacheBench's report -> dict; raises BenchError when it has none."""
	def grab(pattern, conv=float, default=None):
		m = re.search(pattern, text, re.M)
		return conv(m.group(1)) if m else default
	r = {
		'time_taken_s': grab(r'^Time taken for tests:\s+([\d.]+) seconds'),
		'completed': grab(r'^Complete requests:\s+(\d+)', int),
		'failed': grab(r'^Failed requests:\s+(\d+)', int),
		'non2xx': grab(r'^Non-2xx responses:\s+(\d+)', int, 0),
		'requests_per_s': grab(r'^Requests per second:\s+([\d.]+)'),
		'p50_ms': grab(r'^\s+50%\s+(\d+)'),
		'p99_ms': grab(r'^\s+99%\s+(\d+)'),
	}
	for k in ('time_taken_s', 'completed', 'failed', 'requests_per_s'):
		if r[k] is None:
			raise BenchError('ab printed no "%s" line' % k)
	return r


def parse_wrk(text):
	"""wrk --latency's report -> dict; raises BenchError when it has none."""
	m = re.search(r'^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),', text, re.M)
	if not m:
		raise BenchError('wrk printed no "requests in" line')
	r = {
		'completed': int(m.group(1)),
		'time_taken_s': float(m.group(2)) * _UNIT[m.group(3)] / 1e3,
		'failed': 0,
		'non2xx': 0,
		'p50_ms': None,
		'p99_ms': None,
	}
	m = re.search(r'^Requests/sec:\s+([\d.]+)', text, re.M)
	if not m:
		raise BenchError('wrk printed no "Requests/sec" line')
	r['requests_per_s'] = float(m.group(1))
	m = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), '
	    r'timeout (\d+)', text)
	if m:
		r['failed'] = sum(int(x) for x in m.groups())
	m = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
	if m:
		r['non2xx'] = int(m.group(1))
	for pct, key in (('50', 'p50_ms'), ('99', 'p99_ms')):
		m = re.search(r'^\s+%s%%\s+([\d.]+)(us|ms|s|m)\s*$' % pct, text,
		    re.M)
		if m:
			# wrk prints 3 significant digits: keep no more than that
			r[key] = round(float(m.group(1)) * _UNIT[m.group(2)], 6)
	return r


def client_argv(pt, port, warmup=False):
	url = 'http://127.0.0.1:%s%s' % (port, pt['path'])
	if pt['tool'] == 'ab' or warmup:
		n = pt['requests'] if pt['tool'] == 'ab' else pt['concurrency']
		c = pt['concurrency']
		if warmup:
			n = min(n, c)
		c = min(c, n)
		# -l: /mixed answers with bodies of different lengths, which ab
		# would otherwise count as failed ("Length") requests
		argv = ['ab', '-q', '-n', str(n), '-c', str(c), '-s', '30']
		if pt['workload'] == 'mixed':
			argv.append('-l')
		return argv + [url]
	return ['wrk', '-t', str(pt['threads']), '-c', str(pt['concurrency']),
	    '-d', '%ds' % pt['duration_s'], '--latency', url]


def run_client(argv, cpu_prefix, timeout):
	try:
		p = subprocess.run(cpu_prefix + argv, capture_output=True,
		    text=True, timeout=timeout)
	except subprocess.TimeoutExpired:
		raise BenchError('%s ran past %d s' % (' '.join(argv), timeout))
	return p.returncode, p.stdout + p.stderr


# ---------------------------------------------------------------- plan

def point(experiment, server, mode, workers, queue, workload, tool, conc,
    requests='', duration='', threads=1, repeats=1, reactors='',
    access_log='off'):
	return {
		'reactors': reactors,
		'access_log': access_log,
		'variant': '',
		'experiment': experiment, 'server': server, 'mode': mode,
		'workers': workers, 'queue_capacity': queue, 'workload': workload,
		'path': WORKLOADS[workload], 'tool': tool, 'concurrency': conc,
		'threads': threads, 'requests': requests, 'duration_s': duration,
		'repeats': repeats,
	}


def lf_point(experiment, mode, workers, queue, workload, tool, conc, **kw):
	"""Modes without a pool take neither -w nor -q: record them blank
	(sequential is a pool of exactly one worker)."""
	if mode == 'sequential':
		workers, queue = 1, ''
	elif mode == 'thread-per-connection':
		workers, queue = '', ''
	return point(experiment, 'lfserver', mode, workers, queue, workload,
	    tool, conc, **kw)


# Keys lfbench writes itself or varies through its own options.
OWN_KEYS = ('docroot', 'max_connections', 'admin_listen', 'reactors',
    'access_log', 'mode', 'workers', 'queue_capacity', 'listen')


def parse_settings(text, what):
	"""'KEY=VALUE,KEY=VALUE' (blank: none) as [(key, value)]."""
	out = []
	for item in [x for x in text.split(',') if x.strip()]:
		k, eq, v = item.partition('=')
		k, v = k.strip(), v.strip()
		if not eq or not re.match(r'^[a-z_]+$', k) or not v or \
		    '\n' in v or ';' in v:
			raise BenchError('%s: %r is not KEY=VALUE' % (what, item))
		if k in OWN_KEYS:
			raise BenchError('%s: %s is set by lfbench itself (use its '
			    'own option)' % (what, k))
		out.append((k, v))
	return out


def parse_variant(text):
	"""--variant NAME:KEY=VALUE[,KEY=VALUE...] (or NAME: for none)."""
	name, colon, rest = text.partition(':')
	if not colon or not re.match(r'^[A-Za-z0-9_.-]+$', name):
		raise BenchError('--variant %r: want NAME:KEY=VALUE[,...] (NAME of '
		    'letters, digits, ._-; NAME: alone for the defaults)' % text)
	return name, parse_settings(rest, '--variant ' + name)


def expand_variants(plan, variants, common=()):
	"""Each lfserver point once per variant, one after the other, so that
	the variants of a point run interleaved within every round; peers'
	points once.  COMMON settings (--server-setting) go to every lfserver."""
	out = []
	for pt in plan:
		if pt['server'] != 'lfserver':
			out.append(pt)
			continue
		for name, settings in variants or [('', [])]:
			q = dict(pt)
			q['variant'] = name
			q['settings'] = list(common) + list(settings)
			out.append(q)
	return out


def variant_summary(medians):
	"""Lines comparing the variants of each point: req/s and voluntary
	context switches per request."""
	by = {}
	for r in medians:
		if r.get('variant', '') == '' or r['requests_per_s'] == '':
			continue
		key = tuple(str(r[k]) for k in KEY_FIELDS if k != 'variant')
		by.setdefault(key, []).append(r)
	out = []
	for rows in by.values():
		if len(rows) < 2:
			continue
		r0 = rows[0]
		out.append('variants %s %s w=%s %s %s -c%s: %s' % (
		    r0['experiment'], r0['mode'], r0['workers'], r0['workload'],
		    r0['tool'], r0['concurrency'], ', '.join('%s %.0f req/s '
		    '%s cs/req' % (r['variant'], float(r['requests_per_s']),
		    r.get('vcsw_req', '') or '?') for r in rows)))
	return out


def server_knows(binary, line):
	"""Whether lfserver -t accepts LINE in its [server] section."""
	with tempfile.NamedTemporaryFile('w', suffix='.ini') as f:
		f.write('[server]\n%s\n' % line)
		f.flush()
		try:
			p = subprocess.run([binary, '-t', '-c', f.name],
			    capture_output=True, timeout=10)
		except (OSError, subprocess.TimeoutExpired):
			return False
		return p.returncode == 0


def build_plan(args, prof, ncpu):
	R = args.repeats if args.repeats else prof['repeats']
	TR = args.target_repeats or args.repeats or prof['target_repeats']
	modes = [m for m in MODES if m in args.modes]
	pools = [m for m in POOL_MODES if m in modes]
	singles = [m for m in modes if m not in POOL_MODES]
	wls = args.workloads
	plan = []
	lf = not args.no_lfserver
	ng = not args.no_nginx
	exps = args.experiments
	gc = prof['grid_concurrency']
	peers = [p for p in args.peers if p] if ng else []

	if 'workers' in exps and lf:
		c = prof['scaling_concurrency']
		for wl in [w for w in prof['scaling_workloads'] if w in wls]:
			n = prof['scaling_requests'][wl]
			for tool in prof.get('scaling_tools', ['ab']):
				kw = {'requests': n}
				if tool == 'wrk':
					kw = {'duration': prof['scaling_wrk_duration'],
					    'threads': prof['scaling_wrk_threads']}
				for m in singles:
					plan.append(lf_point('workers', m, '', '', wl, tool,
					    c, repeats=R, **kw))
				for m in pools:
					for w in prof['scaling_workers']:
						plan.append(lf_point('workers', m, w, 8, wl, tool,
						    c, repeats=R, **kw))
	if 'peers' in exps and ng and 'static' in wls:
		# the peers' own scaling with worker processes, on the static page
		for p in [p for p in peers if p.startswith('nginx')]:
			for w in prof.get('peer_workers', [1, ncpu]):
				plan.append(point('peers', p, p, w, '', 'static', 'wrk',
				    prof['scaling_concurrency'],
				    duration=prof['wrk_duration'],
				    threads=prof.get('scaling_wrk_threads', 2),
				    repeats=R))
				plan.append(point('peers', p, p, w, '', 'static', 'ab',
				    prof['scaling_concurrency'],
				    requests=prof['static_ab_requests'], repeats=R))
	if 'queue' in exps and lf:
		w = 2 * ncpu
		for wl in [w_ for w_ in prof['queue_workloads'] if w_ in wls]:
			n = prof['queue_requests'] if wl != 'io' else \
			    prof['scaling_requests']['io']
			for m in pools:
				for q in prof['queue_capacities']:
					plan.append(lf_point('queue', m, w, q, wl, 'ab', gc,
					    requests=n, repeats=R))
	if 'requests' in exps and lf:
		for wl in [w_ for w_ in prof['request_workloads'] if w_ in wls]:
			for m in modes:
				for n in prof['request_counts']:
					plan.append(lf_point('requests', m, ncpu, 8, wl, 'ab',
					    gc, requests=n, repeats=R))
	if 'static' in exps and 'static' in wls:
		d = prof['wrk_duration']
		# interleaved: every round visits every server before the next
		# round, so that a noisy moment on a shared machine hits all alike
		servers = peers + (modes if lf else [])
		for rnd in range(TR):
			for s in servers + (['yardstick'] if args.yardstick else []):
				for tool, kw in (('wrk', {'duration': d,
				    'threads': prof.get('static_wrk_threads', 2)}),
				    ('ab', {'requests': prof['static_ab_requests']})):
					c = prof.get('static_wrk_connections', 64) \
					    if tool == 'wrk' else gc
					if s == 'yardstick' and tool != 'wrk':
						continue
					if s in PEERS or s == 'yardstick':
						plan.append(point('static', s, s, ncpu, '',
						    'static', tool, c, repeats=1, **kw))
					else:
						plan.append(lf_point('static', s, ncpu, '',
						    'static', tool, c, repeats=1, **kw))
	if 'onecpu' in exps and 'static' in wls:
		d = prof['wrk_duration']
		servers = peers + (modes if lf else [])
		for rnd in range(TR):
			for s in servers + (['yardstick'] if args.yardstick else []):
				if s in PEERS or s == 'yardstick':
					plan.append(point('onecpu', s, s, 1, '', 'static',
					    'wrk', 64, duration=d, threads=1, repeats=1))
				else:
					plan.append(lf_point('onecpu', s, 1, '', 'static',
					    'wrk', 64, duration=d, threads=1, repeats=1))
	if 'reactors' in exps and lf and 'static' in wls and \
	    not server_knows(args.server, 'reactors = 1'):
		log('reactors experiment skipped: %s does not accept the '
		    '"reactors" setting' % args.server)
	elif 'reactors' in exps and lf and 'static' in wls:
		# a reactor's share of a new connection is a few µs: enough
		# requests that its CPU time is well above the clock's grain and
		# the noise of a shared machine, over interleaved rounds whose
		# medians the report compares (--target-repeats overrides)
		for rnd in range(args.target_repeats or prof['reactors_rounds']):
			for m in pools:
				for r in args.reactor_counts:
					plan.append(lf_point('reactors', m, ncpu, 64, 'static',
					    'ab', gc, requests=prof['reactors_ab_requests'],
					    repeats=1, reactors=r))
					plan.append(lf_point('reactors', m, ncpu, 64, 'static',
					    'wrk', 64, duration=prof['wrk_duration'],
					    threads=2, repeats=1, reactors=r))
	if 'cpu' in exps and lf and 'cpu' in wls:
		for m in modes:
			for tool, kw in (('ab', {'requests':
			    prof['cpu_target_requests']}),
			    ('wrk', {'duration': prof['wrk_cpu_duration'],
			    'threads': 2})):
				plan.append(lf_point('cpu', m, ncpu, '', 'cpu', tool, 64,
				    repeats=TR, **kw))
	if 'io' in exps and lf and 'io' in wls:
		for m in [m for m in modes if m != 'sequential']:
			for tool, kw in (('wrk', {'duration': prof['wrk_duration'],
			    'threads': 2}), ('ab', {'requests': prof['io_ab_requests']})):
				plan.append(lf_point('io', m, 64, 64, 'io', tool, 64,
				    repeats=TR, **kw))
	if 'accesslog' in exps and lf and 'static' in wls:
		for m in modes:
			for al in ('off', 'file'):
				plan.append(lf_point('accesslog', m, ncpu, '', 'static',
				    'wrk', 64, duration=prof['wrk_duration'], threads=2,
				    repeats=TR, access_log=al))
	return plan


def accesslog_summary(medians):
	"""Lines saying, per mode, requests/s with the file log on vs off."""
	by = {}
	for r in medians:
		if r['experiment'] == 'accesslog' and r['requests_per_s'] != '':
			by.setdefault(r['mode'], {})[r['access_log']] = \
			    float(r['requests_per_s'])
	out = []
	for mode, v in sorted(by.items()):
		if 'off' in v and 'file' in v and v['off'] > 0:
			ratio = v['file'] / v['off']
			out.append('accesslog %s: %.0f req/s with the file log, %.0f '
			    'without: %.2fx (goal >= 0.9x: %s)' % (mode, v['file'],
			    v['off'], ratio, 'met' if ratio >= 0.9 else 'NOT met'))
	return out


def estimate(pt, ncpu):
	"""Rough seconds for a point, for the ETA and the dry run only."""
	if pt['tool'] == 'wrk':
		run = pt['duration_s'] + 0.3
	else:
		n = pt['requests']
		w = pt['workers'] if pt['workers'] != '' else pt['concurrency']
		par = min(w, pt['concurrency'])
		# rates measured on a 2-core EPYC VM with ab as the client
		if pt['workload'] == 'io':
			rate = min(par / 0.0103, 5000)
		elif pt['workload'] == 'cpu':
			rate = 4000 * min(par, ncpu) ** 0.5
		elif pt['workload'] == 'mixed':
			rate = min(par / 0.0035, 3000)
		else:
			rate = 9000
		run = n / rate + 0.05
	return 0.3 + pt['repeats'] * run + run / 10


def describe(pt):
	s = '%s %s' % (pt['experiment'], pt['mode'])
	if pt.get('variant', ''):
		s += ' [%s: %s]' % (pt['variant'], ','.join('%s=%s' % kv for kv in
		    pt.get('settings', [])) or 'defaults')
	elif pt.get('settings'):
		s += ' [%s]' % ','.join('%s=%s' % kv for kv in pt['settings'])
	if pt.get('access_log', 'off') != 'off':
		s += ' access_log=%s' % pt['access_log']
	if pt['workers'] != '':
		s += ' w=%s' % pt['workers']
	if pt['queue_capacity'] != '':
		s += ' q=%s' % pt['queue_capacity']
	s += ' %s %s' % (pt['workload'], pt['tool'])
	if pt['tool'] == 'ab':
		s += ' -n %s -c %s' % (pt['requests'], pt['concurrency'])
	else:
		s += ' -t%s -c%s -d%ss' % (pt['threads'], pt['concurrency'],
		    pt['duration_s'])
	return s


# ---------------------------------------------------------------- running

def expected_body_ok(pt, body, page):
	wl = pt['workload']
	if wl == 'static':
		return body == page.encode()
	if wl == 'cpu':
		n = int(re.search(r'n=(\d+)', pt['path']).group(1))
		return re.search(rb'\b%d\b' % primes_upto(n), body) is not None
	return True


def run_point(pt, args, ctx, idx, total, t0, done_est, total_est):
	if done_est > 0:
		eta = (time.monotonic() - t0) / done_est * (total_est - done_est)
	else:
		eta = total_est
	log('[%d/%d] %s (ETA %s)' % (idx, total, describe(pt), fmt_secs(eta)))
	sctx = dict(ctx)
	client_prefix = ctx['client_prefix']
	if pt['experiment'] == 'onecpu':
		# server on the first CPU, the client on the second: CPU cost per
		# request without the two competing for a core
		cpus = sorted(os.sched_getaffinity(0))
		sctx['server_prefix'] = ['taskset', '-c', str(cpus[0])]
		client_prefix = ['taskset', '-c', str(cpus[1])]
	if pt['server'] != 'lfserver':
		srv = peer_server(pt['server'], sctx, args, pt['workers'])
	else:
		srv = Lfserver(ctx['tmpdir'], sctx['server_prefix'], args.server,
		    ctx['docroot'], pt['mode'], pt['workers'],
		    pt['queue_capacity'], pt.get('reactors', ''),
		    pt.get('access_log', 'off'), pt.get('settings', ()))
	master = None
	rows = []
	srv.start()
	if pt['server'].startswith('nginx'):
		master = srv.proc.pid
	ctx['live'] = srv
	try:
		srv.check_identity()
		status, body = http_get(srv.port, pt['path'])
		if status != 200 or not expected_body_ok(pt, body, PAGE):
			raise BenchError('%s: GET %s answered %d with an unexpected '
			    'body: %r' % (srv.name, pt['path'], status, body[:200]))
		argv = client_argv(pt, srv.port, warmup=True)
		if pt['server'] != 'yardstick':
			rc, out = run_client(argv, client_prefix, args.run_timeout)
			check_result(pt, srv, argv, rc, out, parse_ab, warmup=True)
		sys_counts = {}
		if args.syscalls:
			sys_counts = count_syscalls(pt, srv, client_prefix, args)
		for rep in range(1, pt['repeats'] + 1):
			argv = client_argv(pt, srv.port)
			cpu0 = srv.cpu_seconds()
			th0 = proc_threads(srv.pids(), master)
			rc, out = run_client(argv, client_prefix, args.run_timeout)
			cpu1 = srv.cpu_seconds()
			th1 = proc_threads(srv.pids(), master)
			parse = parse_ab if pt['tool'] == 'ab' else parse_wrk
			res = check_result(pt, srv, argv, rc, out, parse)
			row = {k: pt[k] for k in KEY_FIELDS if k in pt}
			row.update(ctx['facts'])
			row.update({
				'repeat': rep,
				'time_taken_s': res['time_taken_s'],
				'requests_per_s': res['requests_per_s'],
				'completed': res['completed'],
				'failed': res['failed'],
				'non2xx': res['non2xx'],
				'p50_ms': '' if res['p50_ms'] is None else res['p50_ms'],
				'p99_ms': '' if res['p99_ms'] is None else res['p99_ms'],
				'server_cpu_s': round(cpu1 - cpu0, 3),
				'server_peak_rss_kb': srv.peak_rss_kb(),
				'reactors': pt.get('reactors', ''),
				'variant': pt.get('variant', ''),
				'pinned': ctx['pinned'],
				'profile': args.profile,
				'timestamp': datetime.datetime.now().isoformat(
				    timespec='seconds'),
			})
			row.update(thread_costs(th0, th1, res['completed']))
			row.update(sys_counts)
			rows.append(row)
			with open(os.path.join(ctx['tmpdir'], 'last-output.txt'),
			    'w') as f:
				f.write(out)
			log('    run %d: %.3f s, %.0f req/s, p50 %s ms, p99 %s ms, '
			    'server cpu %.2f s' % (rep, res['time_taken_s'],
			    res['requests_per_s'], row['p50_ms'], row['p99_ms'],
			    cpu1 - cpu0))
	finally:
		ctx['live'] = None
		warn = srv.stop()
		if warn:
			log('warning: ' + warn)
	return rows


def strace_calls(lines):
	"""Calls per system call name from strace -c's table, without its
	last row, which sums the others (counted, it doubled syscalls/req)."""
	calls = {}
	for line in lines:
		m = re.match(r'^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)'
		    r'(?:\s+\d+)?\s+(\w+)\s*$', line)
		if m and m.group(2) != 'total':
			calls[m.group(2)] = int(m.group(1))
	return calls


def count_syscalls(pt, srv, client_prefix, args):
	"""One extra, sampled run with strace -c attached to every server
	thread: futex and epoll_wait calls and all system calls per request.
	strace slows the server several times over, so this run's rate is not
	kept; counts per request are (the server does the same work per
	request, only slower)."""
	if not shutil.which('strace'):
		raise BenchError('--syscalls needs strace (apt-get install strace)')
	outf = os.path.join(srv.tmpdir, 'strace-%d.txt' % srv.port)
	argv = ['strace', '-f', '-c', '-q', '-o', outf]
	for pid in srv.pids():
		argv += ['-p', str(pid)]
	tr = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
	    stderr=subprocess.DEVNULL)
	time.sleep(0.5)
	cargv = client_argv(pt, srv.port)
	rc, out = run_client(cargv, client_prefix, args.run_timeout)
	tr.send_signal(signal.SIGINT)
	tr.wait(timeout=30)
	parse = parse_ab if pt['tool'] == 'ab' else parse_wrk
	res = check_result(pt, srv, cargv, rc, out, parse)
	n = res['completed']
	try:
		with open(outf) as f:
			calls = strace_calls(f)
	except OSError:
		return {}
	total = sum(calls.values())
	return {
		'futex_req': round(calls.get('futex', 0) / n, 3),
		'epoll_wait_req': round((calls.get('epoll_wait', 0) +
		    calls.get('epoll_pwait', 0)) / n, 3),
		'syscalls_req': round(total / n, 3),
	}


def check_result(pt, srv, argv, rc, out, parse, warmup=False):
	what = '%s%s against %s' % ('warm-up ' if warmup else '',
	    ' '.join(argv), srv.name)
	if not srv.alive():
		raise BenchError('%s: the server died during the run\n  log:\n%s'
		    % (what, srv.log_tail()))
	tail = '\n'.join('    ' + l for l in out.strip().splitlines()[-12:])
	if rc != 0:
		raise BenchError('%s: the client exited with status %d\n%s' %
		    (what, rc, tail))
	res = parse(out)
	if res['failed'] or res['non2xx']:
		raise BenchError('%s: %d failed and %d non-2xx requests\n%s' %
		    (what, res['failed'], res['non2xx'], tail))
	if pt['tool'] == 'ab' and not warmup and \
	    res['completed'] != pt['requests']:
		raise BenchError('%s: %d of %d requests completed' % (what,
		    res['completed'], pt['requests']))
	if res['completed'] == 0:
		raise BenchError('%s: no request completed' % what)
	return res


def median_rows(raw):
	groups = {}
	for r in raw:
		groups.setdefault(tuple(str(r[k]) for k in KEY_FIELDS), []).append(r)
	out = []
	for rows in groups.values():
		m = {k: rows[0][k] for k in KEY_FIELDS}
		m['repeats'] = len(rows)

		def med(k):
			v = [float(r[k]) for r in rows if r.get(k, '') != '']
			if not v:
				return ''
			x = round(statistics.median(v), 4)
			return int(x) if x == int(x) else x
		for k in ['time_taken_s', 'requests_per_s', 'completed', 'p50_ms',
		    'p99_ms', 'server_cpu_s', 'server_peak_rss_kb'] + COST_FIELDS:
			m[k] = med(k)
		t = [float(r['time_taken_s']) for r in rows]
		m['time_min_s'] = min(t)
		m['time_max_s'] = max(t)
		m['failed'] = sum(int(r['failed']) for r in rows)
		m['non2xx'] = sum(int(r['non2xx']) for r in rows)
		clocks = {r.get('thread_cpu_clock', '') for r in rows}
		m['thread_cpu_clock'] = 'ticks' if 'ticks' in clocks else \
		    clocks.pop() if len(clocks) == 1 else ''
		out.append(m)
	return out


def write_csv(path, fields, rows):
	tmp = path + '.tmp'
	with open(tmp, 'w', newline='') as f:
		w = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore')
		w.writeheader()
		for r in rows:
			w.writerow(r)
	os.replace(tmp, path)


def cpu_sets(pin):
	cpus = sorted(os.sched_getaffinity(0))
	if pin == 'auto':
		pin = 'yes' if len(cpus) >= 4 else 'no'
	if pin == 'no':
		return [], [], len(cpus), 'no'
	if len(cpus) < 2:
		raise BenchError('--pin yes needs at least 2 CPUs')
	half = len(cpus) // 2
	srv, cli = cpus[:half], cpus[half:]
	lst = lambda s: ['taskset', '-c', ','.join(map(str, s))]
	return lst(srv), lst(cli), len(srv), 'server=%s client=%s' % (
	    ','.join(map(str, srv)), ','.join(map(str, cli)))


def run_probe(name, path, prefix, timeout):
	"""Runs a helper program of the suite built next to the server (PATH,
	under PREFIX, e.g. a taskset) and returns its standard output; None,
	with a line in the log, when it is not built."""
	if not path or not os.access(path, os.X_OK):
		log('%s: %s not built, skipped' % (name, path or '(none)'))
		return None
	log('%s: running %s' % (name, path))
	try:
		p = subprocess.run(prefix + [path], capture_output=True, text=True,
		    timeout=timeout)
	except subprocess.TimeoutExpired:
		raise BenchError('%s ran past %d s' % (path, timeout))
	if p.returncode != 0:
		raise BenchError('%s exited with status %d:\n%s' % (path,
		    p.returncode, p.stderr[-2000:]))
	return p.stdout


def run_machcost(path, cpu_prefix, timeout=60):
	"""bench/machcost: what a system call and a thread hand-off cost on
	the server's CPUs, as {measure: [median, min, max]} in ns; {} when it
	is not built."""
	out = run_probe('machcost', path, cpu_prefix, timeout)
	costs = {}
	for row in csv.DictReader(io.StringIO(out or '')):
		costs[row['measure']] = [float(row['ns']), float(row['ns_min']),
		    float(row['ns_max'])]
	if costs:
		log('machcost: %s' % ', '.join('%s %.0f ns' % (k, v[0])
		    for k, v in costs.items()))
	return costs


def run_queue_bench(path, outdir, timeout):
	"""bench/queue_bench (the queue microbenchmark) prints CSV; keep it."""
	out = run_probe('queue_bench', path, [], timeout)
	if out is not None:
		with open(os.path.join(outdir, 'queue_bench.csv'), 'w') as f:
			f.write(out)


def main():
	ap = argparse.ArgumentParser(
	    description='Benchmark lfserver (four modes) against the original '
	    'study and nginx.  Writes raw.csv, median.csv, plots and '
	    'report.md under --out.',
	    epilog='Setup: ' + SETUP_LINE)
	ap.add_argument('--profile', choices=sorted(PROFILES), default='quick')
	ap.add_argument('--server', default=None,
	    help='the lfserver binary (default: src/lfserver next to bench/)')
	ap.add_argument('--out', default=None,
	    help='results directory (default: bench/results)')
	ap.add_argument('--repeats', type=int, default=0,
	    help='runs per point, the median is kept (default: the profile\'s: '
	    'quick 3; full 3 for the grids and 5 for the targets)')
	ap.add_argument('--target-repeats', type=int, default=0,
	    help='rounds of the target experiments (static, cpu, io, onecpu, '
	    'reactors), overriding --repeats for them')
	ap.add_argument('--experiments', default=','.join(DEFAULT_EXPERIMENTS),
	    help='comma list of %s (default: all but reactors, which needs a '
	    'server with the reactors setting, peers and accesslog, the '
	    'access log on vs off)' % ','.join(EXPERIMENTS))
	ap.add_argument('--modes', default=','.join(MODES))
	ap.add_argument('--workloads', default=','.join(WORKLOADS))
	ap.add_argument('--tools', default='wrk,ab',
	    help='clients to run, a comma list of wrk and ab (default both)')
	ap.add_argument('--no-nginx', action='store_true',
	    help='run no peer server (nginx, lighttpd)')
	ap.add_argument('--peers', default=','.join(PEERS),
	    help='peer servers of the static experiments, comma list of %s '
	    '(nginx is sendfile off, its default and its faster setting for a '
	    'small page; the report compares with the best of them)' %
	    ','.join(PEERS))
	ap.add_argument('--yardstick', default=None,
	    help='bench/yardstick binary: add the minimal epoll loop to the '
	    'static wrk runs as the bound of what the machine allows')
	ap.add_argument('--reactor-counts', default='1,2',
	    help='reactors of the "reactors" experiment (comma list)')
	ap.add_argument('--syscalls', action='store_true',
	    help='per point, one extra sampled run under strace -c for futex, '
	    'epoll_wait and system calls per request')
	ap.add_argument('--variant', action='append', default=[],
	    metavar='NAME:KEY=VALUE[,KEY=VALUE...]',
	    help='run every lfserver point once per variant, one after the '
	    'other (interleaved), with these [server] settings in its ini; '
	    'repeatable, e.g. --variant spin0:worker_spin_us=0 --variant auto: '
	    '(NAME: alone keeps the defaults); the variant is a column of the '
	    'CSVs')
	ap.add_argument('--server-setting', action='append', default=[],
	    metavar='KEY=VALUE',
	    help='a [server] setting for every lfserver run (repeatable)')
	ap.add_argument('--no-lfserver', action='store_true',
	    help='only nginx (to check the clients and the setup)')
	ap.add_argument('--pin', choices=['auto', 'yes', 'no'], default='auto',
	    help='taskset server and clients onto separate halves of the CPUs '
	    '(auto: when there are at least 4)')
	ap.add_argument('--queue-bench', default=None,
	    help='queue microbenchmark binary (default: bench/queue_bench '
	    'next to the server\'s build, if built)')
	ap.add_argument('--machcost', default=None,
	    help='the machine-cost probe (default: bench/machcost next to the '
	    'server\'s build, if built)')
	ap.add_argument('--run-timeout', type=int, default=600)
	ap.add_argument('--dry-run', action='store_true',
	    help='print the plan, the commands and an estimate; start nothing')
	ap.add_argument('--no-plots', action='store_true',
	    help='do not require gnuplot (a host without it: the report is '
	    'written without plots; redo them elsewhere with --report-only)')
	ap.add_argument('--report-only', action='store_true',
	    help='redo plots and report.md from an existing median.csv')
	ap.add_argument('--update-docs', metavar='SRCDIR', default=None,
	    help='copy plots to SRCDIR/docs/img and refresh the generated part '
	    'of SRCDIR/docs/BENCHMARKS.md')
	args = ap.parse_args()

	srcdir = os.path.dirname(HERE)
	args.out = os.path.abspath(args.out or os.path.join(HERE, 'results'))
	if args.server is None:
		args.server = os.path.join(srcdir, 'src', 'lfserver')
	args.server = os.path.abspath(args.server)
	# the helper programs, by default, next to the server's build
	build = os.path.dirname(os.path.dirname(args.server))
	if args.queue_bench is None:
		args.queue_bench = os.path.join(build, 'bench', 'queue_bench')
	if args.machcost is None:
		args.machcost = os.path.join(build, 'bench', 'machcost')
	args.reactor_counts = [int(x) for x in args.reactor_counts.split(',')
	    if x]
	if args.yardstick:
		args.yardstick = os.path.abspath(args.yardstick)
	for name, allowed in (('experiments', EXPERIMENTS), ('modes', MODES),
	    ('workloads', list(WORKLOADS)), ('peers', PEERS)):
		v = [x for x in getattr(args, name).split(',') if x]
		bad = [x for x in v if x not in allowed]
		if bad:
			ap.error('--%s: unknown %s (choose from %s)' % (name,
			    ','.join(bad), ','.join(allowed)))
		setattr(args, name, v)

	import report
	if args.report_only:
		report.make_report(args.out, args.update_docs)
		return 0

	prof = PROFILES[args.profile]
	server_prefix, client_prefix, ncpu, pinned = cpu_sets(args.pin)
	facts = machine_facts()
	variants = [parse_variant(v) for v in args.variant]
	if len({n for n, _ in variants}) != len(variants):
		raise BenchError('--variant: the names must differ')
	common = parse_settings(','.join(args.server_setting),
	    '--server-setting')
	plan = expand_variants(build_plan(args, prof, ncpu), variants, common)
	tools_wanted = {t for t in args.tools.split(',') if t}
	if tools_wanted - {'wrk', 'ab'}:
		raise BenchError('--tools: only wrk and ab, not %s' %
		    ','.join(sorted(tools_wanted - {'wrk', 'ab'})))
	plan = [p for p in plan if p['tool'] in tools_wanted]
	if not plan:
		raise BenchError('nothing to run with these options')
	tools = sorted({p['tool'] for p in plan} |
	    ({'nginx'} if any(p['server'].startswith('nginx') for p in plan)
	    else set()) |
	    ({'lighttpd'} if any(p['server'] == 'lighttpd' for p in plan)
	    else set()) | ({'strace'} if args.syscalls else set())
	    | (set() if args.no_plots else {'gnuplot'})
	    | ({'taskset'} if server_prefix else set()))
	check_tools(tools, args.dry_run)
	ests = [estimate(p, ncpu) for p in plan]
	total_est = sum(ests)

	if args.dry_run:
		log('dry run: %d points, profile %s, pinning %s, %d CPUs for the '
		    'server, estimated %s' % (len(plan), args.profile, pinned, ncpu,
		    fmt_secs(total_est)))
		for i, p in enumerate(plan, 1):
			if p['server'].startswith('nginx'):
				sargv = ['nginx', '-p', 'TMP/nginx-PORT', '-e',
				    'TMP/nginx-PORT/error.log', '-c',
				    'TMP/nginx-PORT/nginx.conf']
			elif p['server'] == 'lighttpd':
				sargv = ['lighttpd', '-D', '-f', 'TMP/lighttpd-PORT.conf']
			elif p['server'] == 'yardstick':
				sargv = [args.yardstick, 'PORT', 'TMP/docroot/index.html']
			else:
				sargv = Lfserver.argv_for(args.server, 'TMP/lfserver-PORT.ini',
				    p['mode'], 'PORT', p['workers'], p['queue_capacity'])
			print('%4d %6.1fs  %s\n      server: %s\n      client: %s x%d'
			    % (i, ests[i - 1], describe(p), ' '.join(server_prefix +
			    sargv), ' '.join(client_prefix + client_argv(p, 'PORT')),
			    p['repeats']))
		return 0

	if not args.no_lfserver and not os.access(args.server, os.X_OK):
		raise BenchError('lfserver binary %s not found or not executable '
		    '(build it first: make, or pass --server)' % args.server)
	for k, v in common + [kv for _, st in variants for kv in st]:
		if not args.no_lfserver and not server_knows(args.server,
		    '%s = %s' % (k, v)):
			raise BenchError('%s -t refuses "%s = %s"' % (args.server, k, v))

	os.makedirs(args.out, exist_ok=True)
	tmpdir = tempfile.mkdtemp(prefix='lfbench-')
	# nginx started as root serves as an unprivileged user: the page must
	# be readable by others, and mkdtemp makes its directory 0700
	os.chmod(tmpdir, 0o755)
	docroot = os.path.join(tmpdir, 'docroot')
	os.makedirs(docroot, mode=0o755)
	with open(os.path.join(docroot, 'index.html'), 'w') as f:
		f.write(PAGE)
	ctx = {'tmpdir': tmpdir, 'docroot': docroot, 'facts': facts,
	    'server_prefix': server_prefix, 'client_prefix': client_prefix,
	    'pinned': pinned, 'live': None}
	# before any server, on the server's CPUs, while the machine is quiet
	costs = run_machcost(args.machcost, server_prefix)
	with open(os.path.join(args.out, 'machine.json'), 'w') as f:
		json.dump(dict(facts, pinned=pinned, server_cpus=ncpu,
		    profile=args.profile, started=datetime.datetime.now().isoformat(
		    timespec='seconds'), command=' '.join(sys.argv),
		    ab=tool_version(['ab', '-V']),
		    wrk=tool_version(['wrk', '-v']),
		    nginx=tool_version(['nginx', '-v']),
		    lighttpd=tool_version(['lighttpd', '-v']),
		    lfserver=('' if args.no_lfserver else
		    tool_version([args.server, '-V'])),
		    loadavg_start=loadavg(), meltdown=meltdown_mitigation(),
		    machcost=costs), f, indent=1)

	raw = []
	rawpath = os.path.join(args.out, 'raw.csv')
	medpath = os.path.join(args.out, 'median.csv')
	log('lfbench: %d points, profile %s (%s), pinning %s, %d server CPUs, '
	    'estimated %s; results in %s; server logs in %s' % (len(plan),
	    args.profile, 'repeats ' + (str(args.repeats) if args.repeats else
	    '%d (grids) / %d (targets)' % (prof['repeats'],
	    prof['target_repeats'])), pinned, ncpu, fmt_secs(total_est),
	    args.out, tmpdir))
	t0 = time.monotonic()
	done_est = 0.0
	failed = None

	def on_signal(signum, frame):
		raise KeyboardInterrupt
	signal.signal(signal.SIGTERM, on_signal)
	try:
		for i, p in enumerate(plan, 1):
			raw += run_point(p, args, ctx, i, len(plan), t0, done_est,
			    total_est)
			done_est += ests[i - 1]
			write_csv(rawpath, RAW_FIELDS, raw)
	except BenchError as e:
		failed = str(e)
	except KeyboardInterrupt:
		failed = 'interrupted'
	finally:
		if ctx['live'] is not None:
			ctx['live'].stop()
	write_csv(rawpath, RAW_FIELDS, raw)
	write_csv(medpath, MEDIAN_FIELDS, median_rows(raw))
	for line in accesslog_summary(median_rows(raw)) + \
	    variant_summary(median_rows(raw)):
		log('lfbench: ' + line)
	if failed:
		log('lfbench: FAILED: %s' % failed)
		log('lfbench: %d runs kept in %s; server logs in %s' % (len(raw),
		    rawpath, tmpdir))
		return 1
	run_queue_bench(args.queue_bench, args.out, 300)
	mpath = os.path.join(args.out, 'machine.json')
	with open(mpath) as f:
		m = json.load(f)
	m['loadavg_end'] = loadavg()
	m['elapsed_s'] = round(time.monotonic() - t0)
	with open(mpath, 'w') as f:
		json.dump(m, f, indent=1)
	log('lfbench: %d runs in %s' % (len(raw), fmt_secs(time.monotonic() -
	    t0)))
	report.make_report(args.out, args.update_docs)
	shutil.rmtree(tmpdir, ignore_errors=True)
	return 0


if __name__ == '__main__':
	try:
		sys.exit(main())
	except BenchError as e:
		log('lfbench: error: %s' % e)
		sys.exit(1)

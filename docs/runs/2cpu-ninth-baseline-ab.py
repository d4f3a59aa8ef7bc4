#!/usr/bin/env python3
"""The ninth session's hand A/B: lfserver builds side by side, interleaved.

Not part of the suite: bench/lfbench.py drives one lfserver binary through
its admin listener and docroot, which the issue's baseline (5c7f4c9) does
not have.  This runs each build with built-in defaults (an ini holding only
'[server]', so the built-in page), capacity 64, on /cpu, /io and the page,
under wrk and ab as the suite's target experiments do, in a fresh random
order within every round, and appends one CSV line per run:

    round,workload,tool,build,mode,workers,req_per_s,server_cpu_us_per_req,failed

Server CPU is the process's utime+stime from /proc around the measured run.

    BUILDS='old=/tmp/old/src/lfserver,new=src/lfserver' \\
        python3 2cpu-ninth-baseline-ab.py OUT.csv ROUNDS

BUILDS entries are NAME=BINARY, optionally ^INI (another ini).  ONLY (e.g.
'io:ab') keeps some of the tests, MODES (e.g. 'lockfree,locked') some modes.
"""
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

TCK = os.sysconf('SC_CLK_TCK')

# (workload, tool, path, workers, modes, tool arguments)
TESTS = [
    ('cpu', 'wrk', '/cpu?n=10000', 2, ['lockfree', 'locked', 'sequential'],
     ['-t2', '-c64', '-d3s']),
    ('cpu', 'ab', '/cpu?n=10000', 2, ['lockfree', 'locked', 'sequential'],
     ['-n', '5000', '-c', '64']),
    ('io', 'wrk', '/io?ms=10', 64,
     ['lockfree', 'locked', 'thread-per-connection'], ['-t2', '-c64', '-d5s']),
    ('io', 'ab', '/io?ms=10', 64,
     ['lockfree', 'locked', 'thread-per-connection'], ['-n', '6400', '-c', '64']),
    ('static', 'ab', '/', 2, ['lockfree', 'locked', 'sequential'],
     ['-n', '10000', '-c', '100']),
    ('static', 'wrk', '/', 2, ['lockfree', 'locked', 'sequential'],
     ['-t2', '-c64', '-d4s']),
]


def builds(defini):
	out = {}
	for spec in os.environ['BUILDS'].split(','):
		name, _, rest = spec.partition('=')
		binary, _, ini = rest.partition('^')
		out[name] = (binary, ini or defini)
	return out


def cpu_s(pid):
	f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
	return (int(f[11]) + int(f[12])) / TCK


def run_one(binary, ini, mode, workers, path, tool, targs, port):
	argv = [binary, '-c', ini, '-m', mode, '-l', '127.0.0.1:%d' % port,
	    '-q', '64']
	if mode != 'sequential':
		argv += ['-w', str(workers)]
	p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
	    stderr=subprocess.DEVNULL)
	url = 'http://127.0.0.1:%d%s' % (port, path)
	try:
		for _ in range(100):
			try:
				urllib.request.urlopen(url, timeout=2).read()
				break
			except OSError:
				time.sleep(0.05)
		subprocess.run(['ab', '-q', '-n', '300', '-c', '16', url],
		    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
		c0 = cpu_s(p.pid)
		if tool == 'wrk':
			out = subprocess.run(['wrk'] + targs + [url],
			    capture_output=True, text=True).stdout
			rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
			n = int(re.search(r'(\d+) requests in', out).group(1))
			bad = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
			err = re.search(r'Socket errors: (.*)', out)
			failed = (bad.group(1) if bad else '0') + \
			    ('/' + err.group(1) if err else '')
		else:
			out = subprocess.run(['ab', '-q', '-s', '30'] + targs + [url],
			    capture_output=True, text=True).stdout
			rps = float(re.search(r'Requests per second:\s+([\d.]+)',
			    out).group(1))
			n = int(re.search(r'Complete requests:\s+(\d+)', out).group(1))
			failed = re.search(r'Failed requests:\s+(\d+)', out).group(1)
		c1 = cpu_s(p.pid)
	finally:
		p.terminate()
		p.wait()
	return rps, (c1 - c0) * 1e6 / max(n, 1), failed


def main():
	out, rounds = sys.argv[1], int(sys.argv[2])
	tmp = tempfile.mkdtemp()
	defini = os.path.join(tmp, 'defaults.ini')
	with open(defini, 'w') as f:
		f.write('[server]\n')
	b = builds(defini)
	only = os.environ.get('ONLY')
	tests = [t for t in TESTS if not only or
	    '%s:%s' % (t[0], t[1]) in only.split(',')]
	port = 18600
	with open(out, 'a') as f:
		for r in range(rounds):
			for (wl, tool, path, w, modes, targs) in tests:
				if os.environ.get('MODES'):
					modes = [m for m in modes
					    if m in os.environ['MODES'].split(',')]
				runs = [(name, m) for name in b for m in modes]
				random.shuffle(runs)
				for name, m in runs:
					port += 1
					rps, us, failed = run_one(b[name][0], b[name][1], m,
					    w, path, tool, targs, port)
					line = '%d,%s,%s,%s,%s,%d,%.1f,%.2f,%s' % (r, wl, tool,
					    name, m, w, rps, us, failed)
					print(line, flush=True)
					f.write(line + '\n')
					f.flush()


if __name__ == '__main__':
	main()

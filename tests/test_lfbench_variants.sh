#!/bin/sh
# test_lfbench_variants.sh - bench/lfbench.py's --variant and
# --server-setting: parsed strictly, every lfserver point run once per
# variant back to back (interleaved), peers once, and the settings written
# into the [server] section of the ini the server is started with.

srcdir=${srcdir:-.}

if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 not found"
	exit 77
fi

exec python3 - "$srcdir/bench" <<'PY'
import os, sys, tempfile
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import lfbench

n = 0
failed = 0
def ok(cond, what):
	global n, failed
	n += 1
	if not cond:
		failed += 1
	print('%sok %d - %s' % ('' if cond else 'not ', n, what))

def refused(f, *a):
	try:
		f(*a)
	except lfbench.BenchError:
		return True
	return False

ok(lfbench.parse_variant('spin0:worker_spin_us=0') ==
    ('spin0', [('worker_spin_us', '0')]), 'NAME:KEY=VALUE')
ok(lfbench.parse_variant('auto:') == ('auto', []), 'NAME: keeps the defaults')
ok(lfbench.parse_variant('x:worker_spin_us=5, queue_x = 2') ==
    ('x', [('worker_spin_us', '5'), ('queue_x', '2')]), 'two settings')
ok(refused(lfbench.parse_variant, 'worker_spin_us=0'), 'no NAME: refused')
ok(refused(lfbench.parse_variant, 'a b:worker_spin_us=0'), 'a bad NAME refused')
ok(refused(lfbench.parse_variant, 'a:worker_spin_us'), 'KEY without =VALUE refused')
ok(refused(lfbench.parse_variant, 'a:worker_spin_us=1\n[stats]'),
    'a value with a newline refused')
ok(refused(lfbench.parse_settings, 'workers=3', '--server-setting'),
    'a key lfbench sets itself refused')

plan = [lfbench.point('static', 'nginx', 'nginx', 2, '', 'static', 'wrk', 64,
    duration=1, threads=2),
    lfbench.lf_point('static', 'lockfree', 2, 8, 'static', 'wrk', 64,
    duration=1, threads=2),
    lfbench.lf_point('static', 'locked', 2, 8, 'static', 'wrk', 64,
    duration=1, threads=2)]
v = [lfbench.parse_variant('off:worker_spin_us=0'),
    lfbench.parse_variant('auto:')]
out = lfbench.expand_variants(plan, v, [('stats_x', '1')])
ok([(p['server'], p['mode'], p['variant']) for p in out] == [
    ('nginx', 'nginx', ''), ('lfserver', 'lockfree', 'off'),
    ('lfserver', 'lockfree', 'auto'), ('lfserver', 'locked', 'off'),
    ('lfserver', 'locked', 'auto')],
    'each lfserver point once per variant, back to back; the peer once')
ok(out[1]['settings'] == [('stats_x', '1'), ('worker_spin_us', '0')] and
    out[2]['settings'] == [('stats_x', '1')],
    '--server-setting first, then the variant\'s')
ok(lfbench.expand_variants(plan, [])[1]['variant'] == '' and
    len(lfbench.expand_variants(plan, [])) == 3, 'no --variant: the plan as is')

tmp = tempfile.mkdtemp()
srv = lfbench.Lfserver(tmp, [], '/bin/false', tmp, 'lockfree', 2, 8,
    settings=[('worker_spin_us', '0')])
argv = srv.command(4242)
ini = open(argv[argv.index('-c') + 1]).read()
server = ini.split('[server]\n', 1)[1].split('[stats]', 1)[0]
ok('worker_spin_us = 0\n' in server, 'the setting is in [server] of the ini')

med = [dict(r, variant=name, requests_per_s=rps, vcsw_req=cs)
    for name, rps, cs in (('off', '100', '1.2'), ('auto', '150', '0.3'))
    for r in [{k: '' for k in lfbench.KEY_FIELDS}]]
lines = lfbench.variant_summary(med)
ok(len(lines) == 1 and 'off 100 req/s 1.2 cs/req' in lines[0] and
    'auto 150 req/s 0.3 cs/req' in lines[0], 'the summary compares them: %r'
    % lines)
import shutil; shutil.rmtree(tmp, ignore_errors=True)
print("1..%d" % n)
sys.exit(1 if failed else 0)
PY

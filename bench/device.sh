#!/bin/sh
# device.sh - the study's scaling experiment on a lent 16-core machine, in one
# command (docs/BENCHMARKS.md, "The 16-core run").
#
#   bench/device.sh BUNDLE OUT
#
# BUNDLE is a folder of prebuilt binaries (lfserver, wrk, ab, nginx,
# queue_bench) under BUNDLE/bin with their non-glibc libraries under
# BUNDLE/lib, as made on the build machine by
#   /work/shared/tools/bundle-for-device BUNDLE src/lfserver wrk ab nginx \
#       bench/queue_bench
# The machine needs python3 and taskset and nothing from a package registry.
# The server is pinned to cores 0-7 and the clients to 8-15 (lfbench.py
# --pin yes splits the CPUs in halves). Within about 8 minutes it runs:
#   - worker scaling 1, 2, 4, 8, 16, 32, 64 for lockfree, locked,
#     thread-per-connection and sequential, static page and /cpu, with wrk
#     (keep-alive) and ab (a connection per request);
#   - the static page against nginx (sendfile off and on) with 1, 2, 4, 8
#     workers, and every mode with 8 workers beside them;
#   - reactors 1, 2, 4 (when the server has the setting);
#   - queue_bench with 1 to 16 producers and consumers.
# OUT receives raw.csv, median.csv, queue_bench.csv, machine.json and the
# report (report.md, img/) that bench/report.py draws from them, the same
# tables and plots as the 2-CPU run.
set -u
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: device.sh BUNDLE OUT" >&2; exit 2; }
bundle=$(CDPATH= cd -- "$1" && pwd) || exit 1
out=$2
mkdir -p "$out" || exit 1
out=$(CDPATH= cd -- "$out" && pwd)

bin=$bundle/bin
for t in lfserver wrk ab nginx queue_bench; do
	[ -x "$bin/$t" ] || { echo "device.sh: $bin/$t missing" >&2; exit 1; }
done
for t in python3 taskset; do
	command -v $t >/dev/null 2>&1 || { echo "device.sh: $t not found" >&2; exit 1; }
done
ncpu=$(nproc)
[ "$ncpu" -ge 16 ] || echo "device.sh: warning: $ncpu CPUs, not 16: the halves are smaller" >&2

export PATH="$bin:$PATH"
export LD_LIBRARY_PATH="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# nginx's compiled-in temporary paths must exist even though the generated
# configuration points its own temporary files into its prefix
mkdir -p /var/lib/nginx 2>/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n 16384 2>/dev/null
# ab opens a connection per request: hundreds of thousands in a few
# minutes would run the loopback out of ephemeral ports while they sit in
# TIME_WAIT. Best effort; what was in effect is recorded below.
sysctl -qw net.ipv4.tcp_tw_reuse=1 2>/dev/null
sysctl -qw net.ipv4.ip_local_port_range="1024 65535" 2>/dev/null
sysctl -qw net.core.somaxconn=4096 2>/dev/null
{
	echo "uname: $(uname -srm)"
	echo "cpus: $ncpu"
	grep -m1 'model name' /proc/cpuinfo
	for k in net.ipv4.tcp_tw_reuse net.ipv4.ip_local_port_range net.core.somaxconn; do
		echo "$k: $(sysctl -n $k 2>/dev/null)"
	done
	echo "nofile: $(ulimit -n)"
} > "$out/host.txt" 2>&1

t0=$(date +%s)
# lighttpd is not in the bundle: nginx is the peer there, in both settings
python3 "$here/lfbench.py" --profile device --pin yes --no-plots \
    --server "$bin/lfserver" --queue-bench /nonexistent \
    --experiments workers,peers,static,reactors,requests \
    --workloads static,cpu \
    --peers nginx,nginx-sendfile --reactor-counts 1,2,4 \
    --out "$out" --run-timeout 120
rc=$?
# 1 to 16 producers and consumers, lock-free and locked, three capacities
{
	"$bin/queue_bench" --items 200000 --runs 3 --producers 1 --consumers 1 --capacity 64
	for n in 2 4 8 16; do
		for cap in 8 64 1024; do
			"$bin/queue_bench" --items 200000 --runs 3 \
			    --producers $n --consumers $n --capacity $cap | tail -n +2
		done
	done
} > "$out/queue_bench.csv" 2> "$out/queue_bench.err"
python3 "$here/report.py" "$out"
echo "device.sh: done in $(( $(date +%s) - t0 )) s, lfbench status $rc; results in $out"
exit $rc

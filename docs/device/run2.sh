#!/bin/sh
# the second 16-core run: peers at wrk -t8 -c256, claim 3, spin off vs auto
set -u
b=$(pwd)/device/bundle; o=$1; mkdir -p "$o"
export PATH="$b/bin:$PATH" LD_LIBRARY_PATH="$b/lib" PYTHONUNBUFFERED=1
mkdir -p /var/lib/nginx; ulimit -n 65536 2>/dev/null
sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=4096 2>/dev/null
t0=$(date +%s)
python3 bench/lfbench.py --profile device --pin yes --no-plots \
  --server "$b/bin/lfserver" --queue-bench /nonexistent \
  --experiments static,requests --workloads static,cpu \
  --peers nginx,nginx-sendfile --out "$o/main" --run-timeout 60
echo "main done $(( $(date +%s) - t0 )) s"
python3 bench/lfbench.py --profile device --pin yes --no-plots \
  --server "$b/bin/lfserver" --queue-bench /nonexistent \
  --experiments workers --workloads static --modes lockfree,locked \
  --tools wrk --no-nginx --variant off:worker_spin_us=0 --variant auto: \
  --out "$o/spin" --run-timeout 60
echo "spin done $(( $(date +%s) - t0 )) s"
for s in "--spin-us 0 --spinners 0" "--spin-us 50 --spinners 2"; do
  queue_bench --items 200000 --runs 3 --producers 8 --consumers 8 --capacity 64 $s
done > "$o/queue_spin.csv" 2>&1
echo "all done $(( $(date +%s) - t0 )) s"

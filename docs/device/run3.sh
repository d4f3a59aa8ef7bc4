#!/bin/sh
# reactor poll A/B: run 2's binary (r2) against the reactor poll (new), 8 server cores
set -u
b=$(pwd)/device/bundle; o=$1; mkdir -p "$o"
export PATH="$b/bin:$PATH" LD_LIBRARY_PATH="$b/lib" PYTHONUNBUFFERED=1
mkdir -p /var/lib/nginx; ulimit -n 65536 2>/dev/null
sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=4096 2>/dev/null
t0=$(date +%s)
for i in 1 2 3; do
  for v in r2 new; do
    s=$b/bin/lfserver; [ $v = r2 ] && s=$b/bin/lfserver.r2
    pe=--no-nginx; [ $v = r2 ] && pe="--peers nginx"
    python3 bench/lfbench.py --profile device --pin yes --no-plots \
      --server "$s" --queue-bench /nonexistent --experiments static \
      --workloads static --modes lockfree,locked --tools wrk $pe \
      --target-repeats 1 --out "$o/$v-$i" --run-timeout 30 > "$o/$v-$i.log" 2>&1
    python3 -c "
import csv,sys
for r in csv.DictReader(open('$o/$v-$i/raw.csv')):
    print('$v',$i,r['mode'],r['workers'],round(float(r['requests_per_s'])),r['server_cpu_s'],r['us_req_reactor'],r['us_req_worker'],r['vcsw_req'])
" >> "$o/summary.txt" 2>&1
  done
done
echo "done $(( $(date +%s) - t0 )) s"
cat "$o/summary.txt"

#!/bin/bash
# kaclient.bash N DIR - N keep-alive HTTP/1.1 connections to 127.0.0.1:7878
# held by one bash process (bash's /dev/tcp: the container has no python).
# Sends one request on each, writes DIR/ready, waits for DIR/go, sends the
# next request on each same connection (same fd, so the same TCP
# connection) and writes "OK/N" to DIR/result. Status 0 when all answered.

n=$1
dir=$2

# req FD PATH: one request on FD, its 200 response read whole (5 s at most).
# The request leaves in one write(): bash flushes its printf at each newline,
# and three small segments would meet Nagle and delayed ACKs (40 ms each).
req() {
	local fd=$1 line len=0 body
	printf 'GET %s HTTP/1.1\r\nHost: ci\r\n\r\n' "$2" |
	    dd bs=4096 iflag=fullblock status=none >&"$fd" 2>/dev/null || return 1
	IFS= read -r -t 5 -u "$fd" line || return 1
	case $line in "HTTP/1.1 200"*) ;; *) return 1 ;; esac
	while IFS= read -r -t 5 -u "$fd" line; do
		line=${line%$'\r'}
		[ -z "$line" ] && break
		case ${line,,} in content-length:*) len=${line#*: } ;; esac
	done
	[ "$len" -gt 0 ] || return 1
	IFS= read -r -t 5 -u "$fd" -N "$len" body || return 1
	case $body in "primes<="*) return 0 ;; esac
	return 1
}

fds=()
good=0
for ((i = 0; i < n; i++)); do
	exec {fd}<>/dev/tcp/127.0.0.1/7878 || break
	fds+=("$fd")
	req "$fd" "/cpu?n=100" && good=$((good + 1))
done
echo "$good/$n" > "$dir/ready"
while [ ! -e "$dir/go" ]; do
	sleep 0.1
done
good=0
for fd in "${fds[@]}"; do
	req "$fd" "/cpu?n=1000" && good=$((good + 1))
done
echo "$good/$n" > "$dir/result"
[ "$good" -eq "$n" ]

#!/bin/sh
# ci-test.sh - drives lfserver through systemd inside the test container.
#
# Runs as ci-test.service under the container's own systemd, against the
# units and binary that "make install" put into the container. Each step
# prints "ci: ..." (on the console and in the journal); the first failure
# ends the script with status 1, which powers the container off with 3.

set -u

URL=http://127.0.0.1:7878
INI=/etc/lfserver.ini

step() { echo "ci: $*"; }
fail() { echo "ci: FAIL: $*"; exit 1; }

# poll SECONDS CMD...: runs CMD every 0.2 s until it succeeds or time is up.
poll() {
	_n=$(($1 * 5)); shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		_n=$((_n - 1))
	done
	return 1
}

prop() { systemctl show -p "$2" --value "$1"; }

# json_has FIELD VALUE: stdin holds JSON with "FIELD":"VALUE" or "FIELD":VALUE.
json_has() { grep -Eq "\"$1\" *: *\"?$2\"?([,}]| )"; }

journal_has() {	# journal_has EVENT FIELD VALUE
	journalctl -q -u lfserver.service "LF_EVENT=$1" -o json |
	    json_has "$2" "$3"
}

stats_has() {	# stats_has FIELD VALUE: /stats answers with FIELD = VALUE
	curl -sf --max-time 5 "$URL/stats" | json_has "$1" "$2"
}

status_has() { prop lfserver.service StatusText | grep -q -- "$1"; }

# The environment first: a socket unit that has nothing to do with lfserver
# must answer on loopback, or this container cannot run the test at all (a
# nested container without working socket activation or loopback): exit 77,
# a skip with the reason, not a failure of lfserver.
step "probe: a trivial socket-activated echo on 127.0.0.1:7870"
mkdir -p /run/systemd/system
printf '[Socket]\nListenStream=127.0.0.1:7870\nAccept=yes\n' \
    > /run/systemd/system/ci-probe.socket
printf '[Service]\nExecStart=/bin/echo probe\nStandardOutput=socket\n' \
    > /run/systemd/system/ci-probe@.service
systemctl daemon-reload
if ! systemctl start ci-probe.socket ||
    ! timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/7870 && read -r l <&3 &&
    [ "$l" = probe ]'; then
	echo "ci: SKIP: socket activation on loopback does not work in this container"
	exit 77
fi
systemctl stop ci-probe.socket

step "systemctl start lfserver.socket"
systemctl start lfserver.socket || fail "lfserver.socket did not start"
[ "$(systemctl is-active lfserver.socket)" = active ] ||
    fail "lfserver.socket is not active"
[ "$(systemctl is-active lfserver.service)" != active ] ||
    fail "lfserver.service runs before any connection"

step "curl $URL/ starts lfserver.service"
curl -sf --max-time 10 -o /tmp/index "$URL/" || fail "GET / failed"
[ -s /tmp/index ] || fail "GET / returned an empty body"
[ "$(systemctl is-active lfserver.service)" = active ] ||
    fail "lfserver.service is $(systemctl is-active lfserver.service)"
pid=$(prop lfserver.service MainPID)
step "running as MainPID $pid"

step "StatusText has mode="
poll 5 status_has "mode=lockfree" ||
    fail "StatusText is '$(prop lfserver.service StatusText)'"
step "StatusText: $(prop lfserver.service StatusText)"

step "GET /cpu?n=10000 counts 1229 primes"
body=$(curl -sf --max-time 10 "$URL/cpu?n=10000") || fail "GET /cpu failed"
[ "$body" = "primes<=10000: 1229" ] || fail "GET /cpu answered '$body'"

step "/stats says lockfree, 2 workers"
stats_has mode lockfree || fail "/stats: $(curl -s "$URL/stats")"
stats_has workers 2 || fail "/stats: $(curl -s "$URL/stats")"

step "journal: LF_EVENT=start with LF_MODE=lockfree"
poll 5 journal_has start LF_MODE lockfree ||
    fail "no start event with LF_MODE=lockfree"

step "edit $INI to mode = locked, workers = 3; systemctl reload lfserver"
sed -i -e 's/^mode *=.*/mode = locked/' -e 's/^workers *=.*/workers = 3/' "$INI"
systemctl reload lfserver.service || fail "systemctl reload failed"

step "journal: LF_EVENT=reload with LF_MODE=locked (polling 15 s)"
poll 15 journal_has reload LF_MODE locked ||
    fail "no reload event with LF_MODE=locked"
journal_has reload LF_OLD_MODE lockfree || fail "reload event lacks LF_OLD_MODE=lockfree"
journal_has reload LF_WORKERS 3 || fail "reload event lacks LF_WORKERS=3"

step "/stats says locked, 3 workers, 1 reload"
poll 5 stats_has mode locked || fail "/stats: $(curl -s "$URL/stats")"
stats_has workers 3 || fail "/stats: $(curl -s "$URL/stats")"
stats_has reloads 1 || fail "/stats: $(curl -s "$URL/stats")"
[ "$(prop lfserver.service MainPID)" = "$pid" ] ||
    fail "reload replaced the process ($pid -> $(prop lfserver.service MainPID))"
poll 5 status_has "mode=locked" ||
    fail "StatusText is '$(prop lfserver.service StatusText)'"

step "journal: LF_EVENT=stats with LF_REQUESTS ([stats] interval = 1)"
poll 10 sh -c 'journalctl -q -u lfserver.service LF_EVENT=stats -o json |
    grep -q "\"LF_REQUESTS\" *: *\"[0-9]"' || fail "no stats event with LF_REQUESTS"

# The other two engines, under the same sandbox (seccomp, no capabilities).
for m in thread-per-connection sequential; do
	step "reload to mode = $m"
	sed -i "s/^mode *=.*/mode = $m/" "$INI"
	systemctl reload lfserver.service || fail "systemctl reload failed"
	poll 15 journal_has reload LF_MODE "$m" ||
	    fail "no reload event with LF_MODE=$m"
	poll 5 stats_has mode "$m" || fail "/stats: $(curl -s "$URL/stats")"
	body=$(curl -sf --max-time 10 "$URL/cpu?n=100") || fail "GET /cpu failed in $m"
	[ "$body" = "primes<=100: 25" ] || fail "GET /cpu?n=100 answered '$body' in $m"
	[ "$(systemctl is-active lfserver.service)" = active ] ||
	    fail "lfserver.service is $(systemctl is-active lfserver.service)"
done
stats_has workers 1 || fail "sequential with workers != 1: $(curl -s "$URL/stats")"
[ "$(prop lfserver.service MainPID)" = "$pid" ] ||
    fail "a reload replaced the process ($pid -> $(prop lfserver.service MainPID))"

step "a bad $INI: systemctl reload fails, the sequential engine keeps serving"
cp "$INI" /tmp/good.ini
sed -i 's/^mode *=.*/mode = bogus/' "$INI"
badline=$(grep -n '^mode = bogus' "$INI" | cut -d: -f1)
if systemctl reload lfserver.service; then
	fail "systemctl reload succeeded with a bad file"
fi
poll 15 sh -c 'journalctl -q -u lfserver.service LF_EVENT=reload_failed -o json |
    grep -q "\"LF_ERROR\" *: *\"[^\"]*lfserver.ini:[0-9]"' ||
    fail "no reload_failed event with LF_ERROR naming lfserver.ini:LINE"
journalctl -q -u lfserver.service -p err | grep -q "lfserver.ini:$badline:" ||
    fail "journalctl -p err lacks lfserver.ini:$badline: $(journalctl -q -u lfserver.service -p err | tail -3)"
step "journalctl -p err: $(journalctl -q -u lfserver.service -p err -o cat | tail -1)"
[ "$(systemctl is-active lfserver.service)" = active ] ||
    fail "lfserver.service is $(systemctl is-active lfserver.service) after a bad reload"
[ "$(prop lfserver.service ReloadResult)" != success ] ||
    fail "ReloadResult=success after a refused reload"
stats_has mode sequential || fail "/stats after a bad reload: $(curl -s "$URL/stats")"
status_has "reload failed" || fail "StatusText is '$(prop lfserver.service StatusText)'"
step "StatusText: $(prop lfserver.service StatusText)"
systemctl status lfserver.service --no-pager -n 20 > /tmp/status.txt 2>&1
grep -q "lfserver.ini:$badline:" /tmp/status.txt ||
    fail "systemctl status does not show lfserver.ini:$badline: $(cat /tmp/status.txt)"

step "the file fixed: systemctl reload succeeds, StatusText is clear again"
cp /tmp/good.ini "$INI"
systemctl reload lfserver.service || fail "systemctl reload of a good file failed"
status_has "reload failed" && fail "StatusText still says: $(prop lfserver.service StatusText)"
[ "$(prop lfserver.service MainPID)" = "$pid" ] ||
    fail "a reload replaced the process ($pid -> $(prop lfserver.service MainPID))"

step "watchdog (WatchdogSec=2 here): no restart, same process"
sleep 3
[ "$(prop lfserver.service NRestarts)" = 0 ] ||
    fail "NRestarts=$(prop lfserver.service NRestarts)"
[ "$(prop lfserver.service MainPID)" = "$pid" ] ||
    fail "the process was replaced ($pid -> $(prop lfserver.service MainPID))"

# ---- admin socket and /metrics (lfserver-admin.socket, pulled in by Sockets=)
ADMIN=http://127.0.0.1:7879
metrics_has() { curl -sf --max-time 5 "$ADMIN/metrics" | grep -q -- "$1"; }
step "lfserver-admin.socket is active and passed as \"admin\": /metrics answers"
[ "$(systemctl is-active lfserver-admin.socket)" = active ] ||
    fail "lfserver-admin.socket is $(systemctl is-active lfserver-admin.socket)"
metrics_has '^lfserver_build_info{.*mode="sequential"' ||
    fail "/metrics on $ADMIN: $(curl -s "$ADMIN/metrics" | head -5)"
metrics_has '^lfserver_requests_total{route="/cpu",code="2xx"} [1-9]' ||
    fail "/metrics lacks requests to /cpu"
# locked, thread-per-connection, sequential, and the fixed file after the bad one
metrics_has '^lfserver_reloads_total{result="success"} 4$' ||
    fail "/metrics: $(curl -s "$ADMIN/metrics" | grep reloads_total)"
metrics_has '^lfserver_reloads_total{result="failure"} 1$' ||
    fail "/metrics: $(curl -s "$ADMIN/metrics" | grep reloads_total)"
metrics_has '^process_start_time_seconds 1[0-9]\{9\}' ||
    fail "/metrics: $(curl -s "$ADMIN/metrics" | grep process_start)"
curl -sf --max-time 5 "$ADMIN/stats" | json_has mode sequential ||
    fail "admin /stats: $(curl -s "$ADMIN/stats")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ADMIN/")
[ "$code" = 404 ] || fail "the admin socket answers / with $code, not 404"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/metrics")
[ "$code" = 404 ] || fail "the public port answers /metrics with $code, not 404"

# ---- the access log under the sandbox, and its rotation (SIGUSR2)
LOG=/var/log/lfserver/access.log
step "access_log = $LOG with LogsDirectory=lfserver; restart"
mkdir -p /run/systemd/system/lfserver.service.d
printf '[Service]\nLogsDirectory=lfserver\n' \
    > /run/systemd/system/lfserver.service.d/ci-logs.conf
sed -i -e 's/^mode *=.*/mode = lockfree/' \
    -e "s|^\[server\]\$|[server]\naccess_log = $LOG|" "$INI"
systemctl daemon-reload
systemctl restart lfserver.service || fail "restart with the access log failed"
curl -sf --max-time 5 -o /dev/null -A ci-agent "$URL/cpu?n=3&ci=one" ||
    fail "GET /cpu failed with the access log on"
poll 5 grep -q '"GET /cpu?n=3&ci=one HTTP/1.1" 200 .* "ci-agent"' "$LOG" ||
    fail "no line in $LOG: $(tail -3 "$LOG" 2>&1)"
step "rename $LOG, SIGUSR2: the next lines go to a new $LOG"
mv "$LOG" "$LOG.1"
systemctl kill --kill-who=main --signal=SIGUSR2 lfserver.service ||
    fail "systemctl kill -s USR2 failed"
poll 5 test -e "$LOG" || fail "SIGUSR2 made no new $LOG"
curl -sf --max-time 5 -o /dev/null "$URL/cpu?n=3&ci=two" || fail "GET /cpu failed"
poll 5 grep -q 'ci=two' "$LOG" || fail "the new $LOG lacks the new line"
grep -q 'ci=two' "$LOG.1" && fail "the new line went to the renamed file"

step "200 keep-alive connections, systemctl restart: each answered on its connection"
rm -rf /tmp/ka && mkdir /tmp/ka
timeout 60 bash /usr/local/libexec/kaclient.bash 200 /tmp/ka > /tmp/ka/log 2>&1 &
ka=$!
poll 30 test -s /tmp/ka/ready || fail "the client did not get ready: $(cat /tmp/ka/log)"
[ "$(cat /tmp/ka/ready)" = 200/200 ] || fail "before the restart: $(cat /tmp/ka/ready)"
pid=$(prop lfserver.service MainPID)
systemctl restart lfserver.service || fail "systemctl restart failed"
npid=$(prop lfserver.service MainPID)
[ "$npid" != "$pid" ] || fail "the restart kept the process $pid"
journalctl -q -u lfserver.service -o cat | grep -q "stop: 200 idle connections kept in systemd's fd store" ||
    fail "no 'stop: 200 idle connections kept': $(journalctl -q -u lfserver.service -o cat | grep 'stop:' | tail -2)"
journalctl -q -u lfserver.service -o cat | grep -q "adopted 200 connections" ||
    fail "no 'adopted 200 connections'"
touch /tmp/ka/go
wait $ka || fail "after the restart: $(cat /tmp/ka/result 2>/dev/null) answered; $(cat /tmp/ka/log)"
step "after the restart (MainPID $pid -> $npid): $(cat /tmp/ka/result) answered on their first connection"
pid=$npid

step "a bad $INI and systemctl restart: exit 78, no restart loop, the socket listens"
sed -i 's/^mode *=.*/mode = bogus/' "$INI"
badline=$(grep -n '^mode = bogus' "$INI" | cut -d: -f1)
systemctl restart lfserver.service && fail "systemctl restart succeeded with a bad file"
[ "$(prop lfserver.service ExecMainStatus)" = 78 ] ||
    fail "ExecMainStatus=$(prop lfserver.service ExecMainStatus), not 78"
sleep 2
[ "$(prop lfserver.service NRestarts)" = 0 ] ||
    fail "Restart= looped: NRestarts=$(prop lfserver.service NRestarts)"
[ "$(systemctl is-active lfserver.socket)" = active ] ||
    fail "lfserver.socket is $(systemctl is-active lfserver.socket): $(prop lfserver.socket Result)"
journalctl -q -u lfserver.service -p err | grep -q "lfserver.ini:$badline:" ||
    fail "journalctl -p err lacks lfserver.ini:$badline"
systemctl status lfserver.service --no-pager -n 20 > /tmp/status.txt 2>&1
grep -q "lfserver.ini:$badline:" /tmp/status.txt && grep -q "status=78" /tmp/status.txt ||
    fail "systemctl status lacks the error or status=78: $(cat /tmp/status.txt)"

step "a client meanwhile waits (lfserver holds, nothing loops); fixed + reload: answered"
curl -s --max-time 40 -o /tmp/held.body "$URL/cpu?n=100" &
held=$!
poll 10 status_has "configuration error" ||
    fail "StatusText is '$(prop lfserver.service StatusText)'"
sleep 3
kill -0 $held 2>/dev/null || fail "the waiting client ended: $(cat /tmp/held.body)"
[ "$(systemctl is-active lfserver.socket)" = active ] ||
    fail "lfserver.socket is $(systemctl is-active lfserver.socket)"
starts=$(journalctl -q -u lfserver.service -o cat | grep -c "clients are waiting")
[ "$starts" = 1 ] || fail "$starts starts held for a valid file, not 1"
cp /tmp/good.ini "$INI"
systemctl reload lfserver.service || fail "systemctl reload with the fixed file failed"
wait $held || fail "the waiting client got no answer"
[ "$(cat /tmp/held.body)" = "primes<=100: 25" ] || fail "it got '$(cat /tmp/held.body)'"

step "bad file again, exit 78, then fixed: systemctl start serves at once"
sed -i 's/^mode *=.*/mode = bogus/' "$INI"
systemctl restart lfserver.service && fail "systemctl restart succeeded with a bad file"
cp /tmp/good.ini "$INI"
systemctl start lfserver.service || fail "systemctl start with the fixed file failed"
body=$(curl -sf --max-time 10 "$URL/cpu?n=100") || fail "GET /cpu failed"
[ "$body" = "primes<=100: 25" ] || fail "GET /cpu?n=100 answered '$body'"
[ "$(prop lfserver.socket Result)" = success ] ||
    fail "lfserver.socket Result=$(prop lfserver.socket Result)"

step "six restarts with a bad file in a row: lfserver.socket still listens"
sed -i 's/^mode *=.*/mode = bogus/' "$INI"
for i in 1 2 3 4 5 6; do
	systemctl restart lfserver.service 2>/dev/null &&
	    fail "systemctl restart $i succeeded with a bad file"
done
[ "$(systemctl is-active lfserver.socket)" = active ] ||
    fail "lfserver.socket is $(systemctl is-active lfserver.socket): $(prop lfserver.socket Result)"
cp /tmp/good.ini "$INI"
body=$(curl -sf --max-time 10 "$URL/cpu?n=100") || fail "GET /cpu failed after the fix"
[ "$body" = "primes<=100: 25" ] || fail "GET /cpu?n=100 answered '$body'"

step "systemctl stop lfserver"
systemctl stop lfserver.service || fail "systemctl stop failed"
result=$(prop lfserver.service Result)
status=$(prop lfserver.service ExecMainStatus)
step "Result=$result ExecMainStatus=$status"
[ "$result" = success ] || fail "Result=$result"
[ "$status" = 0 ] || fail "ExecMainStatus=$status"
poll 5 sh -c 'journalctl -q -u lfserver.service LF_EVENT=stop -o json | grep -q .' ||
    fail "no stop event in the journal"

step "PASS"

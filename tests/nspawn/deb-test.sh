#!/bin/bash
# deb-test.sh - installs, edits, upgrades, removes and purges the lfserver
# package inside the test container (run by deb-test.service; see
# tests/test_deb.sh), then does the same with make install and make
# uninstall. /root/debs/env names the two packages and the build directory.
# Each step prints "deb: ..."; the first failure ends the script with
# status 1.
#
# The container has no network: apt installs the local files, whose
# dependencies (libinih1, libconfig9, libsystemd0) are in the rootfs.
# Keep-alive connections are bash /dev/tcp descriptors, so that the same
# TCP connection can be used before and after the upgrade.

set -u
. /root/debs/env

URL=http://127.0.0.1:7878
ADMIN=http://127.0.0.1:7879
INI=/etc/lfserver.ini
NCONN=20
APT="apt-get -q -y -o Dpkg::Use-Pty=0"
export DEBIAN_FRONTEND=noninteractive

step() { echo "deb: $*"; }
fail() { echo "deb: FAIL: $*"; exit 1; }
prop() { systemctl show -p "$2" --value "$1"; }
active() { [ "$(systemctl is-active "$1")" = active ]; }

# poll SECONDS CMD...: runs CMD every 0.2 s until it succeeds or time is up.
poll() {
	local n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# ka_get FD: one GET /cpu?n=100 on the open connection FD; succeeds when
# the answer is a 200 with the expected body (so the connection is usable).
ka_get() {
	local fd=$1 line len=0 body
	printf 'GET /cpu?n=100 HTTP/1.1\r\nHost: deb-test\r\n\r\n' >&"$fd" ||
	    return 1
	IFS= read -r -t 10 line <&"$fd" || return 1
	case $line in "HTTP/1.1 200 "*) ;; *) return 1 ;; esac
	while IFS= read -r -t 10 line <&"$fd"; do
		line=${line%$'\r'}
		[ -z "$line" ] && break
		case ${line,,} in
		content-length:*) len=${line#*:}; len=${len//[!0-9]/} ;;
		esac
	done
	[ "$len" -gt 0 ] || return 1
	IFS= read -r -t 10 -N "$len" body <&"$fd" || return 1
	[ "${body%$'\n'}" = "primes<=100: 25" ]
}

# units_gone: systemd has no lfserver unit loaded. Asking about a unit
# (systemctl is-active, as this script does) loads it as not-found until
# systemd's next garbage collection, so callers poll.
units_gone() {
	[ -z "$(systemctl list-units --all --plain --no-legend 'lfserver*')" ]
}

# lfserver_files: every file or link of the package and of its systemd
# state (units, enablement links, deb-systemd-helper's records) still there.
lfserver_files() {
	find /etc /lib/systemd /usr/lib/systemd /run/systemd/system \
	    /var/lib/systemd/deb-systemd-helper-enabled \
	    /var/lib/systemd/deb-systemd-helper-masked /usr/sbin \
	    /usr/share/man /usr/share/doc -name '*lfserver*' 2>/dev/null
}

step "apt-get install $DEB1"
$APT install "$DEB1" || fail "apt-get install $DEB1"
step "installed $(dpkg-query -W -f='${Version}' lfserver)"

step "lfserver.socket and lfserver-admin.socket enabled and listening, lfserver.service neither"
for u in lfserver.socket lfserver-admin.socket; do
	[ "$(systemctl is-enabled $u)" = enabled ] ||
	    fail "$u is $(systemctl is-enabled $u)"
	active $u || fail "$u is not active"
done
[ "$(systemctl is-enabled lfserver.service)" != enabled ] ||
    fail "the package enabled lfserver.service (the socket starts it)"
active lfserver.service && fail "lfserver.service runs before any connection"

step "conffiles: $INI, /etc/lfserver/routes.conf, /etc/logrotate.d/lfserver"
conffiles=$(dpkg-query -W -f='${Conffiles}' lfserver)
for f in $INI /etc/lfserver/routes.conf /etc/logrotate.d/lfserver; do
	echo "$conffiles" | grep -q "^ $f " || fail "$f is not a conffile"
done

step "every Exec*= program comes from lfserver, its Depends or an essential package"
depends=$(dpkg-query -W -f='${Depends}' lfserver)
for prog in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' \
    /lib/systemd/system/lfserver.service); do
	owner=$(dpkg -S "$prog" 2>/dev/null | sed -n '1s/:.*//p')
	[ -n "$owner" ] || fail "$prog (lfserver.service) belongs to no package"
	[ "$owner" = lfserver ] ||
	    [ "$(dpkg-query -W -f='${Essential}' "$owner")" = yes ] ||
	    echo ", $depends," | grep -Eq ", *$owner( \(|,)" ||
	    fail "$prog (lfserver.service) is in $owner, which lfserver does not depend on"
done

step "curl $URL/cpu starts lfserver.service"
body=$(curl -sf --max-time 10 "$URL/cpu") || fail "GET /cpu failed"
[ "$body" = "primes<=10000: 1229" ] || fail "GET /cpu answered '$body'"
active lfserver.service || fail "lfserver.service is not active"

step "edit $INI (mode = locked, keepalive_timeout = 300); systemctl reload"
sed -i -e 's/^;mode = .*/mode = locked/' \
    -e 's/^;keepalive_timeout = .*/keepalive_timeout = 300/' "$INI"
grep -q '^mode = locked$' "$INI" && grep -q '^keepalive_timeout = 300$' "$INI" ||
    fail "the edit did not apply to $INI"
systemctl reload lfserver.service || fail "systemctl reload failed"
poll 15 sh -c "curl -sf --max-time 5 $ADMIN/stats | grep -Eq '\"mode\" *: *\"locked\"'" ||
    fail "/stats after the reload: $(curl -s "$ADMIN/stats")"

step "the admin listener answers /metrics"
curl -sf --max-time 5 "$ADMIN/metrics" | grep -q '^lfserver_build_info' ||
    fail "no lfserver_build_info in $ADMIN/metrics"

step "$NCONN keep-alive connections, one request each"
fds=()
for ((i = 0; i < NCONN; i++)); do
	exec {fd}<>/dev/tcp/127.0.0.1/7878 || fail "connection $i refused"
	fds+=("$fd")
	ka_get "$fd" || fail "request on connection $i"
done
pid=$(prop lfserver.service MainPID)

step "apt-get install $DEB2 (the upgrade)"
$APT install "$DEB2" || fail "apt-get install $DEB2"
[ "$(dpkg-query -W -f='${Version}' lfserver)" = "$V2" ] ||
    fail "installed: $(dpkg-query -W -f='${Version}' lfserver), not $V2"

step "the edit of $INI is kept, and the restarted service uses it"
grep -q '^mode = locked$' "$INI" && grep -q '^keepalive_timeout = 300$' "$INI" ||
    fail "the upgrade lost the edit of $INI"
poll 10 active lfserver.service || fail "lfserver.service is not active"
new=$(prop lfserver.service MainPID)
[ "$new" != "$pid" ] || fail "the upgrade did not restart lfserver.service"
step "restarted: MainPID $pid -> $new"
curl -sf --max-time 5 "$ADMIN/stats" | grep -Eq '"mode" *: *"locked"' ||
    fail "/stats after the upgrade: $(curl -s "$ADMIN/stats")"
[ "$(systemctl is-enabled lfserver.socket)" = enabled ] ||
    fail "lfserver.socket is $(systemctl is-enabled lfserver.socket) after the upgrade"

# The connections outlive the restart only through systemd's file
# descriptor store, which the unit must ask for (issue 9, point 3).
if grep -q '^FileDescriptorStoreMax=' /lib/systemd/system/lfserver.service; then
	step "each of the $NCONN connections answers its next request"
	for ((i = 0; i < NCONN; i++)); do
		ka_get "${fds[$i]}" ||
		    fail "connection $i did not survive the upgrade"
	done
else
	step "SKIP keep-alive survival: lfserver.service has no FileDescriptorStoreMax= (no fd store yet)"
fi
for fd in "${fds[@]}"; do exec {fd}>&-; done

step "a drop-in made as lfserver.socket's comment says (systemctl edit)"
mkdir -p /etc/systemd/system/lfserver.socket.d
printf '[Socket]\nBacklog=1024\n' > /etc/systemd/system/lfserver.socket.d/override.conf

step "apt-get remove lfserver: stopped, configuration kept"
$APT remove lfserver || fail "apt-get remove"
for u in lfserver.socket lfserver-admin.socket lfserver.service; do
	active $u && fail "$u still active"
done
curl -s --max-time 5 -o /dev/null "$URL/" && fail "port 7878 still answers"
curl -s --max-time 5 -o /dev/null "$ADMIN/metrics" && fail "port 7879 still answers"
grep -q '^mode = locked$' "$INI" || fail "remove lost the edit of $INI"

step "apt-get purge lfserver: nothing left"
$APT purge lfserver || fail "apt-get purge"
dpkg -s lfserver >/dev/null 2>&1 && fail "dpkg still knows lfserver"
left=$(lfserver_files)
[ -z "$left" ] || fail "left after purge: $(echo $left)"
poll 10 units_gone || fail "systemd still lists: $(systemctl list-units \
    --all --plain --no-legend 'lfserver*'; systemctl show lfserver.service \
    -p RequiredBy,WantedBy,TriggeredBy,Job | tr '\n' ' ')"

step "make install, as the README says"
(cd "$BUILD" && make -s install) || fail "make install"
systemctl daemon-reload
systemctl enable --now lfserver.socket || fail "systemctl enable --now lfserver.socket"
body=$(curl -sf --max-time 10 "$URL/cpu") || fail "GET /cpu failed"
[ "$body" = "primes<=10000: 1229" ] || fail "GET /cpu answered '$body'"

step "edit $INI; make install again keeps it"
sed -i 's/^;mode = .*/mode = locked/' "$INI"
out=$(cd "$BUILD" && make -s install 2>&1) || fail "make install: $out"
grep -q '^mode = locked$' "$INI" || fail "make install replaced the edited $INI"
echo "$out" | grep -q "$INI: kept" || fail "make install did not say it kept $INI: $out"
[ -f "$INI.dist-new" ] || fail "no $INI.dist-new"

step "make uninstall: units stopped and unloaded, no link, the edit kept"
out=$(cd "$BUILD" && make -s uninstall 2>&1) || fail "make uninstall: $out"
echo "$out" | grep -q "$INI: kept (edited)" || fail "make uninstall did not say it kept $INI: $out"
for u in lfserver.socket lfserver-admin.socket lfserver.service; do
	active $u && fail "$u still active"
done
curl -s --max-time 5 -o /dev/null "$URL/" && fail "port 7878 still answers"
curl -s --max-time 5 -o /dev/null "$ADMIN/metrics" && fail "port 7879 still answers"
poll 10 units_gone || fail "systemd still lists: $(systemctl list-units \
    --all --plain --no-legend 'lfserver*'; systemctl show lfserver.service \
    -p RequiredBy,WantedBy,TriggeredBy,Job | tr '\n' ' ')"
left=$(lfserver_files)
[ "$left" = "$INI" ] || fail "left after make uninstall: $(echo $left)"
rm "$INI"

step "PASS"

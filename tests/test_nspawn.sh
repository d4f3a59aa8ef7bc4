#!/bin/sh
# test_nspawn.sh - lfserver under a real systemd, in a systemd-nspawn container.
#
# PID 1 of a build machine is rarely systemd, so the units are proven in a
# container: a minbase Debian rootfs (built once with mmdebstrap and cached,
# keyed by its package list), an overlay per run so each run starts clean,
# lfserver configured for /usr and /etc and installed into it, and
# tests/nspawn/ci-test.sh run by a oneshot unit whose result becomes the
# container's exit status. See /work/shared/systemd-testing.md for the recipe.
#
# Environment: LF_CI_CACHE (default /var/cache/lfserver-ci) holds the rootfs;
# LF_CI_MIRROR overrides the Debian mirror; LF_CI_BINARY, a binary to run in
# place of the one installed (to try a sanitizer or a debugging build);
# LF_CI_KEEP=1 keeps the container's files (and journal) for a post-mortem;
# LF_CI_NO_CONTAINER=1 skips the test.

set -u

SUITE=bookworm
# What lfserver's package pulls in (libsystemd0, libinih1, libconfig9) and what
# the test drives it with; not procps: the unit must not need /bin/kill.
PKGS=systemd,systemd-sysv,dbus,curl,libinih1,libconfig9
CACHE=${LF_CI_CACHE:-/var/cache/lfserver-ci}

srcdir=${srcdir:-.}
top_srcdir=$(cd "$srcdir" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
say() { echo "# $*"; }

[ -z "${LF_CI_NO_CONTAINER:-}" ] ||
    skip "LF_CI_NO_CONTAINER is set (a package build: debian/rules)"
[ "$(id -u)" = 0 ] || skip "needs root (systemd-nspawn, overlay mount)"
for t in systemd-nspawn mmdebstrap journalctl; do
	command -v $t >/dev/null 2>&1 ||
	    skip "$t not found (apt-get install systemd-container mmdebstrap)"
done

mirror=${LF_CI_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' \
    /etc/apt/sources.list.d/debian.sources 2>/dev/null)}
mirror=${mirror:-http://deb.debian.org/debian}

# The rootfs is named after what it holds, so a changed package list builds a
# new one instead of reusing a stale one.
hash=$(printf '%s %s\n' "$SUITE" "$PKGS" | sha256sum | cut -c1-16)
rootfs=$CACHE/rootfs-$hash

build_rootfs() {
	mkdir -p "$CACHE" || return 1
	# One builder at a time (make check and distcheck may run together).
	exec 9>"$CACHE/lock"
	flock 9
	if [ ! -d "$rootfs" ]; then
		if ! curl -sf --max-time 15 -o /dev/null \
		    "$mirror/dists/$SUITE/Release"; then
			exec 9>&-
			skip "cannot build the rootfs: $mirror is not reachable"
		fi
		say "building $rootfs (about a minute, once)"
		partial=$CACHE/partial-$hash.$$
		rm -rf "$partial"
		if ! mmdebstrap -q --variant=minbase --include="$PKGS" \
		    "$SUITE" "$partial" "$mirror" > "$CACHE/mmdebstrap.log" 2>&1
		then
			tail -20 "$CACHE/mmdebstrap.log"
			rm -rf "$partial"
			exec 9>&-
			return 1
		fi
		# A rootfs appears only complete: a crash leaves a partial-*.
		mv "$partial" "$rootfs" || return 1
	fi
	exec 9>&-
	return 0
}

work=
cleanup() {
	[ -n "$work" ] || return
	if [ -n "${LF_CI_KEEP:-}" ]; then
		say "kept $work (umount $work/root; rm -rf $work)"
		return
	fi
	if mountpoint -q "$work/root"; then
		umount "$work/root" || umount -l "$work/root" || return
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=$(date +%s)
build_rootfs || { echo "FAIL: mmdebstrap failed"; exit 1; }
say "rootfs $rootfs ready ($(($(date +%s) - t0)) s)"

work=$(mktemp -d /var/tmp/lfserver-nspawn.XXXXXX) || exit 1
mkdir "$work/upper" "$work/ovl" "$work/root" "$work/build"
if ! mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$work/upper,workdir=$work/ovl" \
    "$work/root" 2>/dev/null; then
	say "overlay mount failed; copying the rootfs"
	rmdir "$work/root"
	cp -a "$rootfs" "$work/root" || { echo "FAIL: cp -a $rootfs"; exit 1; }
fi
root=$work/root

# A build of its own, because the one under test may have any prefix. The
# outer make's flags (TESTS=..., -j, DESTDIR) must not leak into it.
say "configure --prefix=/usr --sysconfdir=/etc && make install DESTDIR=container"
unset MAKEFLAGS MFLAGS MAKELEVEL DESTDIR
# The sources come from `make distdir`: the source tree may be configured in
# place (as the README does), which rules out a second build beside it.
(
	make -s distdir distdir="$work/src" &&
	cd "$work/build" &&
	"$work/src/configure" -q --prefix=/usr --sysconfdir=/etc \
	    --with-systemdsystemunitdir=/usr/lib/systemd/system &&
	make -s -j2 >/dev/null &&
	make -s install DESTDIR="$root" >/dev/null
) > "$work/build.log" 2>&1 || {
	tail -30 "$work/build.log"
	echo "FAIL: build or install into the container failed"
	exit 1
}
say "installed ($(($(date +%s) - t0)) s)"

if [ -n "${LF_CI_BINARY:-}" ]; then
	say "using $LF_CI_BINARY as /usr/sbin/lfserver"
	install -m 0755 "$LF_CI_BINARY" "$root/usr/sbin/lfserver" || exit 1
fi

n=$top_srcdir/tests/nspawn
install -m 0644 "$n/lfserver.ini" "$root/etc/lfserver.ini"
install -D -m 0755 "$n/ci-test.sh" "$root/usr/local/libexec/ci-test.sh"
install -m 0755 "$n/kaclient.bash" "$root/usr/local/libexec/kaclient.bash"
install -m 0644 "$n/ci-test.service" "$root/etc/systemd/system/ci-test.service"
install -D -m 0644 "$n/watchdog.conf" \
    "$root/etc/systemd/system/lfserver.service.d/ci-watchdog.conf"
mkdir -p "$root/var/log/journal"	# persistent, for the post-mortem below

say "booting the container"
timeout 180 systemd-nspawn -q -D "$root" -b --register=no --keep-unit \
    --private-network systemd.wants=ci-test.service systemd.show_status=no \
    </dev/null > "$work/console.log" 2>&1
rc=$?
# The console prefixes the script's lines with "sh[PID]: ".
sed -n 's/^\(.*\]: \)\{0,1\}\(ci: .*\)$/\2/p' "$work/console.log"
say "container exited with $rc ($(($(date +%s) - t0)) s)"

if [ $rc -eq 77 ]; then
	skip "$(sed -n 's/^.*ci: SKIP: //p' "$work/console.log" | head -1)"
fi
# No "ci:" line at all: the container never ran ci-test.service (it does not
# depend on lfserver), so this machine cannot boot one: a skip, with why.
if [ $rc -ne 0 ] && ! grep -q 'ci: ' "$work/console.log"; then
	echo "# console:"
	tail -15 "$work/console.log" | sed 's/^/#   /'
	skip "systemd-nspawn could not boot a container here (exit $rc)"
fi
if [ $rc -ne 0 ]; then
	echo "FAIL: the test in the container failed (exit $rc); its journal:"
	journalctl -D "$root/var/log/journal" --no-pager -o short-monotonic \
	    -u ci-test.service -u lfserver.service -u lfserver.socket 2>&1 |
	    tail -80
	if ! grep -q 'ci: ' "$work/console.log"; then
		echo "# console:"
		tail -40 "$work/console.log"
	fi
	exit 1
fi
echo "ok - lfserver under systemd in a container"
exit 0

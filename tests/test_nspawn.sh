#!/bin/sh
# test_nspawn.sh - lfserver under a real systemd, in a systemd-nspawn container.
#
# PID 1 of a build machine is rarely systemd, so the units are proven in a
# container: a minbase Debian rootfs (built once with mmdebstrap and cached,
# keyed by its package list), an overlay per run so each run starts clean,
# lfserver configured for /usr and /etc and installed into it, and
# tests/nspawn/ci-test.sh run by a oneshot unit whose result becomes the
# container's exit status. The steps are tests/nspawn/lib.sh's, shared with
# test_deb.sh; see /work/shared/systemd-testing.md for the recipe.
#
# Environment: LF_CI_CACHE (default /var/cache/lfserver-ci) holds the rootfs;
# LF_CI_MIRROR overrides the Debian mirror; LF_CI_BINARY, a binary to run in
# place of the one installed (to try a sanitizer or a debugging build);
# LF_CI_KEEP=1 keeps the container's files (and journal) for a post-mortem;
# LF_CI_NO_CONTAINER=1 skips the test.

set -u

srcdir=${srcdir:-.}
top_srcdir=$(cd "$srcdir" && pwd)
. "$top_srcdir/tests/nspawn/lib.sh"

nspawn_require
nspawn_rootfs || fail "mmdebstrap failed"
nspawn_overlay nspawn || fail "cp -a $nspawn_rootfs"
work=$nspawn_work
root=$nspawn_root
mkdir "$work/build"

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
say "installed ($(nspawn_elapsed))"

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

nspawn_timeout=180
nspawn_boot ci-test.service "ci: "
rc=$?

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
	nspawn_journal ci-test.service lfserver.service lfserver.socket
	if ! grep -q 'ci: ' "$work/console.log"; then
		echo "# console:"
		tail -40 "$work/console.log"
	fi
	exit 1
fi
echo "ok - lfserver under systemd in a container"
exit 0

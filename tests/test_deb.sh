#!/bin/sh
# test_deb.sh - the Debian package, as an operator gets it: built with
# dpkg-buildpackage, checked by lintian, then installed, edited, upgraded,
# removed and purged in a booted systemd container (tests/nspawn/lib.sh) by
# tests/nspawn/deb-test.sh. The upgrade installs the same sources rebuilt
# with a newer changelog entry. Then, in the same container, the other way:
# make install, an edit, make install again, make uninstall. About 40 s
# once the rootfs is cached.
#
# Skips (77) when not root, when dpkg-buildpackage, debhelper or the build
# dependencies are missing, or when no container can boot.

set -u

srcdir=${srcdir:-.}
top_srcdir=$(cd "$srcdir" && pwd)
. "$top_srcdir/tests/nspawn/lib.sh"

nspawn_require
for t in dpkg-buildpackage dpkg-checkbuilddeps dh dpkg-parsechangelog; do
	command -v $t >/dev/null 2>&1 ||
	    skip "$t not found (apt-get install dpkg-dev debhelper)"
done
deps=$(cd "$top_srcdir" && dpkg-checkbuilddeps 2>&1) ||
    skip "build dependencies missing: ${deps#*: }"

nspawn_rootfs || fail "mmdebstrap failed"
nspawn_overlay deb || fail "cannot make the container's root"
work=$nspawn_work

# The sources come from `make distdir`, as in test_nspawn.sh: the source
# tree may be configured in place. The outer make's flags must not leak in.
unset MAKEFLAGS MFLAGS MAKELEVEL DESTDIR
v1=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version)
v2=$v1+upgrade1
pkgv1=$work/v1/lfserver
pkgv2=$work/v2/lfserver
mkdir -p "$work/v1" "$work/v2"
make -s distdir distdir="$pkgv1" > "$work/distdir.log" 2>&1 || {
	tail -20 "$work/distdir.log"; fail "make distdir"
}
cp -a "$pkgv1" "$pkgv2"
# The upgrade: a new changelog entry, as `dch -v` would add it.
{
	printf 'lfserver (%s) unstable; urgency=medium\n\n' "$v2"
	printf '  * Rebuilt by tests/test_deb.sh to try an upgrade.\n\n'
	printf ' -- %s  %s\n\n' \
	    "$(dpkg-parsechangelog -l "$pkgv1/debian/changelog" -S Maintainer)" \
	    "$(date -R)"
	cat "$pkgv1/debian/changelog"
} > "$pkgv2/debian/changelog"

# The other way of installing: a build for /usr and /etc that the container
# reaches at the same path (bound) and installs and uninstalls with the
# host's make (the rootfs has none; it needs only libc). Without dependency
# tracking, as the container has no /usr/include for make to find.
say "configure --prefix=/usr --sysconfdir=/etc && make"
mkdir "$work/build"
cp -a "$pkgv1" "$work/src"
(
	cd "$work/build" &&
	"$work/src/configure" -q --prefix=/usr --sysconfdir=/etc \
	    --with-systemdsystemunitdir=/lib/systemd/system \
	    --disable-dependency-tracking &&
	make -s -j2
) > "$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "make"; }
install -D -m 0755 "$(command -v make)" "$nspawn_root/usr/local/bin/make"

# build DIR: the package from DIR; the .deb lands in DIR's parent.
build() {
	( cd "$1" && DEB_BUILD_OPTIONS=nocheck \
	    dpkg-buildpackage -us -uc -b ) > "$1.log" 2>&1 || {
		tail -30 "$1.log"; fail "dpkg-buildpackage in $1"
	}
}
say "dpkg-buildpackage -us -uc -b, versions $v1 and $v2"
build "$pkgv1"
build "$pkgv2"
arch=$(dpkg --print-architecture)
deb1=$work/v1/lfserver_${v1}_$arch.deb
deb2=$work/v2/lfserver_${v2}_$arch.deb
[ -f "$deb1" ] && [ -f "$deb2" ] || fail "no $deb1 or $deb2"
say "built ($(nspawn_elapsed))"

if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error,warning "$work/v1/lfserver_${v1}_$arch.changes" \
	    > "$work/lintian.log" 2>&1
	rc=$?
	grep -v '^running with root' "$work/lintian.log"
	[ $rc = 0 ] || fail "lintian reports an error or a warning"
	say "lintian: no error or warning ($(nspawn_elapsed))"
else
	say "lintian not found: the package is not checked by it"
fi

n=$top_srcdir/tests/nspawn
mkdir -p "$nspawn_root/root/debs"
cp "$deb1" "$deb2" "$nspawn_root/root/debs/"
install -D -m 0755 "$n/deb-test.sh" "$nspawn_root/usr/local/libexec/deb-test.sh"
install -m 0644 "$n/deb-test.service" "$nspawn_root/etc/systemd/system/"
printf 'DEB1=/root/debs/%s\nDEB2=/root/debs/%s\nV2=%s\nBUILD=%s\n' \
    "${deb1##*/}" "${deb2##*/}" "$v2" "$work/build" \
    > "$nspawn_root/root/debs/env"

if ! nspawn_boot deb-test.service "deb: " --bind="$work/build" \
    --bind-ro="$work/src"; then
	echo "FAIL: the test in the container failed; its journal:"
	nspawn_journal deb-test.service lfserver.service lfserver.socket
	grep -q 'deb: ' "$work/console.log" || tail -40 "$work/console.log"
	exit 1
fi
echo "ok - the package installs, keeps its configuration on upgrade, purges clean; make install and uninstall too ($(nspawn_elapsed))"
exit 0

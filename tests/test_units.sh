#!/bin/sh
# test_units.sh - the systemd units as systemd itself reads them.
#
# "systemd-analyze verify" exits 0 on unknown keys and bad values (they are
# only warnings), so any output at all fails the test. verify also checks
# that ExecStart= exists and that every Documentation=man: page resolves, so
# it reads a copy of the service that runs the binary just built, with
# MANPATH pointing at the man pages of the source tree. The security rating
# is taken of the unit exactly as it is installed.

srcdir=${srcdir:-.}
top_srcdir=$(cd "$srcdir" && pwd)
top_builddir=$(pwd)
unit_dir=$top_builddir/systemd

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (Debian package systemd)"
	exit 77
fi
for f in "$unit_dir/lfserver.service" "$top_builddir/src/lfserver"; do
	if [ ! -f "$f" ]; then
		echo "FAIL: $f is missing: run make first"
		exit 1
	fi
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

# verify: the binary that was built, the man pages of this tree.
mkdir -p "$tmp/units" "$tmp/man"
cp "$top_srcdir/systemd/lfserver.socket" \
    "$top_srcdir/systemd/lfserver-admin.socket" "$tmp/units/"
sed "s|^ExecStart=[^ ]*|ExecStart=$top_builddir/src/lfserver|" \
    "$unit_dir/lfserver.service" > "$tmp/units/lfserver.service"
for page in "$top_srcdir"/man/*.[1-8]; do
	[ -f "$page" ] || continue
	sec=${page##*.}
	mkdir -p "$tmp/man/man$sec"
	cp "$page" "$tmp/man/man$sec/"
done

echo "# systemd-analyze verify lfserver.socket lfserver-admin.socket lfserver.service"
(cd "$tmp/units" && MANPATH="$tmp/man" SYSTEMD_LOG_COLOR=0 \
    systemd-analyze verify ./lfserver.socket ./lfserver-admin.socket \
    ./lfserver.service) \
    > "$tmp/verify.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ -s "$tmp/verify.out" ]; then
	echo "not ok 1 - verify is silent (exit $rc):"
	sed 's/^/#   /' "$tmp/verify.out"
	fail=1
else
	echo "ok 1 - verify is silent"
fi

# The generated unit must carry the configured path, not the placeholder.
if grep -q '@[a-z]*@' "$unit_dir/lfserver.service"; then
	echo "not ok 2 - lfserver.service has an unsubstituted @variable@"
	fail=1
else
	echo "ok 2 - lfserver.service is fully substituted"
fi

echo "# systemd-analyze security --offline=yes --threshold=20 lfserver.service"
(cd "$unit_dir" && SYSTEMD_LOG_COLOR=0 SYSTEMD_COLORS=0 \
    systemd-analyze security --offline=yes --threshold=20 \
    ./lfserver.service) > "$tmp/security.out" 2>&1
rc=$?
grep 'Overall exposure' "$tmp/security.out" | sed 's/^/# /'
if [ $rc -ne 0 ]; then
	echo "not ok 3 - exposure <= 2.0 (exit $rc):"
	grep -v '^✓' "$tmp/security.out" | sed 's/^/#   /'
	fail=1
else
	echo "ok 3 - exposure <= 2.0"
fi

echo "1..3"
exit $fail

#!/bin/sh
# test_units.sh - the systemd units as systemd itself reads them.
#
# "systemd-analyze verify" exits 0 on unknown keys and bad values (they are
# only warnings), so any output at all fails the test. verify also checks
# that every Exec*= command exists and that every Documentation=man: page
# resolves, so it reads a copy of the service that runs the binary just
# built, with MANPATH pointing at the man pages of the source tree. Without
# man(1) (no man-db, as in a minimal container) the man: links cannot be
# resolved: they are left out of the copy and that check is reported skipped.
# The security rating is taken of the unit exactly as it is installed; the
# README and the unit's comment quote the same figure.

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
# every Exec*= line that runs the installed lfserver runs the one just built
bin=$(sed -n 's|^ExecStart=\([^ ]*\).*|\1|p' "$unit_dir/lfserver.service")
have_man=yes
command -v man >/dev/null 2>&1 || have_man=
sed -e "s|=$bin\$|=$top_builddir/src/lfserver|" -e "s|=$bin |=$top_builddir/src/lfserver |" \
    "$unit_dir/lfserver.service" > "$tmp/units/lfserver.service"
if [ -z "$have_man" ]; then
	sed -i '/^Documentation=/d' "$tmp/units/lfserver.socket" \
	    "$tmp/units/lfserver-admin.socket" "$tmp/units/lfserver.service"
fi
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
if [ -n "$have_man" ]; then
	echo "ok 2 - the Documentation=man: pages resolve (checked by verify)"
else
	echo "ok 2 # SKIP man not found (Debian package man-db): Documentation= not verified"
fi

# The generated unit must carry the configured path, not the placeholder.
if grep -q '@[a-z]*@' "$unit_dir/lfserver.service"; then
	echo "not ok 3 - lfserver.service has an unsubstituted @variable@"
	fail=1
else
	echo "ok 3 - lfserver.service is fully substituted"
fi

# The one rating the docs quote (README, the unit's comment): keep them in step.
rating=$(sed -n 's/.*"systemd-analyze security lfserver.service" rates this \([0-9.]*\).*/\1/p' \
    "$top_srcdir/systemd/lfserver.service.in")
echo "# systemd-analyze security --offline=yes --threshold=20 lfserver.service"
(cd "$unit_dir" && SYSTEMD_LOG_COLOR=0 SYSTEMD_COLORS=0 \
    systemd-analyze security --offline=yes --threshold=20 \
    ./lfserver.service) > "$tmp/security.out" 2>&1
rc=$?
grep 'Overall exposure' "$tmp/security.out" | sed 's/^/# /'
if [ $rc -ne 0 ]; then
	echo "not ok 4 - exposure <= 2.0 (exit $rc):"
	grep -v '^✓' "$tmp/security.out" | sed 's/^/#   /'
	fail=1
else
	echo "ok 4 - exposure <= 2.0"
fi
measured=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security.out")
if [ -n "$rating" ] && [ "$measured" = "$rating" ] &&
    grep -q "rates it $rating\b" "$top_srcdir/README.md"; then
	echo "ok 5 - the unit's comment and the README quote the measured $measured"
else
	echo "not ok 5 - measured '$measured'; the unit's comment says '$rating'," \
	    "the README: $(grep -o 'rates it [0-9.]*' "$top_srcdir/README.md")"
	fail=1
fi

echo "1..5"
exit $fail

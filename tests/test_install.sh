#!/bin/sh
# test_install.sh - `make install` keeps an edited configuration file, and
# `make uninstall` leaves nothing behind: no file, no enablement link.
#
# Installs this build tree into a DESTDIR staging root three times (the
# second and third after an edit of lfserver.ini and of the logrotate
# file), plants the links
# `systemctl enable` would make (and one into another copy of the units,
# which must stay), then uninstalls. Needs no root; with DESTDIR set, make
# never calls systemctl. A few seconds.

set -u
unset MAKEFLAGS MFLAGS MAKELEVEL DESTDIR

srcdir=${srcdir:-.}
top_srcdir=$(cd "$srcdir" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lfinstall.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
D=$tmp/root
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
run() {	# run TARGET: make TARGET DESTDIR=$D, its output in $tmp/out
	make -s "$1" DESTDIR="$D" > "$tmp/out" 2>&1
	_rc=$?
	[ $_rc -eq 0 ] || sed 's/^/#   /' "$tmp/out"
	return $_rc
}
left() { find "$D" ! -type d | sort; }

run install
ok $? "make install DESTDIR=..."
ini=$(find "$D" -name lfserver.ini -type f)
routes=$(find "$D" -name routes.conf -type f)
[ -n "$ini" ] && cmp -s "$ini" "$top_srcdir/etc/lfserver.ini"
ok $? "lfserver.ini installed (${ini#$D})"
[ -n "$routes" ] && cmp -s "$routes" "$top_srcdir/etc/routes.conf"
ok $? "routes.conf installed (${routes#$D})"
lr=$(find "$D" -path '*/logrotate.d/lfserver' -type f)
[ -n "$lr" ] && cmp -s "$lr" "$top_srcdir/etc/logrotate.d/lfserver"
ok $? "the logrotate file installed (${lr#$D})"
[ -z "$(find "$D" -name '*.dist-new')" ]
ok $? "no .dist-new on a first install"

echo '; edited by test_install.sh' >> "$ini"
echo '# edited by test_install.sh' >> "$lr"
for i in 2 3; do
	run install
	ok $? "make install again (install $i)"
	tail -1 "$ini" | grep -q 'edited by test_install'
	ok $? "install $i keeps the edited lfserver.ini"
	cmp -s "$ini.dist-new" "$top_srcdir/etc/lfserver.ini"
	ok $? "install $i puts the release's file beside it, as lfserver.ini.dist-new"
	grep -q "$ini: kept .*$ini.dist-new" "$tmp/out"
	ok $? "install $i says so"
	[ ! -e "$routes.dist-new" ] && cmp -s "$routes" "$top_srcdir/etc/routes.conf"
	ok $? "install $i leaves the unchanged routes.conf alone"
	tail -1 "$lr" | grep -q 'edited by test_install' &&
	    cmp -s "$lr.dist-new" "$top_srcdir/etc/logrotate.d/lfserver"
	ok $? "install $i keeps the edited logrotate file, the new one beside it"
done

# The links `systemctl enable lfserver.socket lfserver.service` makes, and
# one into another copy of the units, which make uninstall must keep.
sock=$(find "$D" -name lfserver.socket -type f)
if [ -n "$sock" ]; then
	unitdir=$(dirname "${sock#$D}")
	wants=$D/etc/systemd/system
	mkdir -p "$wants/sockets.target.wants" "$wants/multi-user.target.wants" \
	    "$wants/graphical.target.wants"
	ln -s "$unitdir/lfserver.socket" "$wants/sockets.target.wants/"
	ln -s "$unitdir/lfserver.service" "$wants/multi-user.target.wants/"
	ln -s /opt/elsewhere/lfserver.service "$wants/graphical.target.wants/"
	foreign=$wants/graphical.target.wants/lfserver.service
else
	echo "# units not installed (--with-systemdsystemunitdir=no): no links to check"
	foreign=
fi

run uninstall
ok $? "make uninstall DESTDIR=..."
grep -q "$ini: kept (edited)" "$tmp/out"
ok $? "uninstall says it keeps the edited lfserver.ini"
[ "$(left)" = "$(printf '%s\n%s\n%s\n' "$foreign" "$ini" "$lr" | grep . | sort)" ]
ok $? "uninstall leaves only the edited files and the foreign link"
left | sed 's/^/#   left: /'

cp "$top_srcdir/etc/lfserver.ini" "$ini"
cp "$top_srcdir/etc/logrotate.d/lfserver" "$lr"
run uninstall
ok $? "make uninstall with the ini as installed"
[ -n "$foreign" ] && rm "$foreign"
[ -z "$(left)" ]
ok $? "nothing is left"
left | sed 's/^/#   left: /'

echo "1..$n"
[ $failed -eq 0 ]

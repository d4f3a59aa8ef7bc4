#!/bin/sh
# test_man.sh - every man page in man/ is mandoc-lint clean.
#
# mandoc -Tlint exits 0 on style messages; any output at all fails the test.

srcdir=${srcdir:-.}

if ! command -v mandoc >/dev/null 2>&1; then
	echo "SKIP: mandoc not found (Debian package mandoc)"
	exit 77
fi

n=0
fail=0
for page in "$srcdir"/man/*.[1-8]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "not ok $n - mandoc -Tlint -W warning ${page##*/}"
		printf '%s\n' "$out" | sed 's/^/#   /'
		fail=1
	else
		echo "ok $n - mandoc -Tlint -W warning ${page##*/}"
	fi
done
if [ $n -eq 0 ]; then
	echo "FAIL: no man pages found in $srcdir/man"
	exit 1
fi
echo "1..$n"
exit $fail

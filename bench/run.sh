#!/bin/sh
# run.sh - entry point of lfserver's benchmark suite (`make bench` runs it).
#
# The driver itself is bench/lfbench.py (Python 3, standard library only);
# this wrapper only finds an interpreter so that `make bench`, a shell and
# a CI job all start it the same way.  Every option is the driver's:
#   bench/run.sh --help
# Setup on Debian:
#   apt-get install -y apache2-utils wrk nginx-light gnuplot-nox
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
for py in python3 /usr/bin/python3; do
	if command -v "$py" >/dev/null 2>&1; then
		exec "$py" "$here/lfbench.py" "$@"
	fi
done
echo "run.sh: python3 not found: apt-get install -y python3" >&2
exit 1

#!/bin/sh
# mkcorpus-http.sh - (re)writes the seed corpus of the parser fuzz targets
# (tests/fuzz/fuzz_http.c, tests/fuzz/fuzz_http_split.c): the bytes of every
# request the tests parse (up to 8 KiB), from tests/test_http (its named cases, one file
# each, unit-HASH) and tests/conform.py (conn-CASE). Run from the build
# directory after `make check` has built tests/test_http:
#     sh tests/fuzz/mkcorpus-http.sh [SRCDIR]
set -eu
srcdir=${1:-.}
out=$srcdir/tests/fuzz/corpus/http
mkdir -p "$out"
rm -f "$out"/unit-* "$out"/conn-*
LF_CORPUS_DIR=$out ./tests/test_http > /dev/null
python3 "$srcdir/tests/conform.py" corpus "$out"
# the targets run with -max_len=20000 (tests/fuzz/run.sh): the long heads and
# bodies of the limit tests, over 8 KiB, would only make the corpus large
find "$out" -type f -size +8192c -delete
# fuzz_http_split takes the same seeds; a copy keeps the corpus/NAME layout
rm -rf "$srcdir/tests/fuzz/corpus/http_split"
cp -R "$out" "$srcdir/tests/fuzz/corpus/http_split"
echo "$(ls "$out" | wc -l) files in $out and in $out""_split"

#!/bin/sh
# run.sh - runs one libFuzzer target for a bounded time on a copy of its
# seed corpus, so the checkout stays clean; used by `make fuzz-run` and
# .ci/run. Usage: run.sh BINARY CORPUS_DIR [SECONDS]
# Exit 0 when the target ran its time without a finding; otherwise 1, with
# the fuzzer's report and the failing input (hex) on stdout, and the input
# kept under $FUZZ_ARTIFACTS (default: a directory the script names).
set -u
bin=$1
corpus=$2
secs=${3:-60}
name=$(basename "$bin")
[ -x "$bin" ] || { echo "$name: $bin is not built (make fuzz)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lfserver-$name.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
if [ -d "$corpus" ]; then
	cp -R "$corpus/." "$work/corpus/"
fi
here=$(cd "$(dirname "$0")" && pwd)
export LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# -timeout: one input running longer is a finding (a hang);
# -rss_limit_mb: so is memory beyond it; -max_len: above the 16 KiB head limit.
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=20000 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" > "$work/log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
if [ "$rc" -eq 0 ]; then
	echo "$name: ran ${secs}s, ${execs:-?} inputs, no finding"
	exit 0
fi
echo "$name: FAILED (exit $rc) after ${execs:-?} inputs"
tail -60 "$work/log"
keep=${FUZZ_ARTIFACTS:-${TMPDIR:-/tmp}/lfserver-fuzz-artifacts}
mkdir -p "$keep"
for f in "$work"/artifacts/*; do
	[ -f "$f" ] || continue
	echo "# input $(basename "$f") (kept in $keep/$name-$(basename "$f")):"
	od -An -tx1 -v "$f" | head -40
	cp "$f" "$keep/$name-$(basename "$f")"
done
exit 1

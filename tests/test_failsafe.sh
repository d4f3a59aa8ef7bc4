#!/bin/sh
# test_failsafe.sh - mistakes fail safe, without systemd (lfserver(8), EXIT
# STATUS and RELOAD):
# - `lfserver --reload` (the unit's ExecReload=) signals a daemon and exits
#   with its verdict: 1 with FILE:LINE for a bad file, 0 for a good one; the
#   daemon's STATUS= keeps a failed reload in sight until the next good one;
# - a bad configuration at start under socket activation, with a client
#   waiting, holds (no exit, so systemd's socket unit cannot loop on it):
#   the client waits, `lfserver --reload` with a fixed file serves it; a
#   stop while holding exits 78 (EX_CONFIG);
# - under socket activation an ini `listen` that differs from the sockets
#   systemd passed is a warning that names both;
# - skipped docroot files are named with their reason at start and reload,
#   and /stats counts the files served and skipped.

. "${srcdir:-.}/tests/lib.sh"
lf_init

if ! command -v curl >/dev/null 2>&1; then
	echo "SKIP: curl not found"
	exit 77
fi

run=$LF_TMP/run
mkdir -p "$run"
ini=$LF_TMP/lfserver.ini
sock=$LF_TMP/notify.sock
msgs=$LF_TMP/notify.jsonl
: > "$msgs"

# reload_client NAME [ARGS]: `lfserver --reload` against $LF_PID; $RC, NAME.out/.err
reload_client()
{
	_n=$1
	shift
	RUNTIME_DIRECTORY=$run MAINPID=$LF_PID timeout 30 "$LFSERVER" --reload "$@" \
	    > "$LF_TMP/$_n.out" 2> "$LF_TMP/$_n.err"
	RC=$?
}

# wait_grep TENTHS PATTERN FILE: until PATTERN is in FILE, 0.1 s polls
wait_grep()
{
	_n=$1
	while ! grep -q -- "$2" "$3" 2>/dev/null && [ "$_n" -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	grep -q -- "$2" "$3" 2>/dev/null
}

# last_status: the last STATUS= the daemon sent
last_status()
{
	grep -o 'STATUS=[^"\\]*' "$msgs" | tail -1
}

# --- the reload handshake against a running daemon ---
python3 "$LF_ITEST" writeini "$ini" --mode lockfree --workers 2 || exit 1
python3 "$LF_ITEST" notify-listen --socket "$sock" --out "$msgs" --timeout 60 &
listener=$!
LF_PIDS="$LF_PIDS $listener"
lf_wait_for 100 -S "$sock"
RUNTIME_DIRECTORY=$run NOTIFY_SOCKET=$sock lf_start "$ini" || { lf_ok 1 "start"; lf_done; }

printf '[server]\nmode = lockfree\nworkers = 2\nbogus = 1\n' > "$ini"
reload_client bad
grep -q "reload failed, old configuration kept: $ini:4:" "$LF_TMP/bad.err"
r=$?
[ "$RC" -eq 1 ] && [ $r -eq 0 ]
lf_ok $? "--reload with a bad file: exit 1 (got $RC), '$ini:4:' on stderr"
[ $? -eq 0 ] || lf_diag "$LF_TMP/bad.err"
wait_grep 20 'STATUS=reload failed' "$msgs"
last_status | grep -q "STATUS=reload failed, old configuration kept: $ini:4:.*mode=lockfree"
lf_ok $? "STATUS= says the reload failed, with FILE:LINE: $(last_status)"
curl -sf --max-time 5 "http://127.0.0.1:$LF_PORT/stats" | grep -q '"mode":"lockfree"'
lf_ok $? "the old engine (lockfree) still serves"

python3 "$LF_ITEST" writeini "$ini" --mode locked --workers 3 || exit 1
reload_client good
[ "$RC" -eq 0 ] && grep -q "reloaded $ini: mode=locked, serving on 127.0.0.1:$LF_PORT" \
    "$LF_TMP/good.out"
lf_ok $? "--reload with a good file: exit 0 (got $RC), says what it serves"
[ $? -eq 0 ] || { lf_diag "$LF_TMP/good.out"; lf_diag "$LF_TMP/good.err"; }
curl -sf --max-time 5 "http://127.0.0.1:$LF_PORT/stats" | grep -q '"mode":"locked"'
lf_ok $? "the new engine (locked) serves"
sleep 0.2
last_status | grep -q "^STATUS=mode=locked"
lf_ok $? "STATUS= no longer shows the failed reload: $(last_status)"

RUNTIME_DIRECTORY=$run timeout 30 "$LFSERVER" --reload="$LF_PID" > /dev/null 2>&1
lf_ok $? "--reload=PID works without \$MAINPID"
python3 "$LF_ITEST" writeini "$ini" --mode thread-per-connection --workers 2 || exit 1
reload_client tpc
[ "$RC" -eq 0 ]
lf_ok $? "--reload to thread-per-connection: exit 0 (got $RC)"
# it has neither workers nor a queue: the reload line's words claim no change
# to them (the key=value facts after ';' are for scripts)
grep -q "reload: locked -> thread-per-connection, serving on 127.0.0.1:$LF_PORT, drained" \
    "$LF_LOG" &&
    ! grep "reload: locked -> thread" "$LF_LOG" | cut -d';' -f1 | grep -q "workers\|queue"
lf_ok $? "the reload line to thread-per-connection names no workers or queue"
[ $? -eq 0 ] || lf_dump_log
sleep 0.2
last_status | grep -q "^STATUS=mode=thread-per-connection | requests="
lf_ok $? "STATUS= for thread-per-connection names no workers or queue: $(last_status)"
lf_stop
lf_wait_exit "$listener" 10

# --- a listen changed at reload is not applied: warned about every time ---
p1=$(lf_free_port)
p2=$(lf_free_port)
printf '[server]\nworkers = 1\nlisten = 127.0.0.1:%s\n' "$p1" > "$ini"
LF_PORT=$p1
LF_LOG=$LF_TMP/listen-reload.log
RUNTIME_DIRECTORY=$run "$LFSERVER" -c "$ini" > "$LF_LOG" 2>&1 &
LF_PID=$!
LF_PIDS="$LF_PIDS $LF_PID"
python3 "$LF_ITEST" wait --port "$p1" --pid "$LF_PID" --timeout 15
printf '[server]\nworkers = 1\nlisten = 127.0.0.1:%s\n' "$p2" > "$ini"
reload_client lr1
reload_client lr2
n=$(grep -c "listen changed to 127.0.0.1:$p2: a restart is needed to apply it; still listening on 127.0.0.1:$p1" "$LF_LOG")
[ "$n" -eq 2 ] && grep -q "serving on 127.0.0.1:$p1" "$LF_TMP/lr2.out" && lf_refused "$p2"
lf_ok $? "a listen changed at reload: warned at both reloads ($n), still serving $p1 only"
[ $? -eq 0 ] || lf_dump_log
lf_stop "stop (listen changed)"

# --- skipped docroot files: named in the log, counted in /stats ---
www=$LF_TMP/www
mkdir -p "$www"
echo '<p>hi</p>' > "$www/index.html"
echo 'b' > "$www/b.txt"
truncate -s 65M "$www/huge.bin"	# served from disk: not skipped
mkfifo "$www/pipe"
ln -s /etc/hostname "$www/out"
echo secret > "$www/.env"
python3 "$LF_ITEST" writeini "$ini" --mode lockfree --workers 2 --docroot "$www" || exit 1
lf_start "$ini" || { lf_ok 1 "start with a docroot"; lf_done; }
grep -q "docroot $www: 3 files, 2 skipped: " "$LF_LOG" &&
    grep -q "/pipe (not a regular file)" "$LF_LOG" &&
    grep -q "/out (a link leading out of the docroot)" "$LF_LOG" &&
    ! grep -q '\.env' "$LF_LOG"
lf_ok $? "the start names the 2 skipped docroot files with their reasons"
[ $? -eq 0 ] || lf_dump_log
curl -sf --max-time 5 "http://127.0.0.1:$LF_PORT/stats" > "$LF_TMP/stats.json"
grep -q '"docroot_files":3,"docroot_skipped":2' "$LF_TMP/stats.json"
lf_ok $? "/stats: docroot_files 3, docroot_skipped 2: $(cat "$LF_TMP/stats.json")"
rm "$www/pipe"
kill -HUP "$LF_PID"
wait_grep 50 "docroot $www: 3 files, 1 skipped" "$LF_LOG"
lf_ok $? "a reload says it again: 1 skipped now"
lf_stop "stop (docroot)"

# --- a bad file at start, under socket activation, with a client waiting ---
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	echo "# systemd-socket-activate not found: the socket activation cases are skipped"
	lf_done
fi
printf '[server]\nworkers = 2\nmode = fast\n' > "$ini"
LF_PORT=$(lf_free_port)
LF_LOG=$LF_TMP/hold.log
# systemd-socket-activate passes only PATH, TERM, USER, HOME on its own
systemd-socket-activate -l "127.0.0.1:$LF_PORT" --fdname=http \
    -E "RUNTIME_DIRECTORY=$run" "$LFSERVER" -c "$ini" > "$LF_LOG" 2>&1 &
LF_PID=$!
LF_PIDS="$LF_PIDS $LF_PID"
sleep 0.3
curl -s --max-time 30 -o "$LF_TMP/held.body" -w '%{http_code}' \
    "http://127.0.0.1:$LF_PORT/cpu?n=100" > "$LF_TMP/held.code" &
held=$!
LF_PIDS="$LF_PIDS $held"
wait_grep 50 'clients are waiting' "$LF_LOG"
sleep 1	# under the retry period (5 s): the retry is not what serves the client
lf_alive "$LF_PID" && lf_alive "$held" && grep -q "$ini:3:" "$LF_LOG"
lf_ok $? "bad file, a client waiting: lfserver holds (alive, $ini:3: logged), the client waits"
[ $? -eq 0 ] || lf_dump_log
printf '[server]\nworkers = 2\nmode = locked\n' > "$ini"
reload_client fixed
[ "$RC" -eq 0 ]
lf_ok $? "file fixed, --reload: exit 0 (got $RC)"
lf_wait_exit "$held" 10
[ "$(cat "$LF_TMP/held.code")" = 200 ] && grep -q 'primes<=100: 25' "$LF_TMP/held.body"
lf_ok $? "the client that waited is answered: $(cat "$LF_TMP/held.code")"
lf_stop "stop after the hold"

printf '[server]\nworkers = x\n' > "$ini"
LF_PORT=$(lf_free_port)
LF_LOG=$LF_TMP/hold2.log
systemd-socket-activate -l "127.0.0.1:$LF_PORT" --fdname=http \
    "$LFSERVER" -c "$ini" > "$LF_LOG" 2>&1 &
LF_PID=$!
LF_PIDS="$LF_PIDS $LF_PID"
sleep 0.3
curl -s --max-time 20 "http://127.0.0.1:$LF_PORT/" > /dev/null 2>&1 &
held=$!
LF_PIDS="$LF_PIDS $held"
wait_grep 50 'clients are waiting' "$LF_LOG"
kill -TERM "$LF_PID"
lf_wait_exit "$LF_PID" 10
[ "$LF_RC" -eq 78 ]
lf_ok $? "a stop while holding for a valid file exits 78 (got $LF_RC)"
kill "$held" 2>/dev/null
wait "$held" 2>/dev/null
lf_forget "$held"

# --- the same with the client on the admin socket (a scrape started it) ---
printf '[server]\nworkers = 1\nmode = fast\n' > "$ini"
LF_PORT=$(lf_free_port)
aport=$(lf_free_port)
LF_LOG=$LF_TMP/hold3.log
systemd-socket-activate -l "127.0.0.1:$LF_PORT" -l "127.0.0.1:$aport" \
    --fdname=http:admin "$LFSERVER" -c "$ini" > "$LF_LOG" 2>&1 &
LF_PID=$!
LF_PIDS="$LF_PIDS $LF_PID"
sleep 0.3
curl -s --max-time 20 "http://127.0.0.1:$aport/metrics" > /dev/null 2>&1 &
held=$!
LF_PIDS="$LF_PIDS $held"
wait_grep 50 "$ini:3:" "$LF_LOG"
sleep 1
lf_alive "$LF_PID" && grep -q 'clients are waiting' "$LF_LOG"
lf_ok $? "bad file, a client waiting on the admin socket only: lfserver holds too"
[ $? -eq 0 ] || lf_dump_log
kill -TERM "$LF_PID"
lf_wait_exit "$LF_PID" 10
kill "$held" 2>/dev/null
wait "$held" 2>/dev/null
lf_forget "$held"

# --- listen in the ini, other sockets from systemd: a warning naming both ---
other=$(lf_free_port)
printf '[server]\nworkers = 1\nlisten = 127.0.0.1:%s\n' "$other" > "$ini"
LF_PORT=$(lf_free_port)
LF_LOG=$LF_TMP/listen.log
systemd-socket-activate -l "127.0.0.1:$LF_PORT" --fdname=http \
    "$LFSERVER" -c "$ini" > "$LF_LOG" 2>&1 &
LF_PID=$!
LF_PIDS="$LF_PIDS $LF_PID"
python3 "$LF_ITEST" wait --port "$LF_PORT" --pid "$LF_PID" --timeout 15
grep -q "listen = 127.0.0.1:$other ignored: serving on 127.0.0.1:$LF_PORT" "$LF_LOG"
lf_ok $? "the ini's listen ($other) is a warning naming the served 127.0.0.1:$LF_PORT"
[ $? -eq 0 ] || lf_dump_log
lf_stop "stop (socket activation)"
lf_done

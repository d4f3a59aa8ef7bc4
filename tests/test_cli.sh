#!/bin/sh
# test_cli.sh - lfserver's command line: --help, --version, bad options,
# --check-config on good and bad files (every error names FILE:LINE and the
# key), bad option values, and nothing left listening after a failed start.
# Exit statuses (lfserver(8)): 64 for bad usage (one line, not the whole
# help), 78 (EX_CONFIG) for a bad configuration, 1 for other failures.

. "${srcdir:-.}/tests/lib.sh"
lf_init

# lf_run NAME ARGS...: runs the binary (10 s at most); NAME.out, NAME.err, $RC
lf_run()
{
	_name=$1
	shift
	timeout 10 "$LFSERVER" "$@" > "$LF_TMP/$_name.out" 2> "$LF_TMP/$_name.err"
	RC=$?
}

# has NAME STREAM TEXT...: every TEXT occurs (fixed string) in NAME.STREAM
has()
{
	_f=$LF_TMP/$1.$2
	shift 2
	for _t in "$@"; do
		grep -qF -- "$_t" "$_f" || return 1
	done
}

# expect_fail NAME WHAT TEXT...: exit $WANT (default 78, EX_CONFIG) and
# every TEXT on stderr
expect_fail()
{
	_n=$1
	_what=$2
	_want=${WANT:-78}
	shift 2
	has "$_n" err "$@" && [ "$RC" -eq "$_want" ] && ! has "$_n" out "configuration OK"
	_r=$?
	lf_ok $_r "$_what: exit $_want (got $RC), stderr names: $*"
	if [ $_r -ne 0 ]; then
		lf_diag "$LF_TMP/$_n.err"
		lf_diag "$LF_TMP/$_n.out"
	fi
}

d=$LF_TMP

# --help, --version, bad options
for opt in --help -h; do
	lf_run help $opt
	has help out "usage: lfserver" --config --mode --workers --queue-capacity \
	    --listen --check-config lockfree locked thread-per-connection sequential
	r=$?
	[ $RC -eq 0 ] && [ ! -s "$d/help.err" ]
	lf_ok $((r + $?)) "$opt: exit 0 (got $RC), usage with every option and mode on stdout"
done
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' config.h 2>/dev/null)
for opt in --version -V; do
	lf_run version $opt
	out=$(cat "$d/version.out")
	if [ -n "$version" ]; then
		[ "$out" = "lfserver $version" ]
	else
		printf '%s\n' "$out" | grep -Eq '^lfserver [0-9]+\.[0-9]+'
	fi
	r=$?
	[ $RC -eq 0 ]
	lf_ok $((r + $?)) "$opt: exit 0 (got $RC), prints '$out' (config.h: ${version:-?})"
done
# usage errors: one line saying what is wrong and a pointer to --help
usage_error()
{
	WANT=64 expect_fail "$@" "lfserver --help"
	[ "$(wc -l < "$LF_TMP/$1.err")" -eq 2 ] && ! has "$1" err "usage:"
	lf_ok $? "$2: two lines on stderr, not the whole usage"
	[ $? -eq 0 ] || lf_diag "$LF_TMP/$1.err"
}
lf_run bad --bogus-option
usage_error bad "an unknown option --bogus-option" "unknown option '--bogus-option'"
lf_run bad -x
usage_error bad "an unknown option -x" "unknown option '-x'"
lf_run bad -c
usage_error bad "-c without its argument" "'-c' needs a value"
lf_run bad -t -c "$d/none.ini" stray
usage_error bad "a stray argument" "unexpected argument 'stray'"
lf_run bad --reload=abc
usage_error bad "--reload with a bad pid" "'abc' is not a process id"

# A good configuration with every key, a docroot and a routes file.
mkdir -p "$d/www" "$d/conf"
echo '<p>hello</p>' > "$d/www/index.html"
cat > "$d/conf/good.routes" <<'EOF'
# routes for test_cli.sh
routes = (
  { path = "/"; handler = "static"; prefix = true; },
  { path = "/cpu"; handler = "cpu"; n = 5000; n_max = 100000; },
  { path = "/io"; handler = "io"; ms = 5; ms_max = 1000; },
  { path = "/mixed"; handler = "mixed"; weights = { static = 2; cpu = 1; io = 1; }; },
  { path = "/stats"; handler = "stats"; }
);
EOF
cat > "$d/conf/good.ini" <<'EOF'
; every key, as lfserver.ini(5) documents them
[server]
mode = locked
workers = 3
queue_capacity = 16
listen = 127.0.0.1:7878
docroot = ../www
routes = good.routes
keepalive_timeout = 5
request_timeout = 10
max_connections = 1000

[stats]
interval = 0
EOF
good=$d/conf/good.ini
lf_run good -t -c "$good"
[ $RC -eq 0 ] && [ "$(cat "$d/good.out")" = "$good: configuration OK" ]
lf_ok $? "-t -c good.ini: exit 0 (got $RC), '$good: configuration OK'"
[ $RC -eq 0 ] || lf_diag "$d/good.err"
lf_run good --check-config --config "$good"
[ $RC -eq 0 ] && has good out "$good: configuration OK"
lf_ok $? "--check-config --config good.ini: exit 0 (got $RC)"
lf_run good -t -c "$good" -m 2 -w 4 -q 32 -l 127.0.0.1:1
[ $RC -eq 0 ] && has good out "configuration OK"
lf_ok $? "-t with valid -m 2 -w 4 -q 32 -l overrides: exit 0 (got $RC)"
lf_run good -t -c "$good" -m thread-per-connection -w 0
[ $RC -eq 0 ] && has good out "configuration OK"
lf_ok $? "-t with -m thread-per-connection -w 0: exit 0 (got $RC)"

# Bad files: exit 78, "FILE:LINE" and the key on stderr.
# bad NAME LINE KEY < CONTENT: writes $d/conf/NAME.ini and checks it.
bad()
{
	cat > "$d/conf/$1.ini"
	lf_run "$1" -t -c "$d/conf/$1.ini"
	expect_fail "$1" "-t on $1.ini" "$d/conf/$1.ini:$2:" "$3"
}
bad unknown-key 3 bogus_key <<'EOF'
[server]
workers = 2
bogus_key = 1
EOF
bad bad-workers 4 workers <<'EOF'
# a comment
[server]
mode = lockfree
workers = many
EOF
bad workers-range 2 workers <<'EOF'
[server]
workers = 5000
EOF
bad negative-capacity 2 queue_capacity <<'EOF'
[server]
queue_capacity = -1
EOF
bad zero-capacity 3 queue_capacity <<'EOF'
[server]

queue_capacity = 0
EOF
bad unknown-section 4 bogus <<'EOF'
[server]
workers = 2

[bogus]
x = 1
EOF
bad bad-mode 2 mode <<'EOF'
[server]
mode = fast
EOF
bad docroot-missing 3 docroot <<'EOF'
[server]
mode = locked
docroot = /nonexistent/lfserver-itest-docroot
EOF
bad routes-missing 2 routes <<'EOF'
[server]
routes = no-such.routes
EOF
bad twice 3 workers <<'EOF'
[server]
workers = 2
workers = 3
EOF
bad bad-listen 2 listen <<'EOF'
[server]
listen = localhost
EOF
bad bad-interval 5 interval <<'EOF'
[server]
workers = 1

[stats]
interval = soon
EOF

# a routes file with an unknown setting on its line 4
cat > "$d/conf/bad.routes" <<'EOF'
routes = (
  { path = "/"; handler = "static"; },
  { path = "/x"; handler = "cpu";
    bogus_setting = 1; }
);
EOF
printf '[server]\nroutes = bad.routes\n' > "$d/conf/bad-routes.ini"
lf_run bad-routes -t -c "$d/conf/bad-routes.ini"
expect_fail bad-routes "-t on an ini whose routes file has an unknown setting" \
    "$d/conf/bad.routes:4:" bogus_setting
cat > "$d/conf/syntax.routes" <<'EOF'
routes = (
  { path = "/"; handler = "static"; }
  { path = "/cpu"; handler = "cpu"; }
);
EOF
printf '[server]\nroutes = syntax.routes\n' > "$d/conf/syntax-routes.ini"
lf_run syntax-routes -t -c "$d/conf/syntax-routes.ini"
expect_fail syntax-routes "-t on an ini whose routes file has a syntax error" \
    "$d/conf/syntax.routes:3:"

lf_run missing -c "$d/conf/no-such.ini" -l 127.0.0.1:1
expect_fail missing "-c with a missing file" "$d/conf/no-such.ini"
lf_run missing -t -c "$d/conf/no-such.ini"
expect_fail missing "-t -c with a missing file" "$d/conf/no-such.ini"

# Bad values on the command line name the option.
for args in "-w abc" "-w 5000" "--workers=-1" "-m fast" "--mode 4" "-q 0" \
    "-q x" "--queue-capacity 99999999" "-l nope" "--listen 127.0.0.1:70000"; do
	# shellcheck disable=SC2086
	lf_run opt -t -c "$good" $args
	o=${args%% *}
	o=${o%%=*}
	case $o in
	-w) o=--workers ;;
	-m) o=--mode ;;
	-q) o=--queue-capacity ;;
	-l) o=--listen ;;
	esac
	expect_fail opt "'-t $args'" "$o"
done

# A failed start: exit 78 and nothing left listening on the port.
port=$(lf_free_port)
for args in "-c $d/conf/unknown-key.ini" "-c $good -w abc" \
    "-c $d/conf/no-such.ini" "-c $good -m 9"; do
	# shellcheck disable=SC2086
	lf_run start $args -l "127.0.0.1:$port"
	[ $RC -eq 78 ] && lf_refused "$port"
	lf_ok $? "a start with '$args' exits 78 (got $RC) and nothing listens on $port"
done

# A port that is taken: exit 1 (not a configuration error) naming the address, not a hang.
python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(30)' > "$d/holder.port" &
holder=$!
LF_PIDS="$LF_PIDS $holder"
lf_wait_for 50 -s "$d/holder.port"
hport=$(cat "$d/holder.port")
lf_run inuse -c "$good" -l "127.0.0.1:$hport"
WANT=1 expect_fail inuse "a start on a port in use" "127.0.0.1:$hport" "in use"
kill "$holder"
wait "$holder" 2>/dev/null
lf_forget "$holder"

# -t validates without binding or serving.
lf_run check -t -c "$good" -l "127.0.0.1:$port"
[ $RC -eq 0 ] && lf_refused "$port"
lf_ok $? "-t exits at once (got $RC) and never listens"

# A control byte in a bad value is printed escaped, never raw.
printf '[server]\nmode = \033]0;pwned\007\n' > "$d/esc.ini"
lf_run esc -t -c "$d/esc.ini"
expect_fail esc "-t on a value with ESC" "esc.ini:2: key 'mode': value '\x1b]0;pwned\x07'"
! grep -q "$(printf '\033')" "$d/esc.out" "$d/esc.err"
lf_ok $? "-t on a value with ESC: no raw ESC on stdout or stderr"

# -d logs each connection's accept, request line and status, and close;
# without -d none of it.
# debug_requests: a keep-alive GET, then a malformed request with an ESC.
debug_requests()
{
	python3 -c 'import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), 5)
s.sendall(b"GET /cpu?n=10 HTTP/1.1\r\nHost: t\r\n\r\n")
got = b""
while b"primes" not in got:
    d = s.recv(4096)
    if not d:
        break
    got += d
s.close()
s = socket.create_connection(("127.0.0.1", port), 5)
s.sendall(b"GET /\x1b[2J HTTP/1.1\r\nHost: t\r\n\r\n")
while s.recv(4096):
    pass
s.close()' "$LF_PORT"
}
for debug in -d ""; do
	# shellcheck disable=SC2086
	if lf_start "$good" $debug; then
		debug_requests
		lf_ok $? "${debug:-no -d}: the requests were answered"
		sleep 0.3
		lf_stop "${debug:-no -d}"
		log=$LF_LOG
		if [ -n "$debug" ]; then
			grep -Eq 'connection [0-9]+: accepted from 127\.0\.0\.1 port [0-9]+' "$log" &&
			grep -Eq 'connection [0-9]+: "GET /cpu\?n=10 HTTP/1\.1" 200' "$log" &&
			grep -Eq 'connection [0-9]+: closed' "$log" &&
			grep -Eq 'connection [0-9]+: bad request ".*" 400' "$log"
			lf_ok $? "-d: accept, request line with status 200, the 400, close are logged"
			grep -qF '\x1b[2J' "$log" && ! grep -q "$(printf '\033')" "$log"
			lf_ok $? "-d: the client's ESC is logged escaped, never raw"
		else
			! grep -Eq 'connection [0-9]+: (accepted|closed|")' "$log"
			lf_ok $? "without -d: no per-connection lines"
		fi
		[ "$TAP_FAIL" -eq 0 ] || lf_diag "$log"
	else
		lf_ok 1 "the server starts with '$debug'"
	fi
done

# workers = 0 and reactors = 0 count the CPUs of the affinity mask (taskset,
# CPUAffinity=), not every online CPU: pinned to CPU 0, one worker.
allcpus=$(nproc --all 2>/dev/null || echo 1)
if command -v taskset > /dev/null && [ "$allcpus" -ge 2 ] &&
    taskset -pc 0 $$ > /dev/null; then
	printf '[server]\nmode = lockfree\nworkers = 0\nreactors = 0\n' \
	    > "$LF_TMP/auto.ini"
	if lf_start "$LF_TMP/auto.ini"; then
		grep -q 'mode=lockfree workers=1 reactors=1 ' "$LF_LOG"
		lf_ok $? "pinned to one of $allcpus CPUs: workers = 0 means 1 worker, 1 reactor"
		lf_stop "pinned to one CPU"
	else
		lf_ok 1 "the server starts pinned to one CPU"
	fi
	taskset -pc "0-$((allcpus - 1))" $$ > /dev/null
else
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP workers = 0 under taskset: one CPU or no taskset"
fi

lf_done

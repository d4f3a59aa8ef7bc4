#!/bin/sh
# test_static.sh - static files end to end (tests/static_itest.py): sizes
# from memory and from disk (sendfile, past the old 64 MiB limit), a file
# replaced mid-send, ranges, the directory redirect, validators,
# Cache-Control, precompressed variants, Content-Types, dotfiles behind
# symlinks, changes seen without a reload (inotify), and the memory and
# timeouts of clients that do not read (issue 8, defect 2), in the lockfree
# and thread-per-connection engines. About 40 s on two cores.

. "${srcdir:-.}/tests/lib.sh"
lf_init
ST_ITEST=$LF_SRCDIR/tests/static_itest.py
www=$LF_TMP/www
python3 "$ST_ITEST" mkdocroot "$www" || exit 1

# st_py ARGS: lf_py with static_itest.py
st_py()
{
	_save=$LF_ITEST
	LF_ITEST=$ST_ITEST
	lf_py "$@"
	_rc=$?
	LF_ITEST=$_save
	return $_rc
}
printf 'application/x-lfserver-custom\tcustom\ntext/x-not-html html\n' \
    > "$LF_TMP/mime.types"
cat > "$LF_TMP/routes.conf" <<EOR
routes = (
	{ path = "/stats"; handler = "stats"; },
	{ path = "/assets"; handler = "static"; prefix = true;
	  docroot = "$www"; cache_control = "public, max-age=31536000, immutable"; },
	{ path = "/"; handler = "static"; prefix = true; }
);
EOR

# ini MODE MEMORY_MAX WATCH
ini()
{
	cat > "$LF_TMP/static.ini" <<EOI
[server]
mode = $1
workers = 2
docroot = $www
routes = $LF_TMP/routes.conf
request_timeout = 2
keepalive_timeout = 5
cache_control = public, max-age=60
mime_types = $LF_TMP/mime.types
static_memory_max = $2
docroot_watch = $3
[stats]
interval = 0
EOI
}

for MODE in lockfree thread-per-connection; do
	echo "# $MODE: every static case, static_memory_max 262144, watching"
	ini "$MODE" 262144 yes
	if lf_start "$LF_TMP/static.ini"; then
		st_py cases --port "$LF_PORT" --pid "$LF_PID" --docroot "$www" \
		    --mode "$MODE" --cache-control --watch
		lf_stop
	else
		lf_ok 1 "$MODE: the server starts"
	fi
done

echo "# lockfree: the 8 MiB file in memory (by reference), not watching"
ini lockfree 16777216 no
if lf_start "$LF_TMP/static.ini"; then
	st_py memory --port "$LF_PORT" --pid "$LF_PID" --docroot "$www" \
	    --memory-max 16777216
	lf_stop
else
	lf_ok 1 "lockfree: the server starts"
fi
echo "# a file created while not watching waits for a reload"
if lf_start "$LF_TMP/static.ini"; then
	echo new > "$www/after.txt"
	sleep 1
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import itest
r = itest.fetch(int(sys.argv[2]), "/after.txt"); sys.exit(r.status != 404)' \
	    "$LF_SRCDIR/tests" "$LF_PORT"
	lf_ok $? "docroot_watch = no: a new file is 404 before the reload"
	kill -HUP "$LF_PID"
	python3 -c 'import sys, time; sys.path.insert(0, sys.argv[1]); import itest
ok = itest.wait_for(lambda: itest.fetch(int(sys.argv[2]), "/after.txt").status == 200, 10)
sys.exit(0 if ok else 1)' "$LF_SRCDIR/tests" "$LF_PORT"
	lf_ok $? "and served after SIGHUP"
	rm -f "$www/after.txt"
	lf_stop
else
	lf_ok 1 "lockfree: the server starts"
fi
lf_done

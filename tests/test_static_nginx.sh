#!/bin/sh
# test_static_nginx.sh - the same docroot served by lfserver and by nginx
# (sendfile on, absolute_redirect off), the same requests to both: status,
# Content-Length, Content-Range, Content-Type (the media type: lfserver adds
# charset=utf-8 to text types, nginx only with its charset directive) and
# the body must agree, for plain GET and HEAD, files in memory and on disk,
# ranges, conditionals, directories and missing files
# (tests/static_itest.py nginx). Several ranges are left out: nginx answers
# multipart/byteranges, lfserver 200 with the whole file (documented).
# Skips when nginx is not installed. About 5 s.

. "${srcdir:-.}/tests/lib.sh"
lf_init
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$NGINX" ]; then
	echo "SKIP: nginx not installed (apt-get install nginx-light)"
	exit 77
fi
ST_ITEST=$LF_SRCDIR/tests/static_itest.py
www=$LF_TMP/www
python3 "$ST_ITEST" mkdocroot "$www" || exit 1
# nginx serves dotfiles; they are not compared
rm -f "$www/.env" "$www/envlink"

NG_PORT=$(lf_free_port) || exit 1
mkdir -p "$LF_TMP/ng"
mime=/etc/nginx/mime.types
[ -r "$mime" ] || { echo "SKIP: $mime not found"; exit 77; }
cat > "$LF_TMP/ng/nginx.conf" <<EON
daemon off;
master_process off;
worker_processes 1;
pid $LF_TMP/ng/nginx.pid;
error_log $LF_TMP/ng/error.log;
events { worker_connections 64; }
http {
	include $mime;
	default_type application/octet-stream;
	sendfile on;
	access_log off;
	absolute_redirect off;
	server_tokens off;
	client_body_temp_path $LF_TMP/ng/body;
	proxy_temp_path $LF_TMP/ng/proxy;
	fastcgi_temp_path $LF_TMP/ng/fastcgi;
	uwsgi_temp_path $LF_TMP/ng/uwsgi;
	scgi_temp_path $LF_TMP/ng/scgi;
	server {
		listen 127.0.0.1:$NG_PORT;
		root $www;
		index index.html;
		# what itest.py's wait polls
		location = /stats { return 200 "{}"; }
	}
}
EON
"$NGINX" -p "$LF_TMP/ng" -c "$LF_TMP/ng/nginx.conf" > "$LF_TMP/ng/out.log" 2>&1 &
NG_PID=$!
LF_PIDS="$LF_PIDS $NG_PID"
if ! python3 "$LF_SRCDIR/tests/itest.py" wait --port "$NG_PORT" --pid "$NG_PID" \
    --timeout 10; then
	echo "SKIP: nginx did not start:"
	tail -n 5 "$LF_TMP/ng/out.log" "$LF_TMP/ng/error.log" 2>/dev/null |
	    sed 's/^/#   /'
	exit 77
fi

cat > "$LF_TMP/static.ini" <<EOI
[server]
mode = lockfree
workers = 2
docroot = $www
static_memory_max = 262144
[stats]
interval = 0
EOI
if lf_start "$LF_TMP/static.ini"; then
	_save=$LF_ITEST
	LF_ITEST=$ST_ITEST
	lf_py nginx --port "$LF_PORT" --nginx-port "$NG_PORT"
	LF_ITEST=$_save
	lf_stop
else
	lf_ok 1 "lfserver starts"
fi
kill -TERM "$NG_PID"
lf_wait_exit "$NG_PID" 10
lf_done

# lib.sh - a booted systemd in a systemd-nspawn container, for the tests
# that need one, test_nspawn.sh and test_deb.sh (sourced, never run). The
# recipe (see /work/shared/systemd-testing.md): a minbase Debian rootfs
# built once with mmdebstrap and cached, keyed by its package list; an
# overlay per run so that each run starts clean; a oneshot unit that runs
# the test script and powers the container off with its result.
#
# One package list, so the tests share one cached rootfs. Environment:
# LF_CI_CACHE, LF_CI_MIRROR, LF_CI_KEEP and LF_CI_NO_CONTAINER, as in
# test_nspawn.sh.
#
# A test sets top_srcdir, sources this file, calls nspawn_require, then
# nspawn_rootfs, nspawn_overlay (which sets $nspawn_root), installs its
# files into $nspawn_root and calls nspawn_boot UNIT.

NSPAWN_SUITE=bookworm
# What lfserver's package pulls in (libsystemd0, libinih1, libconfig9) and
# what the tests drive it with; not procps: ExecReload= is "lfserver
# --reload", the unit must not need /bin/kill.
NSPAWN_PKGS=systemd,systemd-sysv,dbus,curl,libinih1,libconfig9
NSPAWN_CACHE=${LF_CI_CACHE:-/var/cache/lfserver-ci}

nspawn_work=
nspawn_root=
nspawn_t0=$(date +%s)

skip() { echo "SKIP: $*"; exit 77; }
say() { echo "# $*"; }
fail() { echo "FAIL: $*"; exit 1; }
nspawn_elapsed() { echo "$(($(date +%s) - nspawn_t0)) s"; }

# nspawn_require: skips (77) when no container can boot here.
nspawn_require()
{
	[ -z "${LF_CI_NO_CONTAINER:-}" ] ||
	    skip "LF_CI_NO_CONTAINER is set (a package build: debian/rules)"
	[ "$(id -u)" = 0 ] || skip "needs root (systemd-nspawn, overlay mount)"
	for _t in systemd-nspawn mmdebstrap journalctl; do
		command -v $_t >/dev/null 2>&1 ||
		    skip "$_t not found (apt-get install systemd-container mmdebstrap)"
	done
	nspawn_mirror=${LF_CI_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' \
	    /etc/apt/sources.list.d/debian.sources 2>/dev/null)}
	nspawn_mirror=${nspawn_mirror:-http://deb.debian.org/debian}
	# The rootfs is named after what it holds, so a changed package list
	# builds a new one instead of reusing a stale one.
	_hash=$(printf '%s %s\n' "$NSPAWN_SUITE" "$NSPAWN_PKGS" |
	    sha256sum | cut -c1-16)
	nspawn_rootfs=$NSPAWN_CACHE/rootfs-$_hash
	trap nspawn_cleanup EXIT
	trap 'exit 1' INT TERM
}

# nspawn_rootfs: makes sure the cached rootfs exists; 1 when mmdebstrap
# fails, a skip when the mirror cannot be reached.
nspawn_rootfs()
{
	mkdir -p "$NSPAWN_CACHE" || return 1
	# One builder at a time (make check and distcheck may run together).
	exec 9>"$NSPAWN_CACHE/lock"
	flock 9
	if [ ! -d "$nspawn_rootfs" ]; then
		if ! curl -sf --max-time 15 -o /dev/null \
		    "$nspawn_mirror/dists/$NSPAWN_SUITE/Release"; then
			exec 9>&-
			skip "cannot build the rootfs: $nspawn_mirror is not reachable"
		fi
		say "building $nspawn_rootfs (about a minute, once)"
		_partial=$NSPAWN_CACHE/partial-${nspawn_rootfs##*-}.$$
		rm -rf "$_partial"
		if ! mmdebstrap -q --variant=minbase --include="$NSPAWN_PKGS" \
		    "$NSPAWN_SUITE" "$_partial" "$nspawn_mirror" \
		    > "$NSPAWN_CACHE/mmdebstrap.log" 2>&1
		then
			tail -20 "$NSPAWN_CACHE/mmdebstrap.log"
			rm -rf "$_partial"
			exec 9>&-
			return 1
		fi
		# A rootfs appears only complete: a crash leaves a partial-*.
		mv "$_partial" "$nspawn_rootfs" || return 1
	fi
	exec 9>&-
	say "rootfs $nspawn_rootfs ready ($(nspawn_elapsed))"
}

# nspawn_overlay NAME: makes the run's work directory $nspawn_work and the
# container's root $nspawn_root, an overlay over the cached rootfs.
nspawn_overlay()
{
	nspawn_work=$(mktemp -d "/var/tmp/lfserver-$1.XXXXXX") || return 1
	mkdir "$nspawn_work/upper" "$nspawn_work/ovl" "$nspawn_work/root"
	nspawn_root=$nspawn_work/root
	if ! mount -t overlay overlay -o "lowerdir=$nspawn_rootfs,upperdir=$nspawn_work/upper,workdir=$nspawn_work/ovl" \
	    "$nspawn_root" 2>/dev/null; then
		say "overlay mount failed; copying the rootfs"
		rmdir "$nspawn_root"
		cp -a "$nspawn_rootfs" "$nspawn_root" || return 1
	fi
	mkdir -p "$nspawn_root/var/log/journal"	# persistent, for nspawn_journal
}

nspawn_cleanup()
{
	[ -n "$nspawn_work" ] || return
	if [ -n "${LF_CI_KEEP:-}" ]; then
		say "kept $nspawn_work (umount $nspawn_root; rm -rf $nspawn_work)"
		return
	fi
	if mountpoint -q "$nspawn_root"; then
		umount "$nspawn_root" || umount -l "$nspawn_root" || return
	fi
	rm -rf "$nspawn_work"
}

# nspawn_boot UNIT PREFIX [NSPAWN-OPTION...]: boots the container, which
# starts UNIT and powers off with its result; prints the console lines that
# start with PREFIX (the test script's steps). Its status is the
# container's: 0 when UNIT succeeded. The container may run $nspawn_timeout
# seconds (240 unless the test sets it).
nspawn_boot()
{
	_unit=$1 _prefix=$2
	shift 2
	say "booting the container"
	timeout "${nspawn_timeout:-240}" systemd-nspawn -q -D "$nspawn_root" \
	    -b --register=no --keep-unit --private-network "$@" \
	    systemd.wants="$_unit" systemd.show_status=no </dev/null \
	    > "$nspawn_work/console.log" 2>&1
	_rc=$?
	# The console prefixes the script's lines with "sh[PID]: ".
	sed -n "s/^\(.*\]: \)\{0,1\}\($_prefix.*\)\$/\2/p" "$nspawn_work/console.log"
	say "container exited with $_rc ($(nspawn_elapsed))"
	return $_rc
}

# nspawn_journal UNIT...: the last lines of the container's journal for UNITs.
nspawn_journal()
{
	_u=
	for _x in "$@"; do _u="$_u -u $_x"; done
	# shellcheck disable=SC2086 # one word per option
	journalctl -D "$nspawn_root/var/log/journal" --no-pager \
	    -o short-monotonic $_u 2>&1 | tail -80
}

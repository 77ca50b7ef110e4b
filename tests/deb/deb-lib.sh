# The packages `make deb` built (in DEB_DIR), unpacked with dpkg -x into
# scratch roots under BED_TMP: $lib_root holds libpcap0.8 alone (the
# plugin package absent or removed), $plugin_root libpcap0.8 and
# libpcap-plugin-ring (both installed).  Sets libdir, the library's
# directory on the system (/usr/lib/<multiarch>), and plugindir.  Skips
# without the packages; needs root and the bed.  Sourced after
# lib/common.sh and lib/netns.sh.
arch=$(dpkg --print-architecture 2>/dev/null) || skip "needs dpkg (Debian)"
lib_deb= plugin_deb=
for f in "${DEB_DIR:-/nonexistent}"/libpcap0.8_*+pcapring*_"$arch".deb; do
	[ -f "$f" ] && lib_deb=$f
done
for f in "${DEB_DIR:-/nonexistent}"/libpcap-plugin-ring_*_"$arch".deb; do
	[ -f "$f" ] && plugin_deb=$f
done
[ -n "$lib_deb" ] && [ -n "$plugin_deb" ] ||
	skip "no libpcap0.8 and libpcap-plugin-ring .debs in ${DEB_DIR:-DEB_DIR unset}: run 'make deb' first"
echo "testing $lib_deb and $plugin_deb"

require_root
need tcpdump tcpdump test -x "${TCPDUMP:-}"
need "unshare(1)" util-linux command -v unshare
bed_setup

lib_root=$BED_TMP/lib-root
plugin_root=$BED_TMP/plugin-root
dpkg -x "$lib_deb" "$lib_root" || fail "dpkg -x $lib_deb"
dpkg -x "$lib_deb" "$plugin_root" && dpkg -x "$plugin_deb" "$plugin_root" ||
	fail "dpkg -x $lib_deb $plugin_deb"
libdir=$(find "$lib_root" -name libpcap.so.0.8 | head -n 1)
[ -n "$libdir" ] || fail "$lib_deb holds no libpcap.so.0.8"
libdir=${libdir%/libpcap.so.0.8}
libdir=${libdir#"$lib_root"}
plugindir=$libdir/pcap/plugins
[ -f "$plugin_root$plugindir/pcap-ring.so" ] ||
	fail "$plugin_deb holds no $plugindir/pcap-ring.so"
[ ! -e "$libdir/pcap" ] || skip "$libdir/pcap exists on this machine: the tests would not see the packages alone"

# installed ROOT CMD...: CMD sees the files of ROOT's $libdir installed
# over the system's: a private mount namespace (unshare -m) where a
# read-only overlay puts them on top of $libdir.  The library then loads
# from the path the dynamic linker's cache names and looks for plugins in
# the directory it was configured with, as after apt install, and the
# host sees none of it.  ROOT - for the system as it is.  The shell execs
# CMD, so that a background CMD's pid is its own.
installed_sh='mount -t overlay pcap-ring-deb -o "lowerdir=$1$2:$2" "$2" && shift 2 && exec "$@"'
installed() {
	_root=$1
	shift
	if [ "$_root" = - ]; then
		"$@"
	else
		unshare -m sh -c "$installed_sh" sh "$_root" "$libdir" "$@"
	fi
}

# A kernel without overlayfs, or a container that refuses mounts, cannot
# run these tests; under CI that is a failure.
err=$(unshare -m sh -c "$installed_sh" sh "$lib_root" "$libdir" true 2>&1) || {
	in_ci && fail "cannot lay the packages over $libdir: $err"
	skip "needs an overlay mount in a private mount namespace (unshare -m): $err"
}

# capture ROOT TOOL NAME DEV: unchanged tcpdump or dumpcap (TOOL), with
# ROOT installed, captures on DEV in $NS_B the $count frames ring-gen
# sends from $VETH_A, traced; its log is $BED_TMP/NAME.log (the file's name left out, so that
# logs compare), its file $BED_TMP/NAME.pcap, its trace
# $BED_TMP/NAME.trace; $bytes is what the generator sent.  A lost frame
# fails the test rather than hanging it: hence the timeout.
count=2000
capture() {
	_file=$BED_TMP/$3.pcap
	case $2 in
	tcpdump) set -- "$1" "$3" "$TCPDUMP" -i "$4" -c $count -w "$_file" ;;
	dumpcap) set -- "$1" "$3" "$DUMPCAP" -i "$4" -c $count -w "$_file" ;;
	*) fail "capture: unknown tool $2" ;;
	esac
	_root=$1 _name=$2
	shift 2
	set -- ip netns exec "$NS_B" env PCAP_RING_TRACE="$BED_TMP/$_name.trace" \
		timeout --foreground 30 "$@"
	[ "$_root" = - ] || set -- unshare -m sh -c "$installed_sh" sh "$_root" "$libdir" "$@"
	bed_bg "$@" > "$BED_TMP/$_name.raw" 2>&1
	_cap=$BG_PID
	wait_for_listening "$BED_TMP/$_name.raw"
	sent=$(in_a env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_A" -n $count) ||
		fail "ring-gen: $sent"
	assert_match "generator" "^sent $count frames [0-9]+ bytes$" "$sent"
	bytes=$(echo "$sent" | awk '{print $4}')
	wait "$_cap" ||
		fail "$_name did not capture $count frames in 30 s: $(cat "$BED_TMP/$_name.raw")"
	sed "s|$_file|FILE|" "$BED_TMP/$_name.raw" > "$BED_TMP/$_name.log"
}

# assert_frames WHAT NAME: the capture file holds exactly the frames sent.
assert_frames() {
	_check=$(env $(tool_env ring) "$TOOLS/ring-cap" -R "$BED_TMP/$2.pcap" -n $count 2>&1) ||
		fail "$1: frames differ: $_check"
	assert_eq "$1: frames in the file" \
		"frames $count bytes $bytes first 0 last $((count - 1)) dup 0 reorder 0 bad 0 other 0" "$_check"
}

# The libpcap0.8 package `make deb` built (in DEB_DIR), unpacked with
# dpkg -x into a scratch root: sets deb, root and libdir, the directory
# of its libpcap.so.0.8.  Skips without a package; needs root and the bed
# (it unpacks into BED_TMP).  Sourced after lib/common.sh and lib/netns.sh.
arch=$(dpkg --print-architecture 2>/dev/null) || skip "needs dpkg (Debian)"
deb=
for f in "${DEB_DIR:-/nonexistent}"/libpcap0.8_*+pcapring*_"$arch".deb; do
	[ -f "$f" ] && deb=$f
done
[ -n "$deb" ] || skip "no libpcap0.8 .deb in ${DEB_DIR:-DEB_DIR unset}: run 'make deb' first"
echo "testing $deb"

require_root
need tcpdump tcpdump test -x "${TCPDUMP:-}"
bed_setup

root=$BED_TMP/root
dpkg -x "$deb" "$root" || fail "dpkg -x $deb"
libdir=$(dirname "$(find "$root" -name libpcap.so.0.8 | head -n 1)")
[ -e "$libdir/libpcap.so.0.8" ] || fail "$deb holds no libpcap.so.0.8"

# libpcap's CMake build of the patched tree loads no plugins, but
# installs pcap/pcap-plugin.h: it must export the
# functions that header declares, as the configure build does, publish
# plugindir in libpcap.pc, and install no template (*.in) with the
# headers.
. "$TESTSRCDIR/lib/common.sh"

need cmake cmake command -v cmake
need "nm" binutils command -v nm

work=$(mktemp -d /tmp/pcap-ring-cmake.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -R "$PRISTINE_TREE" "$work/tree" || fail "copying $PRISTINE_TREE"
while read -r patch; do
	case "$patch" in ''|'#'*) continue ;; esac
	patch -d "$work/tree" -p1 -F0 -N -s --no-backup-if-mismatch \
		< "$PATCHES/$patch" || fail "$patch does not apply"
done < "$PATCHES/series"
{
	cmake -S "$work/tree" -B "$work/build" -DCMAKE_INSTALL_PREFIX=/usr &&
		cmake --build "$work/build" -j 2 &&
		DESTDIR="$work/stage" cmake --install "$work/build"
} > "$work/build.log" 2>&1 || {
	tail -n 30 "$work/build.log"
	fail "the CMake build failed"
}
echo "ok: libpcap $LIBPCAP_VERSION built and installed with CMake"

include=$work/stage/usr/include
[ -f "$include/pcap/pcap-plugin.h" ] || fail "no pcap/pcap-plugin.h installed"
templates=$(cd "$include" && find . -name '*.in')
assert_eq "templates installed with the headers" "" "$templates"

lib=$(find "$work/stage" -name 'libpcap.so.*.*' -type f | head -n 1)
[ -n "$lib" ] || fail "no shared library installed"
header_functions "$include/pcap/pcap-plugin.h" > "$work/declared"
[ -s "$work/declared" ] || fail "no PCAP_API function in pcap/pcap-plugin.h"
nm -D --defined-only "$lib" | awk '$3 ~ /^pcap_plugin_/ { print $3 }' |
	sed 's/@.*//' | LC_ALL=C sort -u > "$work/exported"
assert_eq "pcap_plugin_* exported as declared" "$(cat "$work/declared")" "$(cat "$work/exported")"

pc=$(find "$work/stage" -name libpcap.pc | head -n 1)
[ -n "$pc" ] || fail "no libpcap.pc installed"
assert_eq "plugindir in libpcap.pc" 'plugindir="${libdir}/pcap/plugins"' \
	"$(grep '^plugindir=' "$pc")"

# make install honours DESTDIR and installs what upstream's install does:
# the shared and static library, headers, pcap-config, libpcap.pc and man
# pages, all from the ring build, and pcap-ring.so in the directory that
# library loads plugins from (libpcap.pc's plugindir).
. "$TESTSRCDIR/lib/common.sh"

dest=$(mktemp -d /tmp/pcap-ring-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
make -C "$BUILDDIR" install DESTDIR="$dest" > "$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; fail "make install"; }
rm -f "$dest.log"
prefix=$(sed -n 's/^prefix="*\([^"]*\)"*$/\1/p' "$BUILDDIR/libpcap-$LIBPCAP_VERSION-ring/libpcap.pc")
[ -n "$prefix" ] || fail "no prefix in libpcap.pc"
for f in lib/libpcap.so lib/libpcap.a include/pcap/pcap.h include/pcap.h \
    include/pcap/ring-config.h \
    bin/pcap-config lib/pkgconfig/libpcap.pc share/man/man3/pcap.3pcap \
    share/man/man7/pcap-ring.7; do
	[ -e "$dest$prefix/$f" ] || fail "missing $prefix/$f under DESTDIR"
done
echo "ok: library, headers, pcap-config, libpcap.pc and man pages (pcap-ring(7) too) under DESTDIR$prefix"
lib=$(readlink -f "$dest$prefix/lib/libpcap.so")
need "nm" binutils command -v nm
nm -D --defined-only "$lib" | grep -q ' T pcap_set_tx_batch$' ||
	fail "installed $lib is not the ring build (no pcap_set_tx_batch)"
echo "ok: the installed library is the ring build"

# The plugin interface (patches/0001, 0002): its header and man page, and
# libpcap.pc's plugindir, which names the directory the library loads
# plugins from.
for f in include/pcap/pcap-plugin.h share/man/man3/pcap_plugin.3pcap; do
	[ -e "$dest$prefix/$f" ] || fail "missing $prefix/$f under DESTDIR"
done
echo "ok: pcap/pcap-plugin.h and pcap_plugin(3PCAP) installed"
need "pkg-config(1)" pkgconf command -v pkg-config
plugindir=$(PKG_CONFIG_PATH="$dest$prefix/lib/pkgconfig" pkg-config --variable=plugindir libpcap)
assert_eq "libpcap.pc plugindir is where the ring build loads plugins from" \
	"$(sed -n 's/^plugindir="*\([^"]*\)"*$/\1/p' "$BUILDDIR/libpcap-$LIBPCAP_VERSION-ring/libpcap.pc")" "$plugindir"
strings "$lib" | grep -qx "$plugindir" ||
	fail "the installed library does not load plugins from $plugindir"
echo "ok: the library loads plugins from $plugindir"
cmp "$RING_PLUGIN" "$dest$plugindir/pcap-ring.so" ||
	fail "make install did not put pcap-ring.so in DESTDIR$plugindir"
echo "ok: pcap-ring.so installed in DESTDIR$plugindir"
[ -z "$(find "$dest" -path "$dest$prefix" -prune -o -path "$dest$plugindir/pcap-ring.so" -prune -o -type f -print)" ] ||
	fail "files installed outside the prefix and the plugin directory"
echo "ok: nothing installed outside DESTDIR$prefix but the plugin"

# Without DESTDIR, the plugin is where the library loads it from already
# when that is the build directory (the default): nothing to copy onto
# itself, and the build's file stays.
if [ "$plugindir" = "$(dirname "$RING_PLUGIN")" ]; then
	before=$(sha256sum < "$RING_PLUGIN")
	make -C "$BUILDDIR" install-plugin DESTDIR= > "$dest/plugin.log" 2>&1 ||
		fail "make install-plugin without DESTDIR: $(cat "$dest/plugin.log")"
	assert_eq "pcap-ring.so unchanged by make install-plugin without DESTDIR" "$before" "$(sha256sum < "$RING_PLUGIN")"
fi

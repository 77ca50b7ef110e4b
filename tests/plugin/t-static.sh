# A program linked with the ring build's static libpcap.a exports none of
# libpcap's functions, so that no plugin could resolve them: the loader
# then loads none, quietly, and the program runs on libpcap's own capture
# sources, as with stock ("ring:<ifname>" is no device there).  Linked
# with -rdynamic, the same program captures through pcap-ring.so.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
[ "${SANITIZERS:-0}" = 0 ] ||
	skip "the sanitizer build's libpcap.a needs its runtimes linked first; the plain build runs this"
have "a C compiler" gcc ${CC:-cc} --version || skip "needs a C compiler"
need "pkg-config(1)" pkgconf command -v pkg-config
[ -f "$RING_LIBDIR/libpcap.a" ] || fail "no $RING_LIBDIR/libpcap.a"
bed_setup

# libpcap.a and what it needs, as its libpcap.pc says.
libs=$(PKG_CONFIG_PATH=$RING_LIBDIR/pkgconfig pkg-config --static --libs-only-l libpcap |
	sed "s|-lpcap|$RING_LIBDIR/libpcap.a|")
build() {
	${CC:-cc} -std=gnu99 -I"$RING_INCLUDE" -I"$TOP_SRCDIR/tests/tools" \
		"$@" "$TOP_SRCDIR/tests/tools/plugin-probe.c" $libs -ldl > "$BED_TMP/cc.log" 2>&1 ||
		fail "building plugin-probe with libpcap.a: $(cat "$BED_TMP/cc.log")"
}
build -o "$BED_TMP/probe-static"
build -rdynamic -o "$BED_TMP/probe-rdynamic"
# Nothing of libpcap in the dynamic symbol table, or everything.
need nm binutils command -v nm
assert_eq "probe-static exports no pcap_plugin_ function" 0 \
	"$(nm -D --defined-only "$BED_TMP/probe-static" | grep -c ' pcap_plugin_')"

run() {
	in_a env $(trace_env "$BED_TMP/$1.trace") "$2" open "ring:$VETH_A" 2>&1
}
stock=$(in_a env $(tool_env stock) "$TOOLS/plugin-probe" open "ring:$VETH_A" 2>&1)
assert_match "stock has no ring: device" "No such device" "$stock"
static=$(run static "$BED_TMP/probe-static")
assert_eq "libpcap.a without -rdynamic: stock's answer, and nothing said" "$stock" "$static"
assert_untraced "libpcap.a without -rdynamic" "$BED_TMP/static.trace"
rdynamic=$(run rdynamic "$BED_TMP/probe-rdynamic")
assert_eq "libpcap.a with -rdynamic: pcap-ring opens ring:$VETH_A" \
	"opened ring:$VETH_A datalink 1" "$rdynamic"
assert_claimed "libpcap.a with -rdynamic" "$BED_TMP/rdynamic.trace" "ring:$VETH_A"

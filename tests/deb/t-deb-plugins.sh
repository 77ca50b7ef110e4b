# The libpcap0.8 package `make deb` builds loads capture source plugins
# (configured with --enable-plugins), installed as in deb-lib.sh: an
# unchanged tcpdump lists the test plugin's device when PCAP_PLUGIN_DIR
# names the plugin's directory, and lists exactly what it lists with the
# system's stock libpcap when it names none.  A plugin of a wrong ABI
# version in the package's plugin directory costs nothing but a line on
# the standard error: tcpdump lists and captures as with stock.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/deb/deb-lib.sh"

mkdir "$BED_TMP/plugins" && cp "$PLUGINS/pcap-plugtest.so" "$BED_TMP/plugins/" &&
	chmod -R go-w "$BED_TMP/plugins" || fail "copying the plugin"

# list ROOT ENV...: tcpdump -D in $NS_A with ROOT installed, in ENV;
# its standard error in $BED_TMP/list.err.
list() {
	_root=$1
	shift
	installed "$_root" ip netns exec "$NS_A" env -u PCAP_PLUGIN_DIR "$@" \
		"$TCPDUMP" -D 2> "$BED_TMP/list.err"
}

stock=$(list -) || fail "tcpdump -D with the system's libpcap: $stock"
out=$(list "$lib_root" PCAP_PLUGIN_DIR="$BED_TMP/plugins") ||
	fail "tcpdump -D with the plugin: $out"
assert_eq "plugtest0 listed once" 1 "$(printf '%s\n' "$out" | grep -c '^[0-9]*\.plugtest0 ')"
assert_eq "$VETH_A listed once" 1 "$(printf '%s\n' "$out" | grep -c "^[0-9]*\\.$VETH_A ")"
assert_eq "no message from the loader" "" "$(cat "$BED_TMP/list.err")"

out=$(list "$lib_root") || fail "tcpdump -D without the plugin: $out"
assert_eq "without PCAP_PLUGIN_DIR: the system libpcap's list" "$stock" "$out"

# The wrong-ABI test plugin installed beside the library, in the
# directory the package's libpcap was configured with.
bad_root=$BED_TMP/badabi-root
cp -a "$lib_root" "$bad_root" &&
	install -d -m 0755 "$bad_root$plugindir" &&
	install -m 0644 "$PLUGINS/pcap-plugtest-badabi.so" "$bad_root$plugindir/" ||
	fail "installing the wrong-ABI plugin"
skipped="libpcap: plugin $plugindir/pcap-plugtest-badabi.so skipped: ABI version 0x2; this libpcap loads version 1, alone or with PCAP_PLUGIN_ABI_EXTENDED"
out=$(list "$bad_root") || fail "tcpdump -D beside a wrong-ABI plugin: $out"
assert_eq "wrong-ABI plugin: the system libpcap's list" "$stock" "$out"
assert_eq "wrong-ABI plugin: one line on stderr" "$skipped" "$(cat "$BED_TMP/list.err")"

capture - tcpdump stock "$VETH_B"
capture "$bad_root" tcpdump badabi "$VETH_B"
assert_eq "wrong-ABI plugin: one line in tcpdump's output" 1 \
	"$(grep -cxF "$skipped" "$BED_TMP/badabi.log")"
assert_eq "wrong-ABI plugin: tcpdump's output as with stock, that line aside" \
	"$(cat "$BED_TMP/stock.log")" "$(grep -vxF "$skipped" "$BED_TMP/badabi.log")"
assert_frames "wrong-ABI plugin" badabi

# The two packages `make deb` builds, unpacked with dpkg -x and made to
# look installed to one process at a time (deb-lib.sh: a private mount
# namespace): with libpcap-plugin-ring installed beside libpcap0.8,
# unchanged tcpdump and dumpcap capture a plain interface name through
# pcap-ring (its trace says it claimed the device) and get exactly the
# frames a peer sent; with libpcap0.8 alone (the plugin package absent
# or removed) they print what they print with the system's stock
# libpcap, capture the same frames, and pcap-ring is never consulted.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/deb/deb-lib.sh"

# The packaged library, not the system's, is what the namespace shows.
installed "$plugin_root" cmp -s "$plugin_root$libdir/libpcap.so.0.8" "$libdir/libpcap.so.0.8" ||
	fail "the overlay does not show the packaged $libdir/libpcap.so.0.8"
! cmp -s "$plugin_root$libdir/libpcap.so.0.8" "$libdir/libpcap.so.0.8" ||
	fail "the system's libpcap.so.0.8 is the packaged one: nothing would tell them apart"
echo "ok: the namespace shows the packaged libpcap.so.0.8 at $libdir"

# The loader changes nothing a program prints about its library.
stock=$("$TCPDUMP" --version 2>&1)
v=$(installed "$plugin_root" "$TCPDUMP" --version 2>&1)
assert_eq "tcpdump --version with both packages" "$stock" "$v"

# Installed: pcap-ring takes the plain interface name.
capture "$plugin_root" tcpdump tcpdump-plugin "$VETH_B"
assert_claimed "tcpdump, plugin installed" "$BED_TMP/tcpdump-plugin.trace" "$VETH_B"
log=$(cat "$BED_TMP/tcpdump-plugin.log")
assert_match "tcpdump, plugin installed: captured" "^$count packets captured" "$log"
assert_match "tcpdump, plugin installed: dropped" "^0 packets dropped by kernel" "$log"
assert_frames "tcpdump, plugin installed" tcpdump-plugin

# Absent: exactly the system's stock libpcap.
capture "$lib_root" tcpdump tcpdump-noplugin "$VETH_B"
assert_untraced "tcpdump, plugin absent" "$BED_TMP/tcpdump-noplugin.trace"
capture - tcpdump tcpdump-stock "$VETH_B"
assert_eq "tcpdump, plugin absent: output of stock" \
	"$(cat "$BED_TMP/tcpdump-stock.log")" "$(cat "$BED_TMP/tcpdump-noplugin.log")"
assert_frames "tcpdump, plugin absent" tcpdump-noplugin

# "ring:<ifname>", a name only pcap-ring knows: with the plugin absent,
# or present and disabled, the same error as stock.
ring_name() {
	installed "$1" ip netns exec "$NS_B" env $2 PCAP_RING_TRACE="$BED_TMP/$3.trace" \
		"$TCPDUMP" -i "ring:$VETH_B" -c 1 -w /dev/null 2>&1
}
stock=$(ring_name - "" ring-stock)
assert_match "ring:$VETH_B on stock" "ring:$VETH_B: No such device exists" "$stock"
assert_eq "ring:$VETH_B, plugin absent" "$stock" "$(ring_name "$lib_root" "" ring-noplugin)"
assert_untraced "ring:$VETH_B, plugin absent" "$BED_TMP/ring-noplugin.trace"
assert_eq "ring:$VETH_B, plugin installed, PCAP_RING_DISABLE=1" "$stock" \
	"$(ring_name "$plugin_root" PCAP_RING_DISABLE=1 ring-disabled)"
assert_untraced "PCAP_RING_DISABLE=1" "$BED_TMP/ring-disabled.trace"

# Unchanged dumpcap too (a skipped case where Wireshark is missing).
if have dumpcap wireshark-common test -x "${DUMPCAP:-}"; then
	capture "$plugin_root" dumpcap dumpcap-plugin "$VETH_B"
	assert_claimed "dumpcap, plugin installed" "$BED_TMP/dumpcap-plugin.trace" "$VETH_B"
	assert_match "dumpcap, plugin installed: received/dropped" \
		"^Packets received/dropped on interface '$VETH_B': $count/0 " \
		"$(cat "$BED_TMP/dumpcap-plugin.log")"
	assert_frames "dumpcap, plugin installed" dumpcap-plugin

	capture "$lib_root" dumpcap dumpcap-noplugin "$VETH_B"
	assert_untraced "dumpcap, plugin absent" "$BED_TMP/dumpcap-noplugin.trace"
	capture - dumpcap dumpcap-stock "$VETH_B"
	assert_eq "dumpcap, plugin absent: output of stock" \
		"$(cat "$BED_TMP/dumpcap-stock.log")" "$(cat "$BED_TMP/dumpcap-noplugin.log")"
	assert_frames "dumpcap, plugin absent" dumpcap-noplugin
else
	skip_case "dumpcap through the packages: dumpcap (package wireshark-common) is not installed"
fi

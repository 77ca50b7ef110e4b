# The libpcap0.8 package that `make deb` builds loads capture source
# plugins (configured with --enable-plugins): unpacked into a scratch
# root with dpkg -x, an unchanged tcpdump lists the test plugin's device
# when PCAP_PLUGIN_DIR names the plugin's directory, and lists exactly
# what it lists with the system's stock libpcap when it names none.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/deb/deb-lib.sh"

mkdir "$BED_TMP/plugins" && cp "$PLUGINS/pcap-plugtest.so" "$BED_TMP/plugins/" &&
	chmod -R go-w "$BED_TMP/plugins" || fail "copying the plugin"

# tcpdump -D through the packaged library; PLUGIN_DIR - for none.
list() {
	if [ "$1" = - ]; then
		in_a env -u PCAP_PLUGIN_DIR LD_LIBRARY_PATH="$libdir" "$TCPDUMP" -D 2>&1
	else
		in_a env PCAP_PLUGIN_DIR="$1" LD_LIBRARY_PATH="$libdir" "$TCPDUMP" -D 2>&1
	fi
}

out=$(list "$BED_TMP/plugins") || fail "tcpdump -D with the plugin: $out"
assert_eq "plugtest0 listed once" 1 "$(printf '%s\n' "$out" | grep -c '^[0-9]*\.plugtest0 ')"
assert_eq "$VETH_A listed once" 1 "$(printf '%s\n' "$out" | grep -c "^[0-9]*\\.$VETH_A ")"
assert_eq "no message from the loader" 0 "$(printf '%s\n' "$out" | grep -c 'libpcap')"

stock=$(in_a env -u PCAP_PLUGIN_DIR -u LD_LIBRARY_PATH "$TCPDUMP" -D 2>&1) ||
	fail "tcpdump -D with the system's libpcap: $stock"
out=$(list -) || fail "tcpdump -D without the plugin: $out"
assert_eq "without PCAP_PLUGIN_DIR: the system libpcap's list" "$stock" "$out"

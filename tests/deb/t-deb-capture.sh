# The libpcap0.8 package that `make deb` builds from Debian's source
# package with the series: unpacked into a scratch root with dpkg -x, it
# makes unchanged tcpdump and dumpcap name pcap-ring and capture through
# it (as the module's trace shows) exactly the frames a peer sent.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/deb/deb-lib.sh"

# The sanitizer build's runtime is irrelevant here: the package is
# built without sanitizers.
pkg_env="LD_LIBRARY_PATH=$libdir"

v=$(env $pkg_env "$TCPDUMP" --version 2>&1)
assert_match "packaged library names pcap-ring" "libpcap version [0-9.]+ .*pcap-ring [0-9]" "$v"
loaded=$(env $pkg_env LD_TRACE_LOADED_OBJECTS=1 "$TCPDUMP" 2>&1 | grep 'libpcap\.so')
assert_match "tcpdump loads the packaged library" "=> $libdir/libpcap\.so\.0\.8" "$loaded"

# "ring:<ifname>" is a name only the module knows: stock pcap-linux
# would refuse it, so this capture goes through pcap-ring.
# A lost frame must fail the test, not hang it: hence the timeout.  (The
# count is not in "n", which wait_for_listening uses as its counter.)
count=2000
bed_bg in_b env $pkg_env $(trace_env "$BED_TMP/tcpdump.trace") timeout --foreground 30 \
	"$TCPDUMP" -i "ring:$VETH_B" -c $count -w "$BED_TMP/cap.pcap" > "$BED_TMP/tcpdump.log" 2>&1
cap=$BG_PID
wait_for_listening "$BED_TMP/tcpdump.log"
assert_claimed "tcpdump" "$BED_TMP/tcpdump.trace" "ring:$VETH_B"
sent=$(in_a env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_A" -n $count) || fail "ring-gen: $sent"
assert_match "generator" "^sent $count frames [0-9]+ bytes$" "$sent"
bytes=$(echo "$sent" | awk '{print $4}')
wait "$cap" || fail "tcpdump did not capture $count frames in 30 s: $(cat "$BED_TMP/tcpdump.log")"
log=$(cat "$BED_TMP/tcpdump.log")
assert_match "captured" "^$count packets captured" "$log"
assert_match "dropped" "^0 packets dropped by kernel" "$log"
check=$(env $(tool_env ring) "$TOOLS/ring-cap" -R "$BED_TMP/cap.pcap" -n $count 2>&1) || fail "frames differ: $check"
assert_eq "frames in the file" "frames $count bytes $bytes first 0 last $((count - 1)) dup 0 reorder 0 bad 0 other 0" "$check"

# Unchanged dumpcap too (a skipped case where Wireshark is missing).
if have dumpcap wireshark-common test -x "${DUMPCAP:-}"; then
	v=$(env $pkg_env "$DUMPCAP" -v 2>&1)
	assert_match "dumpcap runs with the packaged library" "with libpcap [0-9.]+ .*pcap-ring [0-9]" "$v"
	bed_bg in_b env $pkg_env $(trace_env "$BED_TMP/dumpcap.trace") timeout --foreground 30 \
		"$DUMPCAP" -q -i "ring:$VETH_B" -c $count \
		-w "$BED_TMP/dumpcap.pcapng" > "$BED_TMP/dumpcap.log" 2>&1
	cap=$BG_PID
	wait_for_listening "$BED_TMP/dumpcap.log"
	sent=$(in_a env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_A" -n $count) || fail "ring-gen: $sent"
	bytes=$(echo "$sent" | awk '{print $4}')
	wait "$cap" || fail "dumpcap did not capture $count frames in 30 s: $(cat "$BED_TMP/dumpcap.log")"
	assert_claimed "dumpcap" "$BED_TMP/dumpcap.trace" "ring:$VETH_B"
	check=$(env $(tool_env ring) "$TOOLS/ring-cap" -R "$BED_TMP/dumpcap.pcapng" -n $count 2>&1) ||
		fail "dumpcap's frames differ: $check ($(cat "$BED_TMP/dumpcap.log"))"
	assert_eq "frames in dumpcap's file" "frames $count bytes $bytes first 0 last $((count - 1)) dup 0 reorder 0 bad 0 other 0" "$check"
else
	skip_case "dumpcap through the package: dumpcap (package wireshark-common) is not installed"
fi

# Without the module the same name is unknown: the escape hatch works
# in the packaged library too.
out=$(in_b env PCAP_RING_DISABLE=1 $pkg_env $(trace_env "$BED_TMP/disabled.trace") \
	"$TCPDUMP" -i "ring:$VETH_B" -c 1 -w /dev/null 2>&1)
assert_match "PCAP_RING_DISABLE=1: stock handles the device" "ring:$VETH_B: No such device exists" "$out"
assert_untraced "PCAP_RING_DISABLE=1" "$BED_TMP/disabled.trace"

# tcpdump captures through pcap-ring exactly the frames a peer sent:
# 2000 frames of every kind and size from 60 to 1514 bytes, checked
# frame by frame (bytes, length and caplen), and its counters agree.
# The module's trace shows that pcap-ring took the interface.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
need tcpdump tcpdump test -x "${TCPDUMP:-}"
bed_setup

# A lost frame fails the test rather than hang it.
bed_bg in_b env $(lib_env ring) $(trace_env "$BED_TMP/trace") timeout --foreground 30 \
	"$TCPDUMP" -i "$VETH_B" -c 2000 -w "$BED_TMP/cap.pcap" > "$BED_TMP/tcpdump.log" 2>&1
cap=$BG_PID
wait_for_listening "$BED_TMP/tcpdump.log"
assert_claimed "tcpdump" "$BED_TMP/trace" "$VETH_B"
sent=$(in_a env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_A" -n 2000) || fail "ring-gen: $sent"
assert_match "generator" "^sent 2000 frames [0-9]+ bytes$" "$sent"
bytes=$(echo "$sent" | awk '{print $4}')
wait "$cap" || fail "tcpdump did not capture 2000 frames in 30 s: $(cat "$BED_TMP/tcpdump.log")"
log=$(cat "$BED_TMP/tcpdump.log")
assert_match "captured" "^2000 packets captured" "$log"
assert_match "received by filter" "^2000 packets received by filter" "$log"
assert_match "dropped" "^0 packets dropped by kernel" "$log"
check=$(env $(tool_env ring) "$TOOLS/ring-cap" -R "$BED_TMP/cap.pcap" -n 2000 2>&1) || fail "frames differ: $check"
assert_eq "frames in the file" "frames 2000 bytes $bytes first 0 last 1999 dup 0 reorder 0 bad 0 other 0" "$check"

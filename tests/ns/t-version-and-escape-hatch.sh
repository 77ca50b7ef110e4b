# Unchanged tcpdump loads the ring build and names pcap-ring; with
# PCAP_RING_DISABLE set the module is not consulted (its trace stays
# empty), so "ring:<ifname>" is an unknown device to stock pcap-linux.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
need tcpdump tcpdump test -x "${TCPDUMP:-}"

v=$(env $(lib_env ring) "$TCPDUMP" --version 2>&1)
assert_match "ring build names pcap-ring" "libpcap version $LIBPCAP_VERSION .*pcap-ring [0-9]" "$v"
v=$(env $(lib_env stock) "$TCPDUMP" --version 2>&1)
printf '%s\n' "$v" | grep -q pcap-ring && fail "stock build names pcap-ring: $v"
echo "ok: stock build does not name pcap-ring"

require_root
bed_setup

out=$(in_b env PCAP_RING_DISABLE=1 $(lib_env ring) $(trace_env "$BED_TMP/trace.disabled") \
	"$TCPDUMP" -i "ring:$VETH_B" -c 1 -w /dev/null 2>&1)
assert_match "disabled: ring: name unknown to stock" "ring:$VETH_B: No such device exists" "$out"
assert_untraced "disabled" "$BED_TMP/trace.disabled"

# A lost frame fails the test rather than hang it.
bed_bg in_b env $(lib_env ring) $(trace_env "$BED_TMP/trace") timeout --foreground 30 \
	"$TCPDUMP" -i "ring:$VETH_B" -c 5 -w "$BED_TMP/x.pcap" > "$BED_TMP/tcpdump.log" 2>&1
cap=$BG_PID
wait_for_listening "$BED_TMP/tcpdump.log"
in_a env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_A" -n 5 -m udp >/dev/null || fail "ring-gen"
wait "$cap" || fail "tcpdump did not capture 5 frames in 30 s: $(cat "$BED_TMP/tcpdump.log")"
assert_match "enabled: ring: name captures" "^5 packets captured" "$(cat "$BED_TMP/tcpdump.log")"
assert_claimed "enabled" "$BED_TMP/trace" "ring:$VETH_B"

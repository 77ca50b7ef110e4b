# Unchanged tcpdump through the ring build names libpcap's own version, as
# with stock (the plugin changes what it captures with, not what libpcap
# says it is); with PCAP_RING_DISABLE set the module is not consulted (its
# trace stays empty), so "ring:<ifname>" is an unknown device to stock
# pcap-linux; without it, the plugin captures on "ring:<ifname>".
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
need tcpdump tcpdump test -x "${TCPDUMP:-}"

v=$(env $(lib_env stock) "$TCPDUMP" --version 2>&1)
assert_match "stock build's version" "libpcap version $LIBPCAP_VERSION" "$v"
assert_eq "the ring build's version is stock's" "$v" "$(env $(lib_env ring) "$TCPDUMP" --version 2>&1)"

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

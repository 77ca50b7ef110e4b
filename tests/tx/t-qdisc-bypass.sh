# PCAP_RING_TX_QDISC_BYPASS=1 (opt-in) makes batched frames skip the
# sending interface's queueing discipline (PACKET_QDISC_BYPASS): a pfifo
# on it counts none of them, and every frame of the default run.  A value
# other than 0 or 1 makes activation fail, naming the variable.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
bed_setup

tc -n "$NS_A" qdisc add dev "$VETH_A" root pfifo limit 10000 || fail "tc qdisc add pfifo"

qdisc_packets() {
	tc -n "$NS_A" -s qdisc show dev "$VETH_A" | awk '/Sent/ { print $4; exit }'
}

# bypass_run NAME BYPASS EXPECTED: 1000 batched frames, EXPECTED of them
# counted by the qdisc.
bypass_run() {
	before=$(qdisc_packets)
	tx_run "$1" 1000 env PCAP_RING_TX_BATCH=64 PCAP_RING_TX_QDISC_BYPASS=$2 -- > /dev/null
	assert_eq "$1: frames through the qdisc" "$3" "$(($(qdisc_packets) - before))"
}
bypass_run no-bypass 0 1000
bypass_run bypass 1 0

out=$(in_a env $(tool_env ring) PCAP_RING_TX_QDISC_BYPASS=2 "$TOOLS/ring-tx" -i "$VETH_A" -n 1 2>&1) &&
	fail "PCAP_RING_TX_QDISC_BYPASS=2 accepted: $out"
assert_match "a bad value is refused" 'PCAP_RING_TX_QDISC_BYPASS="2" is not a number from 0 to 1' "$out"
tc -n "$NS_A" qdisc del dev "$VETH_A" root

# Jumbo frames: with MTU 9000 on the veth pair, frames of every size from
# 60 to 9014 bytes go out intact through every injection path, the TX ring
# being sized from the MTU; one byte more is refused.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
bed_setup
ip -n "$NS_A" link set "$VETH_A" mtu 9000 || fail "mtu 9000"
ip -n "$NS_B" link set "$VETH_B" mtu 9000 || fail "mtu 9000"

N=3000
tx_run jumbo-unbatched $N -l 60-9014
tx_run jumbo-batch64 $N -l 60-9014 -b 64
tx_run jumbo-sendqueue $N -l 60-9014 -Q
tx_run jumbo-max 500 -l 9014-9014 -b 32

out=$(in_a env $(tool_env ring) "$TOOLS/ring-tx" -i "$VETH_A" -n 1 -l 9015-9015 -m udp -b 64 2>&1) &&
	fail "a 9015-byte frame was accepted: $out"
assert_match "9015 bytes refused" "Message too long" "$out"

# A read on a batched handle does not block while the handle's own frames
# wait in the ring: a program that sends probes and then waits for the
# replies gets them.  Without CAP_NET_ADMIN (SO_SNDBUFFORCE fails) and on
# a slow link, the send buffer fills and a kick leaves frames in the ring;
# the read must still send them all before it blocks.  Here the "reply"
# comes once the peer has seen every frame.  In non-blocking mode the read
# kicks once, and the selectable descriptor is readable again only when
# there is room: a select() loop does not spin.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
need "setpriv(1)" util-linux command -v setpriv
bed_setup

tc -n "$NS_A" qdisc add dev "$VETH_A" root tbf rate 20mbit burst 10kb limit 1mb ||
	fail "tc qdisc add tbf"

tx_capture read-flush 300
bed_bg in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 300 -l 1514-1514 -b 256 -r 512 -R > "$BED_TMP/tx.out" 2>&1
TX_PID=$BG_PID
tx_check_capture read-flush 300 $((300 * 1514))
# The replies: the blocked read returns with them (enough to fill a V3
# block, which is all that ends a read without a timeout).
in_b env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_B" -n 5000 -f 1000 -l 1514-1514 > /dev/null ||
	fail "ring-gen"
wait "$TX_PID" || fail "ring-tx: $(cat "$BED_TMP/tx.out")"
assert_match "the read returned the reply" "^read 1$" "$(cat "$BED_TMP/tx.out")"

tx_capture nonblock 300
out=$(in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 300 -l 1514-1514 -b 256 -r 512 -R -N 2>&1) || fail "ring-tx -N: $out"
echo "$out"
tx_check_capture nonblock 300 $((300 * 1514))
wakeups=$(echo "$out" | sed -n 's/^wakeups //p')
[ -n "$wakeups" ] && [ "$wakeups" -le 50 ] ||
	fail "non-blocking: $wakeups select() wake-ups for 300 frames (a spinning loop)"
tc -n "$NS_A" qdisc del dev "$VETH_A" root

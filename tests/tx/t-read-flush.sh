# A read on a batched handle does not block while the handle's own frames
# wait in the ring: a program that sends probes and then waits for the
# replies gets them.  Without CAP_NET_ADMIN (SO_SNDBUFFORCE fails) and on
# a slow link, the send buffer fills and a kick leaves frames in the ring;
# the read must still send them all before it blocks.  Here the "reply"
# comes once the peer has seen every frame.  In non-blocking mode the read
# kicks once, and the selectable descriptor is readable again only when
# there is room: a select() loop does not spin.  However long the link
# takes (here 3 s at 1 Mbit/s), a blocking read sends every frame before
# it waits (it used to give up after 2 s and drop the rest).  A queue
# discipline that refuses frames (ENOBUFS: tbf's queue is full) gives no
# sign when it has room; the descriptor then becomes readable after a
# delay, so a select() loop comes back a few times per frame, not tens of
# thousands of times.  pcap_breakloop() and the read timeout cut a blocking
# read's flush short: on a 20 kbit/s link that would take the read tens of
# seconds, it returns within the 1 s timeout (breakloop also at 1 s), and
# within 0.8 s when pcap_breakloop() comes at 0.2 s.
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

# The blocking read on a slow link.
tc -n "$NS_A" qdisc add dev "$VETH_A" root tbf rate 1mbit burst 10kb limit 1mb ||
	fail "tc qdisc add tbf"
tx_capture slow 500
bed_bg in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 500 -l 1000-1000 -b 256 -r 512 -R > "$BED_TMP/slow.out" 2>&1
TX_PID=$BG_PID
tx_check_capture slow 500 500000
in_b env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_B" -n 5000 -f 1000 -l 1514-1514 > /dev/null ||
	fail "ring-gen"
wait "$TX_PID" || fail "ring-tx: $(cat "$BED_TMP/slow.out")"
assert_match "slow: the read returned the reply" "^read 1$" "$(cat "$BED_TMP/slow.out")"

# Non-blocking, with the frames refused by tbf's full queue (5 frames), not
# held back by the send buffer (CAP_NET_ADMIN raised it).
tc -n "$NS_A" qdisc change dev "$VETH_A" root tbf rate 1mbit burst 10kb limit 5000 ||
	fail "tc qdisc change tbf"
tx_capture refused 300
out=$(in_a env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 300 -l 1000-1000 -b 256 -r 512 -R -N -s 2>&1) || fail "ring-tx -N: $out"
echo "$out"
tx_check_capture refused 300 300000
assert_match "refused: counted sent, none dropped" \
	"^tx queued 300 sent 300 bytes 300000 rejected 0 dropped 0 kicks [0-9]+ waits [0-9]+ pending 0$" "$out"
wakeups=$(echo "$out" | sed -n 's/^wakeups //p')
[ -n "$wakeups" ] && [ "$wakeups" -le 1200 ] ||
	fail "refused: $wakeups select() wake-ups for 300 frames (a spinning loop)"
tc -n "$NS_A" qdisc del dev "$VETH_A" root

# The flush of a blocking read with a timeout, and pcap_breakloop().
tc -n "$NS_A" qdisc add dev "$VETH_A" root tbf rate 20kbit burst 10kb limit 1mb ||
	fail "tc qdisc add tbf"
# break_at MS BOUND_MS: pcap_breakloop() MS into a blocking read with a
# 1 s timeout; the read must return within BOUND_MS.
break_at() {
	out=$(in_a timeout 60 setpriv --bounding-set -net_admin env $(tool_env ring) \
		"$TOOLS/ring-tx" -i "$VETH_A" -n 250 -l 1000-1000 -b 256 -r 512 -R -B "$1" 2>&1) ||
		fail "ring-tx -B $1: $out"
	echo "$out"
	took=$(echo "$out" | sed -n 's/^read returned after \([0-9]*\) ms$/\1/p')
	[ -n "$took" ] && [ "$took" -le "$2" ] ||
		fail "breakloop: a blocking read with a 1 s timeout, broken at $1 ms, returned after ${took:-?} ms (bound $2 ms)"
}
break_at 1000 2500
# The break alone, well before the timeout.
break_at 200 800
tc -n "$NS_A" qdisc del dev "$VETH_A" root

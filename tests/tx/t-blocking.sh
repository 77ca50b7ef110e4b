# Blocking batched injection blocks as stock's send() does, however slow
# the link: on a link tbf holds to 1 Mbit/s, without CAP_NET_ADMIN (the
# default send buffer, some 200 KB, bounds the frames in flight), 500
# frames of 1000 bytes all arrive and none is counted dropped, although
# pcap_inject_flush() must wait some 3 s for the kernel to take them (the
# library used to give up after 2 s and drop what waited).  The time it
# takes follows from the rate.  pcap_close() waits for frames at most 2 s
# (README), then drops them: it returns within that bound; exit() waits
# at most 2 s for all handles together, not 2 s for each.  A non-blocking
# pcap_inject_flush() does not wait at all: it fails with EAGAIN at once,
# the frames still queued and none counted dropped.  A blocking
# flush that waits on the slow link ends, with the frames that wait
# counted dropped, once the interface goes down.  With the queue
# discipline bypassed, a link without carrier (the peer is down) refuses
# every kick with ENOBUFS: a blocking injection ends there too, within
# seconds, with the frames counted dropped and the error named; so does a
# non-blocking program that calls pcap_inject_flush() again and again.
# exit() shares its 2 s between handles: frames stuck on a slow link do
# not keep those of a handle on a fast link from going out.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
need "setpriv(1)" util-linux command -v setpriv
bed_setup

ms() { echo $(($(date +%s%N) / 1000000)); }

# queued_on_link: tbf holds frames.
queued_on_link() {
	tc -n "$NS_A" -s qdisc show dev "$VETH_A" | grep -q 'backlog [1-9]'
}

tx_slow_link 1mbit

tx_capture blocking 500
start=$(ms)
out=$(in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 500 -l 1000-1000 -b 64 -r 512 -s 2>&1) || fail "ring-tx: $out"
took=$(($(ms) - start))
echo "$out"
echo "injection took $took ms"
assert_match "blocking: all taken, none dropped" \
	"^tx queued 500 sent 500 bytes 500000 rejected 0 dropped 0 kicks [0-9]+ waits [0-9]+ pending 0$" "$out"
tx_check_capture blocking 500 500000
# At 125 KB/s, with at most the send buffer's 212992 bytes in flight when
# the last frame is taken: at least (500000 - 212992 - 10240) / 125000 s.
[ "$took" -ge 2200 ] && [ "$took" -le 15000 ] ||
	fail "blocking: injecting 500 KB at 1 Mbit/s took $took ms (expected 2.2 to 15 s)"

# The close bound: 500 KB at 100 kbit/s take 40 s; pcap_close() gives up
# after 2 s and drops what waits (the frames in flight still go).
tx_slow_link 100kbit
start=$(ms)
out=$(in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 500 -l 1000-1000 -b 64 -r 512 2>&1) || fail "ring-tx: $out"
took=$(($(ms) - start))
echo "close: took $took ms"
[ "$took" -ge 1900 ] && [ "$took" -le 6000 ] ||
	fail "close: pcap_close() with frames waiting on a slow link took $took ms (bound: 2 s)"

# Three handles, some 300 frames stuck in each: exit() gives up on all of
# them together after 2 s (it used to wait 2 s for each, 6 s).
tx_slow_link 100kbit
start=$(ms)
out=$(in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 500 -l 1000-1000 -b 64 -r 512 -X 2 -E 2>&1) || fail "ring-tx: $out"
took=$(($(ms) - start))
echo "exit, 3 handles: took $took ms"
[ "$took" -ge 1900 ] && [ "$took" -le 4000 ] ||
	fail "exit: 3 handles with frames waiting on a slow link took $took ms to exit (bound: 2 s in all)"

# Exit with a handle on a slow link and one on a fast one (20 Mbit/s,
# 2000 frames of 1000 bytes take 0.8 s), none kicked before exit(): the
# slow one is first in the exit hook's list (opened last), and its stuck
# frames must not use the 2 s alone (the fast peer used to get 139 of
# 2000 frames).
FAST_A=prc$BED_ID FAST_B=prd$BED_ID
ip link add "$FAST_A" netns "$NS_A" type veth peer name "$FAST_B" netns "$NS_B" ||
	fail "ip link add veth (fast)"
ip -n "$NS_A" link set "$FAST_A" up
ip -n "$NS_B" link set "$FAST_B" up
tc -n "$NS_A" qdisc add dev "$FAST_A" root tbf rate 20mbit burst 20kb limit 1mb ||
	fail "tc qdisc add tbf rate 20mbit"
tx_slow_link 100kbit
TX_PEER=$FAST_B tx_capture exit-fast 2000
TX_PEER=
start=$(ms)
out=$(in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 2000 -l 1000-1000 -b 2048 -r 2048 -X 1 -I "$FAST_A" -E 2>&1) ||
	fail "ring-tx: $out"
took=$(($(ms) - start))
echo "exit, slow and fast handle: took $took ms"
[ "$took" -le 4000 ] ||
	fail "exit: a slow and a fast handle took $took ms to exit (bound: 2 s in all)"
tx_check_capture exit-fast 2000 2000000
ip -n "$NS_A" link del "$FAST_A"

# Non-blocking, the 500 frames fit in the ring and some 200 in the send
# buffer: pcap_inject_flush() returns at once (it used to wait 2 s, then
# drop them), and the counters say what still waits.
tx_slow_link 100kbit
out=$(in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 500 -l 1000-1000 -b 64 -r 512 -N -s 2>&1) || fail "ring-tx: $out"
echo "$out"
took=$(echo "$out" | sed -n 's/^flush took \([0-9]*\) ms$/\1/p')
[ -n "$took" ] && [ "$took" -lt 500 ] ||
	fail "non-blocking: pcap_inject_flush() took ${took:-?} ms on a slow link (expected at once): $out"
assert_match "non-blocking: flush says EAGAIN" \
	"^flush: $VETH_A: send: [0-9]+ queued frames still wait for room: Resource temporarily unavailable$" "$out"
counts=$(echo "$out" | sed -n 's/^tx queued 500 sent \([0-9]*\) .* rejected 0 dropped 0 .* pending \([0-9]*\)$/\1 \2/p')
set -- $counts
[ -n "$counts" ] && [ "$2" -gt 0 ] && [ $(($1 + $2)) -eq 500 ] ||
	fail "non-blocking: expected sent + pending = 500, pending > 0, none dropped: $out"

# Batch = ring: nothing is kicked before the flush, so frames held by tbf
# mean that ring-tx waits in pcap_inject_flush().
tx_slow_link 100kbit
start=$(ms)
bed_bg in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
	-i "$VETH_A" -n 500 -l 1000-1000 -b 512 -r 512 -s > "$BED_TMP/down.out" 2>&1
TX_PID=$BG_PID
wait_until 100 queued_on_link || fail "down: ring-tx sent nothing within 10 s"
down_at=$(($(ms) - start))
ip -n "$NS_A" link set "$VETH_A" down || fail "link down"
wait "$TX_PID" || fail "ring-tx: $(cat "$BED_TMP/down.out")"
took=$(($(ms) - start))
out=$(cat "$BED_TMP/down.out")
echo "$out"
echo "down: took $took ms, down at $down_at ms"
[ $((took - down_at)) -le 5000 ] ||
	fail "down: a blocking flush took $((took - down_at)) ms to end after the interface went down"
dropped=$(echo "$out" | sed -n 's/^tx .* sent \([0-9]*\) .* dropped \([0-9]*\) .* pending 0$/\1 \2/p')
[ -n "$dropped" ] && [ "${dropped#* }" -gt 0 ] &&
	[ $((${dropped% *} + ${dropped#* })) -eq 500 ] ||
	fail "down: expected sent + dropped = 500, dropped > 0: $out"
assert_match "down: flush names the drop" "^flush: .*dropped [0-9]+ queued frame" "$out"
ip -n "$NS_A" link set "$VETH_A" up
tc -n "$NS_A" qdisc del dev "$VETH_A" root

# No carrier, qdisc bypassed: the kernel answers ENOBUFS for ever.
ip -n "$NS_B" link set "$VETH_B" down || fail "peer down"
start=$(ms)
out=$(in_a timeout 30 env $(tool_env ring) PCAP_RING_TX_QDISC_BYPASS=1 \
	"$TOOLS/ring-tx" -i "$VETH_A" -n 500 -l 1000-1000 -b 64 -r 64 -k -s 2>&1)
status=$?
took=$(($(ms) - start))
echo "$out"
echo "no carrier: took $took ms"
[ $status -ne 124 ] && [ "$took" -le 6000 ] ||
	fail "no carrier: a blocking injection took $took ms (ring-tx status $status; bound 6 s)"
[ $status -eq 0 ] || fail "no carrier: ring-tx: $out"
counts=$(echo "$out" | sed -n 's/^tx queued \([0-9]*\) sent \([0-9]*\) .* dropped \([0-9]*\) .* pending 0$/\1 \2 \3/p')
set -- $counts
[ -n "$counts" ] && [ "$3" -gt 0 ] && [ $(($2 + $3)) -eq "$1" ] ||
	fail "no carrier: expected sent + dropped = queued, dropped > 0: $out"
assert_match "no carrier: flush names the drop" \
	"^flush: .*$VETH_A: send: dropped [0-9]+ queued frame.*Network is down" "$out"

# ... non-blocking: 30 frames wait in the ring, and pcap_inject_flush()
# says ENOBUFS, as stock's send() would, until the refusals have gone on
# for 0.5 s; then the frames are dropped (it used to say EAGAIN for ever).
start=$(ms)
out=$(in_a timeout 30 env $(tool_env ring) PCAP_RING_TX_QDISC_BYPASS=1 \
	"$TOOLS/ring-tx" -i "$VETH_A" -n 30 -l 1000-1000 -b 64 -r 64 -N -s -W 2>&1)
status=$?
echo "$out"
[ $status -eq 0 ] || fail "no carrier, non-blocking: ring-tx: $out"
took=$(echo "$out" | sed -n 's/^flush took \([0-9]*\) ms$/\1/p')
[ -n "$took" ] && [ "$took" -le 2500 ] ||
	fail "no carrier, non-blocking: flushing took ${took:-?} ms to give up (bound: 0.5 s of refusals, with slack)"
assert_match "no carrier, non-blocking: dropped" \
	"^tx queued 30 sent 0 bytes 0 rejected 0 dropped 30 kicks [0-9]+ waits [0-9]+ pending 0$" "$out"
assert_match "no carrier, non-blocking: flush names the drop" \
	"^flush: $VETH_A: send: dropped 30 queued frames.*Network is down$" "$out"
ip -n "$NS_B" link set "$VETH_B" up

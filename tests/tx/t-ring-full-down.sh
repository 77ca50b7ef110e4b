# A full TX ring: frames held by a slow queue discipline (tbf) keep the
# ring full, so a blocking handle waits (boundedly) and a non-blocking one
# gets "TX ring full" at once; either way every frame arrives, in order.
# On a link that tbf all but stops, the ring holds as many frames as
# PCAP_RING_TX_RING or pcap_set_tx_ring_size() asked for (256 without).
# Then the interface goes down in the middle of a batched run: the run
# ends without hanging, the errors are counted, the counters add up, and
# the peer got the frames counted as sent, but for those in flight.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
bed_setup

# ring_holds NAME FRAMES [env words --] ring-tx options: a non-blocking
# batched handle accepts FRAMES frames, and the few that tbf lets through
# while they go in (its 2 KB burst: some 30), before its ring is full.
ring_holds() {
	name=$1 frames=$2
	shift 2
	tx_env_words "$@"
	shift "$TX_ENV_SHIFT"
	out=$(in_a env $(tool_env ring) $TX_ENV "$TOOLS/ring-tx" -i "$VETH_A" -n 5000 \
		-m udp -l 60-60 -N -O "$@" 2>&1) || fail "$name: ring-tx: $out"
	took=$(echo "$out" | sed -n 's/^accepted before the ring was full: //p')
	[ -n "$took" ] || fail "$name: the ring never filled: $out"
	[ "$took" -ge "$frames" ] && [ "$took" -le $((frames + 64)) ] ||
		fail "$name: $took frames went in before the ring was full, not $frames (+ at most 64 through tbf)"
	echo "ok: $name: the ring held $frames frames ($took accepted)"
}

if ! have "tc(8)" iproute2 command -v tc; then
	skip_case "full-ring cases: tc(8) is not installed"
elif ! tc -n "$NS_A" qdisc add dev "$VETH_A" root tbf rate 20mbit burst 10kb limit 1mb; then
	skip_case "full-ring cases: this kernel has no tbf queue discipline"
else
	# tbf sends from its timer, on either CPU, and veth queues each frame
	# for the peer on the backlog of the CPU that sent it, where a later
	# frame can overtake an earlier one.  The peer's receive on one CPU
	# (RPS) keeps the order in which the ring sent them.
	rps=/sys/class/net/$VETH_B/queues/rx-0/rps_cpus
	in_b sh -c "[ ! -e $rps ] || echo 1 > $rps" || fail "cannot set $rps"
	tx_run full-blocking 3000 -l 60-200 -b 16 -r 16
	waits=$(echo "$TX_OUT" | sed -n 's/.* waits \([0-9]*\) .*/\1/p')
	[ "$waits" -gt 0 ] || fail "full-blocking: the ring never filled"
	echo "ok: full-blocking: waited $waits times"
	tx_run full-nonblocking 3000 -l 60-200 -b 16 -r 16 -N
	full=$(echo "$TX_OUT" | sed -n 's/^ring full //p')
	[ "$full" -gt 0 ] || fail "full-nonblocking: no TX ring full error"
	echo "ok: full-nonblocking: $full TX ring full errors"

	tc -n "$NS_A" qdisc replace dev "$VETH_A" root tbf rate 8kbit burst 2kb limit 10mb ||
		fail "tbf rate 8kbit"
	ring_holds ring-default 256 -b 16
	ring_holds ring-env-512 512 env PCAP_RING_TX_BATCH=16 PCAP_RING_TX_RING=512 --
	ring_holds ring-api-128 128 -b 16 -r 128
	tc -n "$NS_A" qdisc del dev "$VETH_A" root
fi

# It ends by silence once the link is down: the short silence will do.
tx_capture down 2000000 -t 3000
bed_bg in_a timeout --foreground 20 env $(tool_env ring) "$TOOLS/ring-tx" -i "$VETH_A" \
	-n 2000000 -m udp -l 60-60 -b 64 -k -s > "$BED_TMP/down.out" 2>&1
TX_PID=$BG_PID
sleep 0.5
ip -n "$NS_A" link set "$VETH_A" down
wait "$TX_PID" || fail "ring-tx hung or failed: $(cat "$BED_TMP/down.out")"
out=$(cat "$BED_TMP/down.out")
echo "$out"
errors=$(echo "$out" | sed -n 's/^errors //p')
[ "$errors" -gt 0 ] || fail "down: no errors counted"
set -- $(echo "$out" | sed -n 's/^tx queued \([0-9]*\) sent \([0-9]*\) bytes [0-9]* rejected \([0-9]*\) dropped \([0-9]*\) .* pending \([0-9]*\)$/\1 \2 \3 \4 \5/p')
[ $# -eq 5 ] || fail "down: no counters"
assert_eq "down: queued = sent + rejected + dropped + pending" "$1" "$(($2 + $3 + $4 + $5))"
[ "$4" -gt 0 ] || fail "down: nothing counted as dropped"
echo "ok: down: $errors errors, $4 frames dropped, $2 sent"
wait "$CAP_PID"
# The kernel took them; those in flight when the link dropped (at most a
# ring's worth) may be lost, as with send().
cap=$(cat "$BED_TMP/cap.down")
assert_match "down: the peer got a prefix of the frames, in order, once" \
	"^frames [0-9]+ bytes [0-9]+ first 0 last [0-9]+ dup 0 reorder 0 bad 0 other 0$" "$cap"
got=$(echo "$cap" | awk '{print $2}')
[ "$got" -le "$2" ] && [ "$got" -ge $(($2 - 256)) ] ||
	fail "down: the peer got $got frames of the $2 counted as sent"
echo "ok: down: the peer got $got of the $2 frames counted as sent"

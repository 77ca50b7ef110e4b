# A batched handle follows MTU changes made after its activation (at MTU
# 1500), as stock's send() does.  Raised to 1900, frames up to 1914 bytes
# go out through the ring (its frames, sized at activation, hold 1984);
# raised to 9000, frames up to 9014 bytes go out too, the longer ones with
# send() on the capture socket, in order with the ring's.  Every frame
# arrives once, intact, and is counted sent.  Raised to 1700, frames
# longer than 1714 bytes (1718 tagged) are refused with "Message too
# long" and not counted, and the others go.  (An MTU lowered below the
# ring's frames, found by the kernel's rejection: t-errors.)
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
bed_setup

set_mtu() {
	ip -n "$NS_A" link set "$VETH_A" mtu "$1" || fail "mtu $1"
	ip -n "$NS_B" link set "$VETH_B" mtu "$1" || fail "mtu $1"
}

# mtu_run NAME MTU COUNT ring-tx options: activate at MTU 1500, set MTU,
# then inject COUNT frames; what ring-tx printed goes to $BED_TMP/NAME.out.
mtu_run() {
	name=$1 mtu=$2 count=$3
	shift 3
	set_mtu 1500
	rm -f "$BED_TMP/go" "$BED_TMP/go.ready"
	bed_bg in_a env $(tool_env ring) "$TOOLS/ring-tx" -i "$VETH_A" -n "$count" -s \
		-w "$BED_TMP/go" "$@" > "$BED_TMP/$name.out" 2>&1
	TX_PID=$BG_PID
	wait_for_file "$BED_TMP/go.ready"
	set_mtu "$mtu"
	tx_capture "$name" "$count"
	touch "$BED_TMP/go"
	wait "$TX_PID" || fail "$name: ring-tx: $(cat "$BED_TMP/$name.out")"
	cat "$BED_TMP/$name.out"
}

# mtu_all_sent NAME MTU COUNT ring-tx options: every frame goes.
mtu_all_sent() {
	mtu_run "$@"
	name=$1 count=$3
	out=$(cat "$BED_TMP/$name.out")
	bytes=$(echo "$out" | sed -n 's/^sent [0-9]* frames \([0-9]*\) bytes$/\1/p')
	assert_match "$name: all accepted" "^sent $count frames [0-9]+ bytes$" "$out"
	assert_match "$name: counters" \
		"^tx queued $count sent $count bytes $bytes rejected 0 dropped 0 kicks [0-9]+ waits [0-9]+ pending 0$" "$out"
	tx_check_capture "$name" "$count" "$bytes"
}

mtu_all_sent raised-1900 1900 2000 -l 60-1914 -b 64
mtu_all_sent raised-9000 9000 2000 -l 60-9014 -b 64

mtu_run raised-1700 1700 2000 -l 60-1800 -m udp -b 64 -k -T 1714
out=$(cat "$BED_TMP/raised-1700.out")
longer=$(echo "$out" | sed -n 's/^longer than 1714: //p')
[ "$longer" -gt 0 ] || fail "no frame longer than 1714 bytes"
assert_match "raised-1700: the longer frames refused" "^errors $longer$" "$out"
assert_match "raised-1700: the others counted sent, the refused not counted" \
	"^tx queued $((2000 - longer)) sent $((2000 - longer)) bytes [0-9]+ rejected 0 dropped 0 kicks [0-9]+ waits [0-9]+ pending 0$" "$out"
wait "$CAP_PID"
assert_match "raised-1700: the others arrived, once, in order" \
	"^frames $((2000 - longer)) bytes [0-9]+ first 0 last [0-9]+ dup 0 reorder 0 bad 0 other 0$" \
	"$(cat "$BED_TMP/cap.raised-1700")"

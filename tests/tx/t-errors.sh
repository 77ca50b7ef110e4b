# Bad input gets a clear error and is not counted; the handle keeps
# working (tools/tx-errors), unbatched and batched.  A send queue stops at
# the record the kernel rejects and sends nothing after it; sync refuses
# bad time stamps and reads them in the handle's precision (batched: ns).
# A batch of 4 kicks in the middle of a 10-record queue.  A frame the kernel
# rejects after it was queued (the MTU was lowered after activation) is
# counted as rejected and named, and the frames behind it still go out;
# the rejection makes the handle read the MTU again, so that later frames
# it does not allow fail in pcap_inject() itself, as with stock's send().
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
bed_setup

for batch in 0 4 64; do
	tx_capture errors-$batch 12
	nano=
	[ $batch -eq 0 ] || nano=-n
	out=$(in_a env $(tool_env ring) "$TOOLS/tx-errors" -i "$VETH_A" -M 1500 -b $batch $nano 2>&1)
	status=$?
	echo "$out"
	[ $status -eq 0 ] || fail "tx-errors -b $batch: $(echo "$out" | grep FAIL)"
	wait "$CAP_PID"
	assert_match "errors-$batch: frames 0-11 on the peer, once each, in order" \
		"^frames 12 bytes [0-9]+ first 0 last 11 dup 0 reorder 0 bad 0 other 0$" \
		"$(cat "$BED_TMP/cap.errors-$batch")"
done

# Lower the MTU between activation and injection: frames longer than
# 1014 bytes pass the checks made at activation, and the kernel refuses
# those queued before the first rejection; pcap_inject() refuses the others.
rm -f "$BED_TMP/go"
bed_bg in_a env $(tool_env ring) "$TOOLS/ring-tx" -i "$VETH_A" -n 2000 -b 64 -s \
	-k -T 1014 -w "$BED_TMP/go" > "$BED_TMP/rejected.out" 2>&1
TX_PID=$BG_PID
wait_for_file "$BED_TMP/go.ready"
ip -n "$NS_A" link set "$VETH_A" mtu 1000 || fail "mtu 1000"
tx_capture rejected 2000
touch "$BED_TMP/go"
wait "$TX_PID" || fail "ring-tx: $(cat "$BED_TMP/rejected.out")"
out=$(cat "$BED_TMP/rejected.out")
echo "$out"
longer=$(echo "$out" | sed -n 's/^longer than 1014: //p')
[ "$longer" -gt 0 ] || fail "no frame longer than 1014 bytes"
refused=$(echo "$out" | sed -n 's/^errors //p')
rejected=$(echo "$out" | sed -n 's/^tx queued .* rejected \([0-9]*\) .*/\1/p')
[ "$refused" -gt 0 ] ||
	fail "the lowered MTU was not read again: pcap_inject() refused no frame ($longer longer than 1014, $rejected rejected by the kernel)"
[ "$rejected" -gt 0 ] && [ $((refused + rejected)) -eq "$longer" ] ||
	fail "of $longer frames longer than 1014, $refused refused by pcap_inject() and $rejected rejected by the kernel"
assert_match "rejected frames counted, refused ones not queued" \
	"^tx queued $((2000 - refused)) sent $((2000 - longer)) bytes [0-9]+ rejected $rejected dropped 0 kicks [0-9]+ waits [0-9]+ pending 0$" "$out"
assert_match "flush names a rejected frame" \
	"^flush: .*the kernel rejected frame [0-9]+ of this handle \([0-9]+ bytes\): Message too long" "$out"
wait "$CAP_PID"
assert_match "the other frames arrived, in order, once" \
	"^frames $((2000 - longer)) bytes [0-9]+ first 0 last [0-9]+ dup 0 reorder 0 bad 0 other 0$" \
	"$(cat "$BED_TMP/cap.rejected")"

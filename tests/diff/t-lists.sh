# Differential: the link-layer type lists and time stamp type lists that
# unchanged tcpdump (-L, -J) and dumpcap (-L, --list-time-stamp-types)
# print are the same under the stock and the ring library, on a veth, on
# loopback and on a tun device (output, stderr and exit status), where
# pcap-ring takes the device, and on "any", which it leaves to stock
# pcap-linux.  Each list must succeed and list something: two libraries
# that fail alike prove nothing.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
need tcpdump tcpdump test -x "${TCPDUMP:-}"
bed_setup

TUN=prt$BED_ID
in_b ip tuntap add dev "$TUN" mode tun || fail "ip tuntap add $TUN"
in_b ip link set "$TUN" up

# list_same WHAT DEVICE COMMAND...: COMMAND lists something for DEVICE,
# and prints the same under both libraries.
list_same() {
	what=$1 dev=$2
	shift 2
	for lib in stock ring; do
		rm -f "$BED_TMP/$lib.trace"
		in_b env $(lib_env "$lib") $(trace_env "$BED_TMP/$lib.trace") "$@" \
			> "$BED_TMP/$lib.out" 2>&1
		echo "exit status $?" >> "$BED_TMP/$lib.out"
	done
	assert_eq "$what: stock's exit status" "exit status 0" "$(tail -n 1 "$BED_TMP/stock.out")"
	[ "$(grep -cv '^exit status' "$BED_TMP/stock.out")" -gt 1 ] ||
		fail "$what: stock lists nothing: $(cat "$BED_TMP/stock.out")"
	if ! cmp -s "$BED_TMP/stock.out" "$BED_TMP/ring.out"; then
		echo "FAIL: $what differs between the stock and the ring library:"
		diff -u "$BED_TMP/stock.out" "$BED_TMP/ring.out" | head -n 30
		exit 1
	fi
	assert_untraced "$what, stock library" "$BED_TMP/stock.trace"
	if [ "$dev" = any ]; then
		assert_declined "$what, ring library" "$BED_TMP/ring.trace" any \
			'the "any" device is captured in cooked mode'
	else
		assert_claimed "$what, ring library" "$BED_TMP/ring.trace" "$dev"
	fi
	echo "ok: $what: $(grep -cv '^exit status' "$BED_TMP/stock.out") lines identical"
}

have_dumpcap=0
have dumpcap wireshark-common test -x "${DUMPCAP:-}" && have_dumpcap=1
for dev in "$VETH_B" lo "$TUN" any; do
	list_same "tcpdump -L -i $dev" "$dev" "$TCPDUMP" -L -i "$dev"
	list_same "tcpdump -J -i $dev" "$dev" "$TCPDUMP" -J -i "$dev"
	[ $have_dumpcap = 1 ] || continue
	list_same "dumpcap -L -i $dev" "$dev" "$DUMPCAP" -L -i "$dev"
	list_same "dumpcap -L -M -i $dev" "$dev" "$DUMPCAP" -L -M -i "$dev"
	list_same "dumpcap --list-time-stamp-types -i $dev" "$dev" \
		"$DUMPCAP" --list-time-stamp-types -i "$dev"
done
[ $have_dumpcap = 1 ] || skip_case "dumpcap's lists: dumpcap (package wireshark-common) is not installed"

# Differential: the link-layer type lists and time stamp type lists that
# unchanged tcpdump (-L, -J) and dumpcap (-L, --list-time-stamp-types)
# print are the same under the stock and the ring library, on a veth, on
# loopback and on a tun device (output, stderr and exit status).
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
bed_setup

TUN=prt$BED_ID
in_b ip tuntap add dev "$TUN" mode tun || fail "ip tuntap add $TUN"
in_b ip link set "$TUN" up

# list_same WHAT COMMAND...: COMMAND prints the same under both libraries.
list_same() {
	what=$1
	shift
	for lib in stock ring; do
		in_b env $(lib_env "$lib") "$@" > "$BED_TMP/$lib.out" 2>&1
		echo "exit status $?" >> "$BED_TMP/$lib.out"
	done
	if ! cmp -s "$BED_TMP/stock.out" "$BED_TMP/ring.out"; then
		echo "FAIL: $what differs between the stock and the ring library:"
		diff -u "$BED_TMP/stock.out" "$BED_TMP/ring.out" | head -n 30
		exit 1
	fi
	echo "ok: $what: $(grep -cv '^exit status' "$BED_TMP/stock.out") lines identical ($(tail -n 1 "$BED_TMP/stock.out"))"
}

for dev in "$VETH_B" lo "$TUN"; do
	list_same "tcpdump -L -i $dev" "$TCPDUMP" -L -i "$dev"
	list_same "tcpdump -J -i $dev" "$TCPDUMP" -J -i "$dev"
	if [ -x "${DUMPCAP:-}" ]; then
		list_same "dumpcap -L -i $dev" "$DUMPCAP" -L -i "$dev"
		list_same "dumpcap -L -M -i $dev" "$DUMPCAP" -L -M -i "$dev"
		list_same "dumpcap --list-time-stamp-types -i $dev" \
			"$DUMPCAP" --list-time-stamp-types -i "$dev"
	fi
done

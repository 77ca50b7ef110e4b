# In secure execution (a setuid or file-capability program, AT_SECURE),
# the library ignores its environment variables, as the user who runs
# the program must not change its injection or make it lock rings:
# values that make a normal run fail are ignored, PCAP_RING_TX_BATCH
# does not batch and PCAP_RING_DISABLE does not disable.  The run is a
# setuid-root copy of ring-tx executed by nobody.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
need "setpriv(1)" util-linux command -v setpriv
bed_setup

chmod 755 "$BED_TMP"
SECURE=$BED_TMP/ring-tx-secure
cp "$TOOLS/ring-tx-secure" "$SECURE" && chmod 4755 "$SECURE" || fail "setuid copy"
# LeakSanitizer cannot stop a setuid (non-dumpable) process's threads.
san_env="ASAN_OPTIONS=detect_leaks=0"
bad_env="PCAP_RING_TX_BATCH=x PCAP_RING_TX_RING=x PCAP_RING_TX_QDISC_BYPASS=x"

# The variables are read in a normal run of the same program.
out=$(in_a env $san_env $bad_env "$SECURE" -i "$VETH_A" -n 1 2>&1) &&
	fail "normal run with $bad_env succeeded: $out"
assert_match "normal run: the bad value is refused" 'PCAP_RING_TX_BATCH="x" is not a number' "$out"
out=$(in_a env $san_env PCAP_RING_DISABLE=1 "$SECURE" -i "$VETH_A" -n 1 -b 64 2>&1) &&
	fail "normal run with PCAP_RING_DISABLE=1 had a TX ring: $out"
assert_match "normal run: PCAP_RING_DISABLE=1 leaves the device to stock" "not supported" "$out"

# secure_run NAME COUNT ring-tx options: as nobody, with every variable set.
secure_run() {
	name=$1 count=$2
	shift 2
	tx_capture "$name" "$count"
	out=$(in_a setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env $san_env $bad_env PCAP_RING_DISABLE=1 \
		"$SECURE" -i "$VETH_A" -n "$count" -s "$@" 2>&1) ||
		fail "$name: secure run: $out"
	echo "$out"
	bytes=$(echo "$out" | sed -n 's/^sent [0-9]* frames \([0-9]*\) bytes$/\1/p')
	tx_check_capture "$name" "$count" "$bytes"
}

# Unbatched despite PCAP_RING_TX_BATCH: one send() (kick) per frame.
secure_run secure-unbatched 300
assert_match "secure run: PCAP_RING_TX_BATCH ignored" \
	"^tx queued 300 sent 300 bytes [0-9]+ rejected 0 dropped 0 kicks 300 " "$out"
# A TX ring despite PCAP_RING_DISABLE: the module took the device.
secure_run secure-api-batch 300 -b 64
assert_match "secure run: PCAP_RING_DISABLE ignored" \
	"^tx queued 300 sent 300 bytes [0-9]+ rejected 0 dropped 0 kicks [0-9] " "$out"

# Unchanged programs that inject with pcap_inject()/pcap_sendpacket() run
# against the ring build and deliver every packet, unbatched and with
# PCAP_RING_TX_BATCH=64: scapy's sendp and srp (conf.use_pcap), bittwist
# replaying a file, and arp-scan, which waits for answers with select() on
# the selectable descriptor.  Each run's module trace must show that
# pcap-ring took the interface.  The peer has a TEST-NET-2 address so
# that its kernel answers ARP.  A program that is not installed is a
# skipped case (a failure under CI, where install-deps.sh installs all).
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
need tcpdump tcpdump test -x "${TCPDUMP:-}"
bed_setup
ip -n "$NS_A" addr add 198.51.100.1/24 dev "$VETH_A"
ip -n "$NS_B" addr add 198.51.100.2/24 dev "$VETH_B"

# The frames the programs send: 1000 test frames in a file, from a capture.
rm -f "$BED_TMP/ready.src"
bed_bg in_b env $(lib_env stock) timeout --foreground 30 "$TCPDUMP" -i "$VETH_B" -c 1000 \
	-w "$BED_TMP/src.pcap" udp > "$BED_TMP/src.log" 2>&1
wait_for_listening "$BED_TMP/src.log"
in_a env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_A" -n 1000 -m udp > /dev/null || fail "ring-gen"
wait "$BG_PID" || fail "tcpdump did not capture the 1000 source frames: $(cat "$BED_TMP/src.log")"
count=$(env $(tool_env stock) "$TOOLS/ring-cap" -R "$BED_TMP/src.pcap" -n 1000) ||
	fail "source file: $count"
bytes=$(echo "$count" | awk '{print $4}')

python=/usr/bin/python3
have_bittwist=0 have_scapy=0 have_arp_scan=0
have bittwist bittwist command -v bittwist && have_bittwist=1
have scapy python3-scapy $python -c 'import scapy' && have_scapy=1
have arp-scan arp-scan command -v arp-scan && have_arp_scan=1
cat > "$BED_TMP/sendp.py" <<'PY'
import sys
from scapy.config import conf
conf.use_pcap = True
conf.verb = 0
from scapy.all import rdpcap, sendp
sendp(rdpcap(sys.argv[2]), iface=sys.argv[1])
if "/pcap-ring.so" not in open("/proc/self/maps").read():
    sys.exit("scapy's libpcap did not load pcap-ring.so")
PY
cat > "$BED_TMP/srp.py" <<'PY'
import sys
from scapy.config import conf
conf.use_pcap = True
conf.verb = 0
from scapy.all import srp, Ether, ARP
answered = 0
for i in range(3):
    ans, unans = srp(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="198.51.100.2"),
                     iface=sys.argv[1], timeout=2)
    answered += len(ans)
print("answered %d of 3" % answered)
PY

for mode in unbatched batched; do
	envw=
	[ $mode = batched ] && envw="PCAP_RING_TX_BATCH=64"

	if [ $have_bittwist = 1 ]; then
		tx_capture bittwist-$mode 1000
		rm -f "$BED_TMP/trace"
		out=$(in_a env $(lib_env ring) $(trace_env "$BED_TMP/trace") $envw \
			bittwist -i "$VETH_A" "$BED_TMP/src.pcap" 2>&1) ||
			fail "bittwist: $out"
		assert_claimed "bittwist ($mode)" "$BED_TMP/trace" "$VETH_A"
		tx_check_capture bittwist-$mode 1000 "$bytes"
	fi

	if [ $have_scapy = 1 ]; then
		tx_capture sendp-$mode 1000
		rm -f "$BED_TMP/trace"
		out=$(in_a env $(lib_env ring) $(trace_env "$BED_TMP/trace") $envw \
			$python "$BED_TMP/sendp.py" "$VETH_A" "$BED_TMP/src.pcap" 2>&1) ||
			fail "scapy sendp: $out"
		assert_claimed "scapy sendp ($mode)" "$BED_TMP/trace" "$VETH_A"
		tx_check_capture sendp-$mode 1000 "$bytes"
		rm -f "$BED_TMP/trace"
		out=$(in_a env $(lib_env ring) $(trace_env "$BED_TMP/trace") $envw \
			timeout --foreground 60 $python "$BED_TMP/srp.py" "$VETH_A" 2>&1)
		assert_match "scapy srp ($mode)" "^answered 3 of 3$" "$out"
		assert_claimed "scapy srp ($mode)" "$BED_TMP/trace" "$VETH_A"
	fi

	if [ $have_arp_scan = 1 ]; then
		rm -f "$BED_TMP/arp.log"
		bed_bg in_b env $(lib_env stock) "$TCPDUMP" -i "$VETH_B" -w "$BED_TMP/arp-$mode.pcap" \
			'arp[6:2] = 1' > "$BED_TMP/arp.log" 2>&1
		CAP_PID=$BG_PID
		wait_for_listening "$BED_TMP/arp.log"
		rm -f "$BED_TMP/trace"
		out=$(in_a env $(lib_env ring) $(trace_env "$BED_TMP/trace") $envw \
			timeout --foreground 60 arp-scan -I "$VETH_A" -r 1 \
			-t 1000 198.51.100.0/24 2>&1) || fail "arp-scan: $out"
		echo "$out"
		assert_claimed "arp-scan ($mode)" "$BED_TMP/trace" "$VETH_A"
		assert_match "arp-scan ($mode) finds the peer" "^198\.51\.100\.2	" "$out"
		assert_match "arp-scan ($mode): one host responded" "1 responded" "$out"
		sleep 0.5
		kill "$CAP_PID"
		wait "$CAP_PID"
		requests=$(env $(lib_env stock) "$TCPDUMP" -n -r "$BED_TMP/arp-$mode.pcap" 2>/dev/null | wc -l)
		assert_eq "arp-scan ($mode): requests on the peer" 256 "$requests"
	fi
done
[ $have_bittwist = 1 ] || skip_case "bittwist cases: bittwist is not installed"
[ $have_scapy = 1 ] || skip_case "scapy cases: python3-scapy is not installed"
[ $have_arp_scan = 1 ] || skip_case "arp-scan cases: arp-scan is not installed"

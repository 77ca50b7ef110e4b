# Unchanged programs that inject with pcap_inject()/pcap_sendpacket() run
# against the ring build and deliver every packet, unbatched and with
# PCAP_RING_TX_BATCH=64: scapy's sendp and srp (conf.use_pcap), bittwist
# replaying a file, and arp-scan, which waits for answers with select() on
# the selectable descriptor.  The peer has a TEST-NET-2 address so that
# its kernel answers ARP.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
bed_setup
ip -n "$NS_A" addr add 198.51.100.1/24 dev "$VETH_A"
ip -n "$NS_B" addr add 198.51.100.2/24 dev "$VETH_B"

# The frames the programs send: 1000 test frames in a file, from a capture.
rm -f "$BED_TMP/ready.src"
bed_bg in_b env $(lib_env stock) "$TCPDUMP" -i "$VETH_B" -c 1000 -w "$BED_TMP/src.pcap" \
	udp > "$BED_TMP/src.log" 2>&1
wait_for_listening "$BED_TMP/src.log"
in_a env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_A" -n 1000 -m udp > /dev/null || fail "ring-gen"
wait "$BG_PID"
count=$(env $(tool_env stock) "$TOOLS/ring-cap" -R "$BED_TMP/src.pcap" -n 1000) ||
	fail "source file: $count"
bytes=$(echo "$count" | awk '{print $4}')

python=/usr/bin/python3
have_scapy=0
$python -c 'import scapy' 2>/dev/null && have_scapy=1
cat > "$BED_TMP/sendp.py" <<'PY'
import sys
from scapy.config import conf
conf.use_pcap = True
conf.verb = 0
from scapy.all import rdpcap, sendp
from scapy.libs.winpcapy import pcap_lib_version
if b"pcap-ring" not in pcap_lib_version():
    sys.exit("scapy did not load the ring build: %r" % pcap_lib_version())
sendp(rdpcap(sys.argv[2]), iface=sys.argv[1])
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

	if command -v bittwist >/dev/null 2>&1; then
		tx_capture bittwist-$mode 1000
		out=$(in_a env $(lib_env ring) $envw bittwist -i "$VETH_A" "$BED_TMP/src.pcap" 2>&1) ||
			fail "bittwist: $out"
		tx_check_capture bittwist-$mode 1000 "$bytes"
	else
		echo "bittwist not installed: not run"
	fi

	if [ $have_scapy = 1 ]; then
		tx_capture sendp-$mode 1000
		out=$(in_a env $(lib_env ring) $envw $python "$BED_TMP/sendp.py" "$VETH_A" \
			"$BED_TMP/src.pcap" 2>&1) || fail "scapy sendp: $out"
		tx_check_capture sendp-$mode 1000 "$bytes"
		out=$(in_a env $(lib_env ring) $envw timeout 60 $python "$BED_TMP/srp.py" "$VETH_A" 2>&1)
		assert_match "scapy srp ($mode)" "^answered 3 of 3$" "$out"
	else
		echo "python3-scapy not installed: not run"
	fi

	if command -v arp-scan >/dev/null 2>&1; then
		rm -f "$BED_TMP/arp.log"
		bed_bg in_b env $(lib_env stock) "$TCPDUMP" -i "$VETH_B" -w "$BED_TMP/arp-$mode.pcap" \
			'arp[6:2] = 1' > "$BED_TMP/arp.log" 2>&1
		CAP_PID=$BG_PID
		wait_for_listening "$BED_TMP/arp.log"
		out=$(in_a env $(lib_env ring) $envw timeout 60 arp-scan -I "$VETH_A" -r 1 \
			-t 1000 198.51.100.0/24 2>&1) || fail "arp-scan: $out"
		echo "$out"
		assert_match "arp-scan ($mode) finds the peer" "^198\.51\.100\.2	" "$out"
		assert_match "arp-scan ($mode): one host responded" "1 responded" "$out"
		sleep 0.5
		kill "$CAP_PID"
		wait "$CAP_PID"
		requests=$(env $(lib_env stock) "$TCPDUMP" -n -r "$BED_TMP/arp-$mode.pcap" 2>/dev/null | wc -l)
		assert_eq "arp-scan ($mode): requests on the peer" 256 "$requests"
	else
		echo "arp-scan not installed: not run"
	fi
done
[ $have_scapy = 1 ] || command -v bittwist >/dev/null 2>&1 || command -v arp-scan >/dev/null 2>&1 ||
	skip "none of scapy, bittwist, arp-scan is installed"

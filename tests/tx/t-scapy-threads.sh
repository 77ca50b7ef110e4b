# scapy sends and sniffs on one pcap socket from two threads
# (conf.use_pcap, PCAP_RING_TX_BATCH=16): an AsyncSniffer thread reads the
# socket while the main thread sendp()s 20000 frames through it, and the
# peer sends traffic to the sniffer meanwhile, so that its reads (each
# flushing the TX ring) meet the injection.  The peer gets every frame
# once, intact, and the sniffer gets the peer's traffic.  Then srp() with
# threaded=True (a sending thread beside the receiving one) gets its
# answers.  A skipped case without scapy (a failure under CI).
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
python=/usr/bin/python3
need scapy python3-scapy $python -c 'import scapy'
bed_setup
ip -n "$NS_A" addr add 198.51.100.1/24 dev "$VETH_A"
ip -n "$NS_B" addr add 198.51.100.2/24 dev "$VETH_B"
tc -n "$NS_B" qdisc add dev "$VETH_B" root tbf rate 10mbit burst 10kb limit 1mb ||
	fail "tc qdisc add tbf"

N=20000
env $(tool_env stock) "$TOOLS/ring-gen" -w "$BED_TMP/src.pcap" -n $N -m udp > /dev/null ||
	fail "ring-gen -w"
bytes=$(env $(tool_env stock) "$TOOLS/ring-cap" -R "$BED_TMP/src.pcap" -n $N | awk '{print $4}')

cat > "$BED_TMP/threads.py" <<'PY'
import faulthandler, os, sys, time
# Where it hangs, if it does.
faulthandler.dump_traceback_later(100, exit=True)
from scapy.config import conf
conf.use_pcap = True
conf.verb = 0
from scapy.all import AsyncSniffer, rdpcap, sendp, srp, Ether, ARP
iface, path, go = sys.argv[1:4]
frames = rdpcap(path)
s = conf.L2socket(iface=iface)
if "/pcap-ring.so" not in open("/proc/self/maps").read():
    sys.exit("scapy's libpcap did not load pcap-ring.so")
sniffed = [0]
def count(pkt):
    sniffed[0] += 1
sniffer = AsyncSniffer(opened_socket=s, store=False, prn=count)
sniffer.start()
open(go + ".ready", "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
sendp(frames, socket=s)
sniffer.stop()
s.close()
print("sniffed %d" % sniffed[0])
ans, unans = srp([Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="198.51.100.2")] * 50,
                 iface=iface, timeout=3, threaded=True)
print("answered %d of 50" % len(ans))
PY

rm -f "$BED_TMP/go" "$BED_TMP/go.ready"
bed_bg in_a env $(lib_env ring) PCAP_RING_TX_BATCH=16 \
	timeout --foreground 120 $python -u "$BED_TMP/threads.py" "$VETH_A" "$BED_TMP/src.pcap" \
	"$BED_TMP/go" > "$BED_TMP/threads.out" 2>&1
PY_PID=$BG_PID
# Reading 20000 frames takes scapy a while.
wait_for_file "$BED_TMP/go.ready" 900
# Not with a filter such as inbound: stock filters the packets already in
# its ring in userland, which cannot tell inbound, and drops the first.
tx_capture scapy $N
touch "$BED_TMP/go"
# The peer's traffic for the sniffer (frames numbered from 1000000), held
# to 10 Mbit/s: at full speed it overflows the per-CPU backlog that the
# frames to the peer go through too.
in_b env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_B" -n 30000 -f 1000000 -l 60-60 -m udp > /dev/null ||
	fail "ring-gen"
wait "$PY_PID" || fail "scapy: $(cat "$BED_TMP/threads.out")"
out=$(cat "$BED_TMP/threads.out")
echo "$out"
wait "$CAP_PID"
# The peer's own frames count as other.
assert_match "scapy: frames on the peer" \
	"^frames $N bytes $bytes first 0 last $((N - 1)) dup 0 reorder 0 bad 0 other [0-9]+$" \
	"$(cat "$BED_TMP/cap.scapy")"
sniffed=$(echo "$out" | sed -n 's/^sniffed //p')
[ -n "$sniffed" ] && [ "$sniffed" -gt 100 ] ||
	fail "the sniffer thread got $sniffed packets; the peer sent it 30000"
assert_match "srp threaded=True" "^answered 50 of 50$" "$out"

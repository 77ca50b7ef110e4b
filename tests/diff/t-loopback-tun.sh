# Differential: unchanged tcpdump captures the same under stock and ring
# libpcap on loopback (frames injected on lo in the namespace are seen
# once, as incoming: the outgoing copy is dropped) and on a tun device (no
# link-layer header, DLT_RAW; tun-writer.py writes IPv4 packets into it).
# Immediate mode gets little traffic: stock's TPACKET_V2 ring has about 32
# slots by default and lo puts both copies in it, and on tun its frames are
# as large as the snapshot, 8 of them.  See diff-lib.sh.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
bed_setup

DIFF_IF=lo
diff_cases tcpdump <<'CASES'
# name            | traffic        | options            | filter
lo                | lo:0:300       |                    |
lo-filter         | lo:0:402:udp   |                    | host 198.51.100.3
lo-snap-64        | lo:0:300       | -s 64              |
lo-in             | lo:0:300       | -Q in              |
lo-immediate      | lo:0:15        | --immediate-mode   |
CASES

# The tun cases need what the loopback cases do not.
if [ ! -c /dev/net/tun ]; then
	skip_case "tun cases: no /dev/net/tun on this machine"
elif ! have python3 python3 command -v python3; then
	skip_case "tun cases: python3 (the tun writer) is not installed"
else
	DIFF_IF=prt$BED_ID
	in_b ip tuntap add dev "$DIFF_IF" mode tun || fail "ip tuntap add $DIFF_IF"
	in_b ip link set "$DIFF_IF" up
	diff_cases tcpdump <<'CASES'
# name            | traffic        | options            | filter
tun               | tun:0:300      |                    |
tun-filter        | tun:0:402      |                    | dst host 198.51.100.3
tun-snap-64       | tun:0:300      | -s 64              |
tun-immediate     | tun:0:6        | --immediate-mode   |
CASES
fi
echo "$DIFF_CASES cases identical"

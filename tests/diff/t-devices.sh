# Differential: unchanged tcpdump on a bridge (VETH_B enslaved; promiscuous,
# so frames for unknown hosts reach it) and on an 802.1Q VLAN device on top
# of VETH_B (it sees frames of VLAN 100, untagged) captures the same under
# stock and ring libpcap.  See diff-lib.sh.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
bed_setup

DIFF_IF=prv$BED_ID
if in_b ip link add link "$VETH_B" name "$DIFF_IF" type vlan id 100 2>/dev/null; then
	in_b ip link set "$DIFF_IF" up
	DIFF_ORACLE="vlan 100"
	diff_cases tcpdump <<'CASES'
# name              | traffic        | options   | filter
vlan-device         | a:0:406        |           |
vlan-device-snap-64 | a:0:406        | -s 64     |
vlan-device-udp     | a:0:406        |           | udp
CASES
	in_b ip link del "$DIFF_IF"
else
	skip_case "VLAN device cases: this kernel cannot create VLAN devices (no 8021q module)"
fi

DIFF_IF=prbr$BED_ID
DIFF_ORACLE=
# Without multicast snooping, which makes the bridge announce itself
# (IGMP for 224.0.0.106) at a time of its own choosing.
if in_b ip link add "$DIFF_IF" type bridge mcast_snooping 0; then
	in_b ip link set "$VETH_B" master "$DIFF_IF" || fail "enslave $VETH_B"
	in_b ip link set "$DIFF_IF" up
	diff_cases tcpdump <<'CASES'
bridge              | a:0:300        |           |
bridge-vlan         | a:0:406        |           | vlan
CASES
else
	skip_case "bridge cases: this kernel cannot create a bridge"
fi
echo "$DIFF_CASES cases identical"

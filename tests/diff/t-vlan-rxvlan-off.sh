# Differential: VLAN-tagged traffic captured by unchanged tcpdump under the
# stock and the ring library, with rx VLAN offload off on the capture
# interface.  See vlan-cases.sh and diff-lib.sh.
VLAN_RXVLAN=off
. "$TESTSRCDIR/diff/vlan-cases.sh"

# Differential: VLAN-tagged traffic captured by unchanged tcpdump under the
# stock and the ring library, with rx VLAN offload on on the capture
# interface.  See vlan-cases.sh and diff-lib.sh.
VLAN_RXVLAN=on
. "$TESTSRCDIR/diff/vlan-cases.sh"

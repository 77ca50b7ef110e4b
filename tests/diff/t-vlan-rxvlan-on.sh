# Differential: VLAN-tagged traffic captured by unchanged tcpdump under the
# stock and the ring library, with rx VLAN offload on on the capture
# interface.  See vlan-cases.sh and diff-lib.sh.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
bed_setup
need "ethtool(8)" ethtool command -v ethtool
in_b ethtool -K "$VETH_B" rxvlan on || fail "ethtool -K $VETH_B rxvlan on"
assert_match "rx-vlan-offload" "rx-vlan-offload: on" "$(in_b ethtool -k "$VETH_B")"
. "$TESTSRCDIR/diff/vlan-cases.sh"

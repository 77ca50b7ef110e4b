# Differential: VLAN-tagged traffic captured by unchanged tcpdump under the
# stock and the ring library, with rx VLAN offload off on the capture
# interface.  See vlan-cases.sh and diff-lib.sh.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
bed_setup
need "ethtool(8)" ethtool command -v ethtool
in_b ethtool -K "$VETH_B" rxvlan off || fail "ethtool -K $VETH_B rxvlan off"
assert_match "rx-vlan-offload" "rx-vlan-offload: off" "$(in_b ethtool -k "$VETH_B")"
. "$TESTSRCDIR/diff/vlan-cases.sh"

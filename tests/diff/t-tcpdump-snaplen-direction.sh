# Differential: unchanged tcpdump captures the same packets, and says the
# same things, under the stock and the ring library, for snapshot lengths
# and capture directions (traffic both ways, with distinct sequence
# numbers; the last segment is the one the direction takes), and for jumbo
# frames.  See diff-lib.sh.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
bed_setup

diff_cases tcpdump <<'CASES'
# name            | traffic             | options   | filter
snaplen-64        | a:0:300             | -s 64     |
snaplen-1500      | a:0:300             | -s 1500   |
snaplen-default   | a:0:300             | -s 0      |
direction-in      | b:0:200 a:1000:200  | -Q in     |
direction-out     | a:1000:200 b:0:200  | -Q out    |
direction-inout   | b:0:200 a:1000:200  | -Q inout  |
CASES

# Jumbo frames, up to 9018 bytes, on a 9000-byte MTU.
in_a ip link set "$VETH_A" mtu 9000 || fail "mtu 9000 on $VETH_A"
in_b ip link set "$VETH_B" mtu 9000 || fail "mtu 9000 on $VETH_B"
diff_cases tcpdump <<'CASES'
jumbo             | a:0:300:all:9018    |           |
jumbo-snap-1500   | a:0:300:all:9018    | -s 1500   |
jumbo-immediate   | a:0:30:all:9018     | --immediate-mode |
CASES
echo "$DIFF_CASES cases identical"

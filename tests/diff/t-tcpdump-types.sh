# Differential: unchanged tcpdump asking for a link-layer type (-y; with
# DOCSIS no VLAN tag goes back in) or a time stamp type (-j; one veth does
# not offer draws the same warning) captures the same packets, and says
# the same things, under the stock and the ring library.  See diff-lib.sh.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
bed_setup

diff_cases tcpdump <<'CASES'
# name              | traffic   | options                  | filter
datalink-en10mb     | a:0:300   | -y EN10MB                |
datalink-docsis     | a:0:300   | -y DOCSIS                |
tstamp-host         | a:0:300   | -j host                  |
tstamp-adapter      | a:0:300   | -j adapter_unsynced      |
tstamp-host-nano    | a:0:300   | -j host --time-stamp-precision nano |
CASES
echo "$DIFF_CASES cases identical"

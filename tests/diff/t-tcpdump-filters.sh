# Differential: unchanged tcpdump captures the same packets, and says the
# same things, under the stock and the ring library, for BPF filters the
# kernel runs and one it refuses (userland filtering with a warning).
# See diff-lib.sh.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
bed_setup

# Frame i is kind i%8 (0-3 UDP from port 1024+i%7 to .2+i%4 port
# 5000+i%5, 4 TCP port 80, 5 802.1Q vlan 100+i%3, 6 802.1ad+802.1Q, 7 ARP),
# or UDP only with :udp (see diff-lib.sh for why), 60-1514 bytes; the last
# frame of each case is one the filter takes.  VLAN filters are in
# vlan-cases.sh.
diff_cases tcpdump <<'CASES'
# name             | traffic      | options | filter
no-filter          | a:0:300      |         |
host               | a:0:402:udp  |         | host 198.51.100.3
port               | a:0:402:udp  |         | udp port 5001
host-and-port      | a:0:415:udp  |         | src port 1025 and dst host 198.51.100.4
length             | a:0:403:udp  |         | greater 1000 or less 100
too-big-for-kernel | a:0:400:udp  | -O      | @many-hosts
CASES
echo "$DIFF_CASES cases identical"

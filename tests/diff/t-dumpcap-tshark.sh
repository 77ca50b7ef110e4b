# Differential: unchanged dumpcap (which selects on the pcap fd and reads
# one packet per pcap_dispatch() call, with nanosecond time stamps) and
# tshark (which runs dumpcap) capture the same packets, and say the same
# things, under the stock and the ring library.  See diff-lib.sh.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
need dumpcap wireshark-common test -x "${DUMPCAP:-}"
need capinfos wireshark-common command -v capinfos
bed_setup

diff_cases dumpcap <<'CASES'
# name            | traffic             | options     | filter
no-filter         | a:0:300             |             |
host              | a:0:402:udp         |             | host 198.51.100.3
vlan              | a:0:406             |             | vlan
pcap-format       | a:0:300             | -P          |
snaplen-64        | a:0:300             | -s 64       |
buffer-64MiB      | a:0:300             | -B 64       |
no-promisc        | a:0:300             | -p          |
CASES
# With the sanitizer runtime preloaded, tshark never starts capturing,
# under the stock library as under the ring one; dumpcap above carries the
# library under the sanitizers.
if ! have tshark tshark test -x "${TSHARK:-}"; then
	skip_case "tshark cases: tshark is not installed"
elif [ "${SANITIZERS:-0}" = 1 ]; then
	skip_case "tshark cases: tshark hangs with the sanitizer runtime preloaded (dumpcap's cases carry the library)"
else
	diff_cases tshark <<'CASES'
tshark            | a:0:300             |             |
tshark-filter     | a:0:402:udp         |             | udp port 5001
CASES
fi
echo "$DIFF_CASES cases identical"

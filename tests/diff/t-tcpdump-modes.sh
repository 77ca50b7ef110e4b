# Differential: unchanged tcpdump captures the same packets, and says the
# same things, under the stock and the ring library, in its capture modes:
# nanosecond time stamps, immediate mode (stock's TPACKET_V2 ring has 32
# slots by default, so little traffic unless the buffer is larger), buffer
# sizes (-B 1 is one 256 KiB block for both, so little traffic), and
# non-promiscuous mode.  See diff-lib.sh.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
bed_setup

diff_cases tcpdump <<'CASES'
# name              | traffic   | options                       | filter
nano                | a:0:300   | --time-stamp-precision nano   |
immediate           | a:0:30    | --immediate-mode              |
immediate-64MiB     | a:0:300   | --immediate-mode -B 65536     |
immediate-snap-64   | a:0:300   | --immediate-mode -B 8192 -s 64 |
immediate-nano      | a:0:300   | --immediate-mode -B 65536 --time-stamp-precision nano |
buffer-1KiB         | a:0:100   | -B 1                          |
buffer-1MiB         | a:0:300   | -B 1024                       |
buffer-64MiB        | a:0:300   | -B 65536                      |
no-promisc          | a:0:300   | -p                            |
CASES
echo "$DIFF_CASES cases identical"

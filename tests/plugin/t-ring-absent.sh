# With pcap-ring.so absent from the directory the ring library loads
# plugins from, or replaced there by a plugin of another ABI version,
# unchanged tcpdump and dumpcap behave exactly as with stock libpcap: the
# same device list, packets, file headers and messages (the wrong-ABI
# plugin adds the loader's one line saying it skipped it), and pcap-ring
# is not consulted.  The directory is covered for this test's processes
# only, by a bind mount in a private mount namespace.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/diff/diff-lib.sh"
require_root
need unshare util-linux command -v unshare
need mount mount command -v mount
need tcpdump tcpdump test -x "${TCPDUMP:-}"
need dumpcap wireshark-common test -x "${DUMPCAP:-}"
plugin_dir=$(dirname "${RING_PLUGIN:?}")
[ -f "$RING_PLUGIN" ] || fail "no $RING_PLUGIN"

# Each way the plugin can be missing runs in a namespace of its own.
if [ -z "${RING_ABSENT_AS:-}" ]; then
	for as in absent wrong-abi; do
		echo "== pcap-ring.so $as"
		RING_ABSENT_AS=$as unshare -m sh "$0" || exit 1
	done
	exit 0
fi

# In the bed's scratch directory: bed_setup's exit trap, which replaces
# any of ours, removes it.
bed_setup
cover=$BED_TMP/cover
mkdir "$cover" || fail "mkdir $cover"
if [ "$RING_ABSENT_AS" = wrong-abi ]; then
	cp "${PLUGINS:?}/pcap-plugtest-badabi.so" "$cover/pcap-ring.so" || fail "copying the wrong-ABI plugin"
	DIFF_SKIPPED_PLUGIN=$plugin_dir/pcap-ring.so
fi
mount --bind "$cover" "$plugin_dir" || fail "mount --bind $cover $plugin_dir"
[ ! -f "$plugin_dir/pcap-ring.so" ] || [ "$RING_ABSENT_AS" = wrong-abi ] ||
	fail "pcap-ring.so is still in $plugin_dir"
DIFF_PLUGIN=hidden
# Interfaces with a carrier are listed first: compare once it is there.
wait_until 100 in_b grep -qx up "/sys/class/net/$VETH_B/operstate" ||
	fail "$VETH_B has no carrier after 10 s"

stock=$(in_b env $(lib_env stock) "$TCPDUMP" -D 2>&1) || fail "tcpdump -D, stock: $stock"
ring=$(in_b env $(lib_env ring) "$TCPDUMP" -D 2>&1) || fail "tcpdump -D, ring: $ring"
if [ -n "${DIFF_SKIPPED_PLUGIN:-}" ]; then
	count=$(printf '%s\n' "$ring" | grep -c "^libpcap: plugin $DIFF_SKIPPED_PLUGIN skipped: ")
	assert_eq "tcpdump -D: the loader says once that it skipped pcap-ring.so" 1 "$count"
	ring=$(printf '%s\n' "$ring" | grep -v "^libpcap: plugin $DIFF_SKIPPED_PLUGIN skipped: ")
fi
assert_eq "tcpdump -D as stock's" "$stock" "$ring"

diff_cases tcpdump <<'CASES'
# name              | traffic   | options                       | filter
default             | a:0:100   |                               |
immediate           | a:0:30    | --immediate-mode              |
filter-udp          | a:0:100   |                               | udp
CASES
diff_cases dumpcap <<'CASES'
default             | a:0:100   |                               |
CASES
echo "$DIFF_CASES cases identical to stock with pcap-ring.so $RING_ABSENT_AS"

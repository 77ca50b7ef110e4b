# Frames still waiting in the TX ring are sent when the handle is closed
# right after the last pcap_inject(), when the program calls exit()
# without closing it (the module's exit hook), and when the program closes
# it from its own atexit handler, registered before or after the handle
# was opened (the exit hook must free nothing), with the API and with
# PCAP_RING_TX_BATCH, also in a daemon's child whose parent left once the
# handle was open.  A forked child's exit leaves the frames waiting in
# its parent's ring to the parent.  Counts (not multiples of the batch) and content
# are checked on the peer.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
bed_setup

# tx_run_quiet NAME COUNT [env words --] ring-tx options: as tx_run, without
# the flush and statistics calls, which would send what waits.
tx_run_quiet() {
	name=$1 count=$2
	shift 2
	tx_env_words "$@"
	shift "$TX_ENV_SHIFT"
	tx_capture "$name" "$count"
	out=$(in_a env $(tool_env ring) $TX_ENV "$TOOLS/ring-tx" -i "$VETH_A" -n "$count" "$@" 2>&1) ||
		fail "$name: ring-tx: $out"
	assert_match "$name: all accepted" "^sent $count frames [0-9]+ bytes$" "$out"
	tx_check_capture "$name" "$count" "$(echo "$out" | awk '/^sent/ {print $4}')"
}

tx_run_quiet close-batch64 10001 -b 64
tx_run_quiet close-batch256 777 -b 256 -r 256
tx_run_quiet exit-batch64 10001 -b 64 -E
tx_run_quiet exit-one-frame 1 -b 64 -E
tx_run_quiet exit-env 5003 env PCAP_RING_TX_BATCH=64 -- -E
tx_run_quiet close-env 5003 env PCAP_RING_TX_BATCH=200 -- 
tx_run_quiet atexit-close-before 10 env PCAP_RING_TX_BATCH=64 -- -A before
tx_run_quiet atexit-close-after 10 env PCAP_RING_TX_BATCH=64 -- -A after
tx_run_quiet atexit-close-before-api 1001 -b 64 -A before

# A daemon opens the handle, forks, and its parent leaves: the child's
# frames go out at its close and at its exit.
tx_run_quiet daemon-close 10 -b 64 -D
tx_run_quiet daemon-exit 1001 env PCAP_RING_TX_BATCH=64 -- -D -E

tx_capture fork-child 10
out=$(in_a env $(tool_env ring) PCAP_RING_TX_BATCH=64 "$TOOLS/ring-tx" -i "$VETH_A" -n 10 -F 2>&1) ||
	fail "fork-child: ring-tx: $out"
assert_match "fork-child: the child's exit sent none of the parent's frames" "^child sent 0$" "$out"
tx_check_capture fork-child 10 "$(echo "$out" | awk '/^sent/ {print $4}')"

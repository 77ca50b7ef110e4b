# Batched injection and send queues through a plugin (patches/0001): on a
# handle whose plugin installed tx ops (pcap-plugtest-tx.so, device
# plugtx0), each public call reaches the plugin with the program's
# arguments, and what the plugin returns (its status, error text and
# counters) reaches the program; libpcap's own checks (activation, NULL
# buffer or queue) stop a call before the plugin.  On a plugin's handle
# without tx ops (plugtest0) every call fails saying that its capture
# source does not support it (a send queue with sync: that sync needs a
# capture source with send queues), and reaches nothing; so does a call
# whose op lies past the size of the plugin's table (plugtxshort0).
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
bed_setup

mkdir "$BED_TMP/plugins" &&
	cp "$PLUGINS/pcap-plugtest.so" "$PLUGINS/pcap-plugtest-tx.so" \
		"$PLUGINS/pcap-plugtest-txshort.so" "$BED_TMP/plugins/" &&
	chmod -R go-w "$BED_TMP/plugins" || fail "copying the plugins"

tx() {
	in_a env PCAP_PLUGIN_DIR="$BED_TMP/plugins" $(tool_env ring) \
		"$TOOLS/plugin-tx" "$1" 2>&1
}

out=$(tx plugtx0) || fail "plugin-tx plugtx0: $out"
activated="can't perform  operation on activated capture"
expected="plugtest tx: set_tx_batch(plugtx0, 64)
pcap_set_tx_batch 0
plugtest tx: set_tx_ring_size(plugtx0, 512)
pcap_set_tx_ring_size 0
plugtest tx: set_tx_qdisc_bypass(plugtx0, 1)
pcap_set_tx_qdisc_bypass 0
pcap_inject_flush -3: pcap_inject_flush: this handle hasn't been activated yet
pcap_tx_stats -3: pcap_tx_stats: this handle hasn't been activated yet
activated
pcap_set_tx_batch -4: $activated
plugtest tx: inject_flush(plugtx0)
pcap_inject_flush -1: plugtx0: flush 1 lost nothing, but says so
plugtest tx: tx_stats(plugtx0)
pcap_tx_stats 0
tx queued 64 pending 512 kicks 1 waits 1
pcap_tx_stats(NULL) -1: pcap_tx_stats: NULL statistics buffer
plugtest tx: sendqueue_transmit(plugtx0, sync 1) caplens 60 70
pcap_sendqueue_transmit: the whole queue
pcap_sendqueue_transmit 0: pcap_sendqueue_transmit: NULL send queue"
assert_eq "plugtx0: each call reaches the plugin's tx ops, or libpcap's checks" "$expected" "$out"

out=$(tx plugtest0) || fail "plugin-tx plugtest0: $out"
none="not supported on this handle: the capture source of plugtest0 has no batched injection"
expected="pcap_set_tx_batch -1: pcap_set_tx_batch: $none
pcap_set_tx_ring_size -1: pcap_set_tx_ring_size: $none
pcap_set_tx_qdisc_bypass -1: pcap_set_tx_qdisc_bypass: $none
pcap_inject_flush 0
pcap_tx_stats -1: pcap_tx_stats: $none
activated
pcap_set_tx_batch -1: pcap_set_tx_batch: $none
pcap_inject_flush 0
pcap_tx_stats -1: pcap_tx_stats: $none
pcap_tx_stats(NULL) -1: pcap_tx_stats: $none
pcap_sendqueue_transmit 0: pcap_sendqueue_transmit: sync needs a capture source that supports send queues, and that of plugtest0 does not
pcap_sendqueue_transmit 0: pcap_sendqueue_transmit: NULL send queue"
assert_eq "plugtest0 (no tx ops): not supported, naming the device" "$expected" "$out"

# A table that ends before inject_flush: the settings reach the plugin,
# and the rest is as on a handle without ops.
out=$(tx plugtxshort0) || fail "plugin-tx plugtxshort0: $out"
none="not supported on this handle: the capture source of plugtxshort0 has no batched injection"
expected="plugtest tx: set_tx_batch(plugtxshort0, 64)
pcap_set_tx_batch 0
plugtest tx: set_tx_ring_size(plugtxshort0, 512)
pcap_set_tx_ring_size 0
plugtest tx: set_tx_qdisc_bypass(plugtxshort0, 1)
pcap_set_tx_qdisc_bypass 0
pcap_inject_flush 0
pcap_tx_stats -1: pcap_tx_stats: $none
activated
pcap_set_tx_batch -4: $activated
pcap_inject_flush 0
pcap_tx_stats -1: pcap_tx_stats: $none
pcap_tx_stats(NULL) -1: pcap_tx_stats: $none
pcap_sendqueue_transmit 0: pcap_sendqueue_transmit: sync needs a capture source that supports send queues, and that of plugtxshort0 does not
pcap_sendqueue_transmit 0: pcap_sendqueue_transmit: NULL send queue"
assert_eq "plugtxshort0 (table ends before inject_flush): only the settings reach it" "$expected" "$out"

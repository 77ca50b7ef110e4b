# Every injection path delivers every frame, in order, once, intact, and
# counts exactly what the kernel took: 20000 frames (far more than the
# 256-frame ring) of every kind and size from 60 to 1514 bytes,
# unbatched, batched through the API and through PCAP_RING_TX_BATCH, and
# through a send queue with and without sync.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
bed_setup

N=20000
tx_run unbatched $N
assert_eq "unbatched: one send() per frame" $N "$(tx_kicks)"

# kicks_within NAME FRAMES BATCH: one kick per full batch, and a few
# more where the ring filled first or the last batch was flushed.
kicks_within() {
	kicks=$(tx_kicks)
	most=$(( ($2 + $3 - 1) / $3 + $2 / $3 / 20 + 4 ))
	[ "$kicks" -le "$most" ] ||
		fail "$1: $kicks kicks for $2 frames in batches of $3 (at most $most)"
	echo "ok: $1: $kicks kicks for $2 frames in batches of $3 (at most $most)"
}

tx_run batch64 $N -b 64
kicks_within batch64 $N 64
tx_run batch1-ring8 2000 -b 1 -r 8
# PCAP_RING_TX_RING's effect is seen in t-ring-full-down.sh.
tx_run env-batch $N env PCAP_RING_TX_BATCH=256 PCAP_RING_TX_RING=512 --
kicks_within env-batch $N 256

# An explicit 0 from the API beats the environment.
tx_run api-beats-env 3000 env PCAP_RING_TX_BATCH=64 -- -b 0
assert_eq "api-beats-env: unbatched" 3000 "$(tx_kicks)"

tx_run sendqueue $N -Q
kicks_within sendqueue $N 64
tx_run sendqueue-sync 3000 -Q -S -g 0
# With sync, 1000 frames 500 us apart take 499.5 ms, as timed around
# pcap_sendqueue_transmit(); the slack is for a busy 2-core machine.
tx_run sendqueue-sync-gaps 1000 -Q -S -g 500
us=$(echo "$TX_OUT" | sed -n 's/^transmit took \([0-9]*\) us$/\1/p')
[ -n "$us" ] && [ "$us" -ge 499500 ] && [ "$us" -le 800000 ] ||
	fail "sendqueue-sync-gaps: 1000 frames 500 us apart took ${us:-?} us, not 499500 to 800000"
echo "ok: sendqueue-sync-gaps: the gaps were kept ($us us)"

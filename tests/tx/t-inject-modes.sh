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

tx_run batch64 $N -b 64
kicks=$(tx_kicks)
[ "$kicks" -le $((N / 64 + 64)) ] || fail "batch64: $kicks kicks for $N frames"
echo "ok: batch64: $kicks kicks"

tx_run batch1-ring8 2000 -b 1 -r 8
tx_run env-batch $N env PCAP_RING_TX_BATCH=256 PCAP_RING_TX_RING=512 --
kicks=$(tx_kicks)
[ "$kicks" -lt $((N / 2)) ] || fail "env-batch: $kicks kicks: the variable was not applied"
echo "ok: env-batch: $kicks kicks"

# An explicit 0 from the API beats the environment.
tx_run api-beats-env 3000 env PCAP_RING_TX_BATCH=64 -- -b 0
assert_eq "api-beats-env: unbatched" 3000 "$(tx_kicks)"

tx_run sendqueue $N -Q
tx_run sendqueue-sync 3000 -Q -S -g 0
# With sync, 1000 frames 500 us apart take about half a second.
start=$(date +%s%N)
tx_run sendqueue-sync-gaps 1000 -Q -S -g 500
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -ge 499 ] || fail "sendqueue-sync-gaps: 1000 frames 500 us apart took only $ms ms"
echo "ok: sendqueue-sync-gaps: the gaps were kept ($ms ms)"

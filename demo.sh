#!/bin/sh
# Set up everything, build upstream libpcap with its plugin loader and
# pcap-ring.so, and show Debian's unchanged tcpdump capturing through it
# on a throwaway pair of network namespaces.  Run as root on Debian 12 or 13.
set -u
top=$(cd "$(dirname "$0")" && pwd)
cd "$top" || exit 1
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (it installs packages and creates network namespaces)"; exit 1; }

step() { printf '\n== %s\n' "$*"; }

step "installing build and test dependencies"
./build-aux/install-deps.sh || exit 1

step "building libpcap ${LIBPCAP_VERSION:-1.10.3} with the plugin loader, pcap-ring.so (and stock, for comparison)"
mkdir -p build/demo
autoreconf -fi > build/demo/autoreconf.log 2>&1 || { cat build/demo/autoreconf.log; exit 1; }
(cd build/demo && "$top/configure" --with-libpcap-version="${LIBPCAP_VERSION:-1.10.3}" > configure.log 2>&1) ||
	{ tail -n 20 build/demo/configure.log; exit 1; }
make -C build/demo -j"$(nproc)" > build/demo/make.log 2>&1 || { tail -n 40 build/demo/make.log; exit 1; }
make -C build/demo tests/tools/ring-gen tests/tools/ring-tx tests/tools/ring-cap \
	tests/tools/tx-bench > /dev/null 2>&1 || { echo "building the demo's tools failed"; exit 1; }

RING_DROPIN=$top/build/demo/dropin-ring
STOCK_DROPIN=$top/build/demo/dropin-stock
TOOLS=$top/build/demo/tests/tools
. "$top/tests/lib/common.sh"
. "$top/tests/lib/netns.sh"
set +u

step "the drop-in directory: $RING_DROPIN (libpcap with its plugin loader)"
echo "   it loads the plugin $top/build/demo/plugins/pcap-ring.so;"
echo "   PCAP_RING_TRACE=FILE says which devices the plugin took"

step "a test bed: namespaces $NS_A and $NS_B joined by veth $VETH_A <-> $VETH_B"
bed_setup

step "unchanged tcpdump captures on $VETH_B through pcap-ring while $NS_A sends 8 frames"
bed_bg in_b env LD_LIBRARY_PATH="$RING_DROPIN" PCAP_RING_TRACE="$BED_TMP/trace" \
	tcpdump -i "$VETH_B" -n -e -c 8 > "$BED_TMP/tcpdump.out" 2> "$BED_TMP/tcpdump.log"
wait_for_listening "$BED_TMP/tcpdump.log"
in_a env LD_LIBRARY_PATH="$STOCK_DROPIN" "$TOOLS/ring-gen" -i "$VETH_A" -n 8 -l 60-300 > /dev/null
wait "$BG_PID"
cat "$BED_TMP/trace" "$BED_TMP/tcpdump.log" "$BED_TMP/tcpdump.out"

frames=300000
step "batched injection: $frames frames from $NS_A through the TX ring (one kick per 64 frames),"
echo "   captured on $VETH_B by unchanged tcpdump through pcap-ring and checked frame by frame"
bed_bg in_b env LD_LIBRARY_PATH="$RING_DROPIN" tcpdump -i "$VETH_B" -c "$frames" \
	-w "$BED_TMP/batch.pcap" > /dev/null 2> "$BED_TMP/batch.log"
capture=$BG_PID
wait_for_listening "$BED_TMP/batch.log"
in_a env LD_LIBRARY_PATH="$RING_DROPIN" "$TOOLS/ring-tx" -i "$VETH_A" -n "$frames" \
	-l 60-1514 -b 64 -s | sed 's/^/   /'
wait "$capture"
grep -E "captured|dropped" "$BED_TMP/batch.log" | sed 's/^/   tcpdump: /'
echo "   check: $(env LD_LIBRARY_PATH="$RING_DROPIN" "$TOOLS/ring-cap" -R "$BED_TMP/batch.pcap" -n "$frames")"

secs=3
step "stock vs pcap-ring injection: 64-byte frames for ${secs} s each into an ifb sink device"
ifb=prx$BED_ID
ip -n "$NS_A" link add "$ifb" type ifb && ip -n "$NS_A" link set "$ifb" up ||
	{ echo "   no ifb driver here; skipping the comparison"; exit 0; }
rate() {
	# rate LABEL LIBDIR [tx-bench options]: frames per second, with a dot a second.
	label=$1 dir=$2
	shift 2
	in_a env LD_LIBRARY_PATH="$dir" "$TOOLS/tx-bench" -i "$ifb" -s 64 -t "$secs" "$@" \
		> "$BED_TMP/rate.out" 2>&1 &
	pid=$!
	printf '   %-34s' "$label" >&2
	while kill -0 "$pid" 2>/dev/null; do
		printf . >&2
		sleep 1
	done
	wait "$pid" || { echo " failed: $(cat "$BED_TMP/rate.out")" >&2; echo 0; return; }
	set -- $(cat "$BED_TMP/rate.out")
	pps=$(( $2 * 1000000000 / $4 ))
	echo " $pps frames/s" >&2
	echo "$pps"
}
stock_pps=$(rate "stock pcap_inject()" "$STOCK_DROPIN")
ring_pps=$(rate "pcap-ring, batches of 256" "$RING_DROPIN" -b 256)
awk -v s="$stock_pps" -v r="$ring_pps" 'BEGIN {
	if (s > 0) printf "\n   pcap-ring batched injection: %.2fx stock (%d vs %d frames/s)\n", r / s, r, s }'

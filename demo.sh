#!/bin/sh
# Set up everything, build upstream libpcap with pcap-ring, and show
# Debian's unchanged tcpdump capturing through it on a throwaway pair of
# network namespaces.  Run as root on Debian 12 or 13.
set -u
top=$(cd "$(dirname "$0")" && pwd)
cd "$top" || exit 1
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (it installs packages and creates network namespaces)"; exit 1; }

step() { printf '\n== %s\n' "$*"; }

step "installing build and test dependencies"
./build-aux/install-deps.sh || exit 1

step "building libpcap ${LIBPCAP_VERSION:-1.10.3} with pcap-ring (and stock, for comparison)"
mkdir -p build/demo
autoreconf -fi > build/demo/autoreconf.log 2>&1 || { cat build/demo/autoreconf.log; exit 1; }
(cd build/demo && "$top/configure" --with-libpcap-version="${LIBPCAP_VERSION:-1.10.3}" > configure.log 2>&1) ||
	{ tail -n 20 build/demo/configure.log; exit 1; }
make -C build/demo -j"$(nproc)" > build/demo/make.log 2>&1 || { tail -n 40 build/demo/make.log; exit 1; }
make -C build/demo tests/tools/ring-gen > /dev/null 2>&1 || { echo "building ring-gen failed"; exit 1; }

RING_DROPIN=$top/build/demo/dropin-ring
STOCK_DROPIN=$top/build/demo/dropin-stock
TOOLS=$top/build/demo/tests/tools
. "$top/tests/lib/common.sh"
. "$top/tests/lib/netns.sh"
set +u

step "the drop-in directory: $RING_DROPIN"
echo "\$ LD_LIBRARY_PATH=$RING_DROPIN tcpdump --version"
env LD_LIBRARY_PATH="$RING_DROPIN" tcpdump --version 2>&1 | head -n 2

step "a test bed: namespaces $NS_A and $NS_B joined by veth $VETH_A <-> $VETH_B"
bed_setup

step "unchanged tcpdump captures on $VETH_B through pcap-ring while $NS_A sends 8 frames"
bed_bg in_b env LD_LIBRARY_PATH="$RING_DROPIN" tcpdump -i "$VETH_B" -n -e -c 8 \
	> "$BED_TMP/tcpdump.out" 2> "$BED_TMP/tcpdump.log"
wait_for_listening "$BED_TMP/tcpdump.log"
in_a env LD_LIBRARY_PATH="$STOCK_DROPIN" "$TOOLS/ring-gen" -i "$VETH_A" -n 8 -l 60-300 > /dev/null
wait "$BG_PID"
cat "$BED_TMP/tcpdump.log" "$BED_TMP/tcpdump.out"

#!/bin/sh
# Injection benchmark: stock pcap_inject(), pcap-ring unbatched, batched
# (8, 64 and 256 frames per kick), pcap_sendqueue_transmit(), and trafgen
# (netsniff-ng's TX ring) as a reference; on a veth pair with the peer in
# another namespace, and on an ifb device, which discards what it is sent
# (the host-side cost alone); 64 B and 1514 B frames.
#
# usage: tx.sh [--quick] [RUNS SECONDS]   (as root; run by run-bench.sh,
#                                          which sets the paths it needs)
#   --quick  1 run of 1 s per case (default: 3 runs of 2 s)
# BENCH_TX_PATHS, BENCH_IFACES and BENCH_SIZES (space-separated) run a
# subset of the cases.
# Prints TSV rows "part path iface size run pps cpu_ns_per_pkt drop_pct"
# (part tx, drop_pct -):
#   pps             frames the kernel took per second
#   cpu_ns_per_pkt  the injecting process's user+system CPU time per frame
#                   (pps and CPU are of the whole process, setup included,
#                   for every path as for trafgen)
# Every case runs once per run, in an order that rotates every run, so
# that drift in the machine's load hits all alike; compare ratios to
# stock within a run.  On stderr, a summary of the ratios.
set -u
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"

runs=3 secs=2
if [ "${1:-}" = --quick ]; then
	runs=1 secs=1
	shift
fi
[ $# -ge 2 ] && runs=$1 secs=$2
require_root
command -v trafgen >/dev/null 2>&1 || fail "needs trafgen (apt-get install netsniff-ng)"
command -v python3 >/dev/null 2>&1 || fail "needs python3"
bed_setup
[ -n "${BENCH_STATE:-}" ] && echo "$NS_A $NS_B" >> "$BENCH_STATE/namespaces"
IFB=prx$BED_ID
ip -n "$NS_A" link add "$IFB" type ifb || fail "no ifb device (modprobe ifb)"
ip -n "$NS_A" link set "$IFB" up

rusage=$(cd "$(dirname "$0")" && pwd)/rusage.py

trafgen_conf() {
	cat > "$BED_TMP/frame-$1.cfg" <<CFG
{ eth(da=02:00:5e:10:00:02, sa=02:00:5e:10:00:01, type=0x0800),
  ipv4(saddr=198.51.100.1, daddr=198.51.100.2, ttl=64),
  udp(sp=9, dp=9), fill(0x55, $(($1 - 42))) }
CFG
}

# measure PATH IFACE SIZE RUN: one row.
measure() {
	path=$1 iface=$2 size=$3 run=$4
	dev=$VETH_A
	[ "$iface" = ifb ] && dev=$IFB
	case $path in
	stock) args= lib=stock ;;
	ring) args= lib=ring ;;
	ring-b256-bypass) args="-b 256 -B" lib=ring ;;
	ring-b*) args="-b ${path#ring-b}" lib=ring ;;
	sendqueue) args=-Q lib=ring ;;
	esac
	if [ "$path" = trafgen ]; then
		# trafgen says how many it sent ("N packets outgoing") when stopped.
		t0=$(date +%s%N)
		in_a python3 "$rusage" "$BED_TMP/cpu" timeout -s INT "$secs" \
			trafgen --no-sock-mem -Q -P 1 -o "$dev" -i "$BED_TMP/frame-$size.cfg" \
			> "$BED_TMP/trafgen.log" 2>&1
		t1=$(date +%s%N)
		sent=$(tr '\r' '\n' < "$BED_TMP/trafgen.log" |
			awk '$2 == "packets" && $3 == "outgoing" { print $1 }')
		[ -n "$sent" ] || fail "trafgen: $(cat "$BED_TMP/trafgen.log")"
		ns=$((t1 - t0)) cpu=$(cat "$BED_TMP/cpu")
	else
		# The whole process is timed, as trafgen is: setup and teardown count.
		t0=$(date +%s%N)
		out=$(in_a python3 "$rusage" "$BED_TMP/cpu" env $(tool_env $lib) \
			"$TOOLS/tx-bench" -i "$dev" -s "$size" -t "$secs" $args 2>&1) ||
			fail "$path $iface $size: $out"
		t1=$(date +%s%N)
		set -- $out
		sent=$2 ns=$((t1 - t0)) cpu=$(cat "$BED_TMP/cpu")
	fi
	echo "tx $path $iface $size B run $run: $sent frames in $((ns / 1000000)) ms," \
		"cpu $((cpu / 1000000)) ms" >&2
	awk -v p="$path" -v i="$iface" -v s="$size" -v r="$run" -v n="$sent" \
	    -v ns="$ns" -v cpu="$cpu" 'BEGIN {
		printf "tx\t%s\t%s\t%s\t%s\t%.0f\t%.1f\t-\n", p, i, s, r,
		    n / (ns / 1e9), (n > 0 ? cpu / n : 0)
	}' | tee -a "$BED_TMP/rows"
}

for size in 64 1514; do
	trafgen_conf $size
done
# trafgen bypasses the qdisc by default; ring-b256-bypass is its like.
paths=${BENCH_TX_PATHS:-stock ring ring-b8 ring-b64 ring-b256 ring-b256-bypass sendqueue trafgen}
printf 'part\tpath\tiface\tsize\trun\tpps\tcpu_ns_per_pkt\tdrop_pct\n'
: > "$BED_TMP/rows"
run=1
while [ $run -le "$runs" ]; do
	# Rotate the order of the paths by one every run.
	order=$(echo $paths | awk -v r=$run '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r - 1) % NF + 1) }')
	for iface in ${BENCH_IFACES:-veth ifb}; do
		for size in ${BENCH_SIZES:-64 1514}; do
			for path in $order; do
				measure $path $iface $size $run
			done
		done
	done
	run=$((run + 1))
done

# Ratios to stock, per run, then the median over runs.
awk -F'\t' '
{ pps[$2,$3,$4,$5] = $6; cpu[$2,$3,$4,$5] = $7; runs[$5] = 1; key[$2"\t"$3"\t"$4] = 1 }
END {
	printf "\nratios to stock (median over runs): pps, cpu per frame\n" > "/dev/stderr"
	for (k in key) {
		split(k, f, "\t")
		n = 0
		for (r in runs) {
			s = pps["stock", f[2], f[3], r]
			if (s > 0) { a[++n] = pps[f[1], f[2], f[3], r] / s; c[n] = cpu[f[1], f[2], f[3], r] / cpu["stock", f[2], f[3], r] }
		}
		if (n == 0) continue
		# insertion sort for the median
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] < a[j-1]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		for (i = 2; i <= n; i++) for (j = i; j > 1 && c[j] < c[j-1]; j--) { t = c[j]; c[j] = c[j-1]; c[j-1] = t }
		printf "  %-10s %-4s %4s B  %.2fx  cpu %.2fx\n", f[1], f[2], f[3], a[int((n + 1) / 2)], c[int((n + 1) / 2)] > "/dev/stderr"
	}
}' "$BED_TMP/rows"

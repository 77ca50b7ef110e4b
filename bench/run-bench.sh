#!/bin/sh
# make bench: stock vs ring libpcap, capture (bench/capture.sh) and
# injection (bench/tx.sh, if present), then tables and a plot.
#
# usage: run-bench.sh [--quick]       (as root; run through `make bench`,
#                                      which sets the library and tool paths)
#   --quick  2 runs of 2 s per case instead of 5 runs of 4 s
#   BENCH_RUNS and BENCH_SECS set other numbers (the injection part
#   alone takes about 64 cases times RUNS times SECS).
#   BENCH_PARTS (space-separated, default "capture tx") runs a subset of
#   the parts; bench/capture.sh says how to run a subset of its cases.
# Writes bench/results.md and bench/results.png (the raw rows go to
# bench/out/), and prints where.  Each part builds its namespace bed and
# removes it on exit; if a part is killed, this script removes what it left.
set -u

here=$(cd "$(dirname "$0")" && pwd)
runs=${BENCH_RUNS:-5} secs=${BENCH_SECS:-4}
case "${1:-}" in
--quick) runs=2 secs=2 ;;
'') ;;
*) echo "usage: run-bench.sh [--quick]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "run-bench: the benchmark needs root: it creates network namespaces and" \
		"veth devices and captures on them. Run: sudo make bench" >&2
	exit 1
fi
for v in RING_DROPIN STOCK_DROPIN TOOLS TCPDUMP; do
	eval "val=\${$v:-}"
	[ -n "$val" ] || { echo "run-bench: $v is not set; run it through 'make bench'" >&2; exit 2; }
done
export TESTSRCDIR=${TESTSRCDIR:-$here/../tests}

out=$here/out
mkdir -p "$out"
BENCH_STATE=$(mktemp -d /tmp/pcap-ring-bench.XXXXXX)
export BENCH_STATE
child=

cleanup() {
	[ -n "$child" ] && kill "$child" 2>/dev/null && wait "$child" 2>/dev/null
	# A part that was killed could not remove its namespaces (and with
	# them its veth pair).
	for ns in $(cat "$BENCH_STATE/namespaces" 2>/dev/null); do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$BENCH_STATE"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# run_part NAME SCRIPT: its rows go to bench/out/NAME.tsv, its progress
# to the terminal.  A part that fails is left out of the report (its rows
# are kept as NAME.tsv.failed) and makes the whole run fail, after the
# other parts are reported.
failed=
run_part() {
	echo "run-bench: $1: $runs runs of ${secs} s per case, stock and ring interleaved"
	sh "$2" "$runs" "$secs" > "$out/$1.tsv" &
	child=$!
	wait "$child"
	status=$?
	child=
	if [ $status -ne 0 ]; then
		echo "run-bench: $1 failed (exit $status); left out of the report" >&2
		mv "$out/$1.tsv" "$out/$1.tsv.failed"
		failed="$failed $1"
	fi
}

rm -f "$out"/*.tsv "$out"/*.tsv.failed
for part in ${BENCH_PARTS:-capture tx}; do
	case $part in
	capture) run_part capture "$here/capture.sh" ;;
	tx)
		if [ -f "$here/tx.sh" ]; then
			run_part tx "$here/tx.sh"
		else
			echo "run-bench: no bench/tx.sh; injection not measured"
		fi
		;;
	*) echo "run-bench: unknown part '$part' in BENCH_PARTS (capture, tx)" >&2; exit 2 ;;
	esac
done

set -- "$out"/*.tsv
[ -f "$1" ] || { echo "run-bench: no part succeeded" >&2; exit 1; }
python3 "$here/report.py" --md "$here/results.md" --png "$here/results.png" \
	--runs "$runs" --secs "$secs" "$@" || exit 1
[ -z "$failed" ] || { echo "run-bench: failed:$failed" >&2; exit 1; }

# Unchanged tcpdump, whose SIGUSR1 handler calls pcap_stats() and prints
# the counts, signalled every 5 ms while it captures 10000 frames, under
# the stock and the ring library alike: it keeps capturing and exits 0 on
# SIGINT; the counts it printed never went back; at the end it captured
# every frame sent and says so (captured = received by filter = sent,
# none dropped).  Promiscuous, tcpdump's default, so pcap_stats() also
# reads the interface's drop counters each time.  The module's trace
# shows that pcap-ring took the device in the ring run.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
need tcpdump tcpdump test -x "${TCPDUMP:-}"
bed_setup

frames=10000
for lib in stock ring; do
	err=$BED_TMP/$lib.err
	# No timeout(1) in between: it would die of the signal itself.
	bed_bg in_b env $(lib_env $lib) $(trace_env "$BED_TMP/$lib.trace") \
		"$TCPDUMP" -i "$VETH_B" -n -B 32768 -w /dev/null 2> "$err"
	pid=$BG_PID
	wait_for_listening "$err"
	( while kill -USR1 "$pid" 2>/dev/null; do sleep 0.005; done ) &
	signaller=$!
	BED_PIDS="$BED_PIDS $signaller"
	for first in 0 2000 4000 6000 8000; do
		in_a env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_A" \
			-f "$first" -n 2000 -m udp -l 60-1514 > /dev/null ||
			fail "$lib: sending frames $first-$((first + 1999)) failed"
		sleep 0.1
	done
	# tcpdump's 1 s timeout hands over the last block.
	sleep 1.5
	kill "$signaller"
	wait "$signaller" 2>/dev/null
	kill -0 "$pid" 2>/dev/null || fail "$lib: tcpdump died under SIGUSR1: $(tail -n 3 "$err")"
	kill -INT "$pid"
	# A handler stuck in pcap_stats() would keep it from ever exiting.
	wait_until 100 sh -c "! kill -0 $pid 2>/dev/null" || {
		kill -KILL "$pid"
		fail "$lib: tcpdump still running 10 s after SIGINT: $(tail -n 3 "$err")"
	}
	wait "$pid"
	status=$?
	[ "$status" -eq 0 ] || fail "$lib: tcpdump exited with status $status: $(tail -n 3 "$err")"
	# captured, received by filter, dropped by kernel[, by interface]
	sed -n 's/^tcpdump: \([0-9]*\) packets\? captured, \([0-9]*\) packets\? received by filter, \([0-9]*\) packets\? dropped by kernel\(, \([0-9]*\) packets\? dropped by interface\)\?$/\1 \2 \3 \5/p' \
		"$err" > "$BED_TMP/$lib.reports"
	reports=$(wc -l < "$BED_TMP/$lib.reports")
	[ "$reports" -ge 20 ] || fail "$lib: $reports SIGUSR1 reports, expected at least 20: $(head -n 5 "$err")"
	# A report printed late (tcpdump defers one that lands in its
	# packet callback) may follow the next one: each must be at least
	# every report but the one just before it.
	awk -v lib="$lib" '
		{
			for (i = 1; i <= 4; i++) {
				if ($i + 0 < before[i]) {
					printf "%s: report %d went back: %s\n", lib, NR, $0
					bad = 1
				}
				if (last[i] + 0 > before[i])
					before[i] = last[i]
				last[i] = $i
			}
		}
		END { exit bad }' "$BED_TMP/$lib.reports" ||
		fail "$lib: the counts tcpdump printed on SIGUSR1 went back"
	assert_eq "$lib: final counts" \
		"$frames packets captured|$frames packets received by filter|0 packets dropped by kernel" \
		"$(grep -E '^[0-9]+ packets? (captured|received by filter|dropped by kernel)$' "$err" | paste -sd '|')"
	echo "ok: $lib: $frames frames captured under $reports SIGUSR1 reports, counts never going back"
done
assert_claimed "ring run" "$BED_TMP/ring.trace" "$VETH_B"
assert_untraced "stock run" "$BED_TMP/stock.trace"

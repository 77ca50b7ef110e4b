# Unchanged dumpcap and tshark stop on their own conditions on a link that
# carries 5 frames and then goes idle, under the stock and the ring
# library alike: -a duration:N, -b duration:N -a files:M (file switching
# by time), and -b packets:2 -a packets:5 (by count).  They must exit with
# status 0 within N + 2.5 s of opening the device (N = 0 for the count)
# and have written the frames in the files expected, the same under both
# libraries.  Both libraries capture the same 5 frames side by side.
# (dumpcap waits in select() on the pcap fd and then reads one packet per
# pcap_dispatch(); its timers run only when that read returns.)  The
# module's trace shows that pcap-ring took the device in the ring runs.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
need tcpdump tcpdump test -x "${TCPDUMP:-}"
need dumpcap wireshark-common test -x "${DUMPCAP:-}"
need capinfos wireshark-common command -v capinfos
bed_setup

# stop_case PROGRAM NAME SECONDS FILES OPTIONS...: capture with both
# libraries at once until PROGRAM's own stop condition, sending 5 frames
# once both are armed; SECONDS is when each must stop, FILES the number of
# files each must write.
stop_case() {
	program=$1 name=$2 secs=$3 files=$4
	shift 4
	for lib in stock ring; do
		mkdir -p "$BED_TMP/$name-$lib"
		bed_bg in_b env $(lib_env $lib) $(trace_env "$BED_TMP/$name-$lib.trace") \
			timeout --foreground 30 "$program" -i "$VETH_B" "$@" \
			-w "$BED_TMP/$name-$lib/cap.pcapng"
		eval "pid_$lib=\$BG_PID"
	done
	# dumpcap says it captures before it opens the device: wait
	# until both sockets are bound, then send.
	n=200
	until [ "$(in_b ss -0 -n | grep -c "[*]:$VETH_B ")" -ge 2 ]; do
		kill -0 $pid_stock 2>/dev/null && kill -0 $pid_ring 2>/dev/null &&
			[ $n -gt 0 ] || fail "$name: the captures did not start"
		sleep 0.05
		n=$((n - 1))
	done
	start=$(date +%s.%N)
	in_a env $(tool_env stock) "$TOOLS/ring-gen" -i "$VETH_A" -n 5 \
		> "$BED_TMP/send.log" 2>&1 || fail "sending: $(cat "$BED_TMP/send.log")"
	# Both exits first (one waited for after the other exited is timed
	# late, never early), then the checks.
	for lib in stock ring; do
		eval "pid=\$pid_$lib"
		wait $pid
		eval "status_$lib=$? took_$lib=$(since "$start")"
	done
	for lib in stock ring; do
		out=$BED_TMP/$name-$lib
		eval "status=\$status_$lib took=\$took_$lib"
		[ $status = 0 ] ||
			fail "$name, $lib library: exit status $status after ${took}s (124: still running after 30 s)"
		if [ $lib = ring ]; then
			assert_claimed "$name, $lib library" "$out.trace" "$VETH_B"
		else
			assert_untraced "$name, $lib library" "$out.trace"
		fi
		awk -v t="$took" -v max="$secs" 'BEGIN { exit !(t <= max + 2.5) }' ||
			fail "$name, $lib library: exited after ${took}s, more than $secs + 2.5 s"
		nfiles=$(ls "$out" | wc -l)
		[ "$nfiles" = "$files" ] ||
			fail "$name, $lib library: $nfiles files written, $files expected: $(ls "$out")"
		packets=$(for f in "$out"/*; do
			env $(lib_env stock) "$TCPDUMP" -r "$f" -n -t -e -xx 2>/dev/null
		done)
		[ "$(printf '%s\n' "$packets" | grep -c '^[0-9a-f:]* > ')" = 5 ] ||
			fail "$name, $lib library: not the 5 frames sent: $packets"
		printf '%s\n' "$packets" > "$out.packets"
		echo "ok: $name, $lib library: exit 0 after ${took}s, $nfiles file(s), 5 frames"
	done
	cmp -s "$BED_TMP/$name-stock.packets" "$BED_TMP/$name-ring.packets" ||
		fail "$name: the frames differ between the stock and the ring library"
}

stop_case "$DUMPCAP" dumpcap-duration 3 1 -a duration:3
stop_case "$DUMPCAP" dumpcap-files 3 3 -b duration:1 -a files:3
stop_case "$DUMPCAP" dumpcap-packets 0 3 -b packets:2 -a packets:5
# See t-dumpcap-tshark.sh: tshark does not capture with the sanitizer
# runtime preloaded.
if ! have tshark tshark test -x "${TSHARK:-}"; then
	skip_case "tshark stop cases: tshark is not installed"
elif [ "${SANITIZERS:-0}" = 1 ]; then
	skip_case "tshark stop cases: tshark hangs with the sanitizer runtime preloaded"
else
	stop_case "$TSHARK" tshark-duration 3 1 -a duration:3
	stop_case "$TSHARK" tshark-files 2 2 -b duration:1 -a files:2
fi

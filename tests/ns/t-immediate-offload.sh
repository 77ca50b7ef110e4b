# Immediate mode keeps small ring frames, yet TCP segments that TSO hands
# over whole (up to 64 KiB on veth) are captured whole, as stock does:
# 1 MiB sent over TCP is 1 MiB of captured payload, nothing truncated.
# (Stock, whose immediate-mode ring is 32 frames, captures them whole too
# but may drop some of the burst, so only truncation is compared there.)
# Then, under both libraries, with the capture stopped (SIGSTOP) while 32
# MiB pass, more whole packets than the socket's receive buffer holds
# beside the ring: none is captured cut short, those that could not be
# kept are counted as dropped, and captured + dropped = received.
# Last, with offloads off and the MTU raised from 1500 to 9000 after
# activation: pcap-ring captures the 9014-byte frames whole (queued whole
# copies, as for offload packets), where stock cuts them to the frames it
# sized for the MTU it saw at activation (a documented gain).
# The module's trace shows that the ring runs went through pcap-ring.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
need tcpdump tcpdump test -x "${TCPDUMP:-}"
need python3 python3 command -v python3
need tshark tshark test -x "${TSHARK:-}"
need ethtool ethtool command -v ethtool
bed_setup

# TEST-NET-2 addresses, on the bed's own veth pair only.
ip -n "$NS_A" addr add 198.51.100.1/24 dev "$VETH_A"
ip -n "$NS_B" addr add 198.51.100.2/24 dev "$VETH_B"
cat > "$BED_TMP/server.py" <<'PY'
import socket
s = socket.socket()
s.bind(("198.51.100.2", 5555))
s.listen(1)
open(__import__("sys").argv[1], "w").close()
c, _ = s.accept()
n = 0
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    n += len(d)
print(n)
PY
cat > "$BED_TMP/client.py" <<'PY'
import socket, sys
c = socket.create_connection(("198.51.100.2", 5555))
c.sendall(bytes(range(256)) * (4096 * int(sys.argv[1])))
c.close()
PY

# transfer MIB: send MIB MiB over TCP from NS_A and check that it arrived.
transfer() {
	rm -f "$BED_TMP/ready"
	bed_bg in_b timeout --foreground 60 python3 "$BED_TMP/server.py" "$BED_TMP/ready" \
		> "$BED_TMP/server.out"
	srv=$BG_PID
	wait_for_file "$BED_TMP/ready"
	in_a timeout --foreground 60 python3 "$BED_TMP/client.py" "$1" || fail "$lib: client"
	wait $srv || fail "$lib: server"
	assert_eq "$lib $case: server received" $(($1 * 1048576)) "$(cat "$BED_TMP/server.out")"
}

# The client's segments in the capture: "truncated N big yes|no payload N
# duplicates N".  Payload counts each byte of the stream once, so that a
# TCP retransmission (a new packet with a new IP id, which a loaded
# machine may send) does not count twice; a frame the capture delivered
# twice (the same IP id and sequence number) is a duplicate.
segments() {
	"$TSHARK" -r "$1" -Y "ip.src==198.51.100.1" -o tcp.relative_sequence_numbers:TRUE \
		-T fields -e frame.len -e frame.cap_len -e ip.id -e tcp.seq -e tcp.len \
		2>/dev/null | python3 -c '
import sys
cut = big = dups = 0
seen, spans = set(), []
for line in sys.stdin:
    wire, caplen, ipid, seq, length = line.split()
    cut += wire != caplen
    big += int(wire) > 1518
    key = (ipid, seq, length)
    dups += key in seen
    seen.add(key)
    if int(length):
        spans.append((int(seq), int(seq) + int(length)))
payload = end = 0
for start, stop in sorted(spans):
    start = max(start, end)
    if stop > start:
        payload += stop - start
        end = stop
print("truncated %d big %s payload %d duplicates %d"
      % (cut, "yes" if big else "no", payload, dups))'
}

for lib in ring stock; do
	for case in plain full mtu; do
		if [ $case = mtu ]; then
			in_a ethtool -K "$VETH_A" tso off gso off gro off > /dev/null ||
				fail "ethtool -K $VETH_A tso off gso off gro off"
		fi
		log=$BED_TMP/$lib-$case.log
		pcap=$BED_TMP/$lib-$case.pcap
		trace=$BED_TMP/$lib-$case.trace
		bed_bg in_a env $(lib_env $lib) $(trace_env "$trace") \
			"$TCPDUMP" --immediate-mode -i "$VETH_A" \
			-w "$pcap" "tcp port 5555" > "$log" 2>&1
		cap=$BG_PID
		wait_for_listening "$log"
		if [ $lib = ring ]; then
			assert_claimed "$lib $case: tcpdump" "$trace" "$VETH_A"
		else
			assert_untraced "$lib $case: tcpdump" "$trace"
		fi
		case $case in
		plain)
			transfer 1
			;;
		full)
			kill -STOP $cap
			transfer 32
			kill -CONT $cap
			;;
		mtu)
			ip -n "$NS_A" link set "$VETH_A" mtu 9000
			ip -n "$NS_B" link set "$VETH_B" mtu 9000
			transfer 1
			;;
		esac
		# Let the last segments reach the capture before stopping it.
		sleep 0.5
		kill -INT $cap
		wait $cap
		stats=$(segments "$pcap")
		if [ $lib = ring ] && [ $case != full ]; then
			assert_eq "$lib $case: client segments" \
				"truncated 0 big yes payload 1048576 duplicates 0" "$stats"
		elif [ $case = mtu ]; then
			assert_match "$lib $case: client segments, cut to the MTU at activation" \
				"^truncated [1-9][0-9]* big yes payload [0-9]+ duplicates 0$" "$stats"
		else
			assert_match "$lib $case: client segments" \
				"^truncated 0 big yes payload [0-9]+ duplicates 0$" "$stats"
		fi
		captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$log")
		received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$log")
		dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$log")
		[ -n "$captured" ] && [ -n "$received" ] && [ -n "$dropped" ] ||
			fail "$lib $case: no statistics from tcpdump: $(cat "$log")"
		assert_eq "$lib $case: captured + dropped = received" \
			"$received" $((captured + dropped))
		if [ $case = full ]; then
			[ "$dropped" -gt 0 ] ||
				fail "$lib $case: no drop counted with the receive buffer full"
		fi
		if [ $case = mtu ]; then
			ip -n "$NS_A" link set "$VETH_A" mtu 1500
			ip -n "$NS_B" link set "$VETH_B" mtu 1500
			in_a ethtool -K "$VETH_A" tso on gso on gro on > /dev/null
		fi
	done
done

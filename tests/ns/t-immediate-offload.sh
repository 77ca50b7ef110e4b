# Immediate mode keeps small ring frames, yet TCP segments that TSO hands
# over whole (up to 64 KiB on veth) are captured whole, as stock does:
# 1 MiB sent over TCP is 1 MiB of captured payload, nothing truncated.
# (Stock, whose immediate-mode ring is 32 frames, captures them whole too
# but may drop some of the burst, so only truncation is compared there.)
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
command -v python3 >/dev/null || skip "needs python3"
[ -n "$TSHARK" ] || skip "needs tshark"
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
import socket
c = socket.create_connection(("198.51.100.2", 5555))
c.sendall(bytes(range(256)) * 4096)
c.close()
PY

for lib in ring stock; do
	bed_bg in_a env $(lib_env $lib) "$TCPDUMP" --immediate-mode -i "$VETH_A" \
		-w "$BED_TMP/$lib.pcap" "tcp port 5555" > "$BED_TMP/$lib.log" 2>&1
	cap=$BG_PID
	wait_for_listening "$BED_TMP/$lib.log"
	rm -f "$BED_TMP/ready"
	in_b python3 "$BED_TMP/server.py" "$BED_TMP/ready" > "$BED_TMP/server.out" &
	srv=$!
	wait_for_file "$BED_TMP/ready"
	in_a python3 "$BED_TMP/client.py" || fail "$lib: client"
	wait $srv
	assert_eq "$lib: server received" 1048576 "$(cat "$BED_TMP/server.out")"
	# Let the last segments reach the capture before stopping it.
	sleep 0.5
	kill -INT $cap
	wait $cap
	stats=$("$TSHARK" -r "$BED_TMP/$lib.pcap" -Y "ip.src==198.51.100.1" \
		-T fields -e frame.len -e frame.cap_len -e tcp.len 2>/dev/null |
		awk '$1 != $2 { cut++ } $1 > 1518 { big++ } { bytes += $3 }
		     END { printf "truncated %d big %s payload %d\n", cut, (big > 0 ? "yes" : "no"), bytes }')
	if [ $lib = ring ]; then
		assert_eq "$lib: client segments" "truncated 0 big yes payload 1048576" "$stats"
	else
		assert_match "$lib: client segments" "^truncated 0 big yes payload [0-9]+$" "$stats"
	fi
done

# Shared by the tests/tx scripts: inject test frames with ring-tx through
# the ring build and check, frame by frame, what a capture on the peer
# (stock libpcap, so that it does not depend on the module) received.
# Source after common.sh and netns.sh, and after bed_setup.

# tx_peer_one_cpu: VETH_B (or TX_PEER) hands every frame it receives to CPU 0's backlog
# (RPS).  A veth puts a frame in the backlog of the CPU that transmitted
# it, and a queue discipline transmits from the sender's system call or
# from its timer, on whichever CPU each runs: frames close together then
# reach the capture through two backlogs, and the busier CPU's may come
# second although it went first.  Through one backlog they arrive in the
# order the interface sent them, so a sender's wrong order still shows.
# Only with a queue discipline in NS_A: without one (veth's noqueue) every
# frame goes out in the sender's system call, and the detour through CPU 0
# would only keep frames in flight longer, filling the sender's SO_SNDBUF.
tx_peer_one_cpu() {
	tc -n "$NS_A" qdisc show | grep -qv ' noqueue ' || return 0
	# In the namespace: its sysfs is the one that has the interface.
	in_b sh -c 'for queue in /sys/class/net/"$1"/queues/rx-*; do
		echo 1 > "$queue/rps_cpus" || exit 1
	done' sh "${TX_PEER:-$VETH_B}" || fail "RPS on ${TX_PEER:-$VETH_B}"
}

# tx_slow_link RATE [DEV]: tbf holds DEV (default VETH_A) in NS_A to RATE,
# its queue empty: frames an earlier case left in flight would fill the
# 1 MB limit, and tbf would then drop new frames rather than hold them.
tx_slow_link() {
	tc -n "$NS_A" qdisc del dev "${2:-$VETH_A}" root 2>/dev/null
	tc -n "$NS_A" qdisc add dev "${2:-$VETH_A}" root tbf rate "$1" burst 10kb limit 1mb ||
		fail "tc qdisc add tbf rate $1 on ${2:-$VETH_A}"
}

# tx_capture NAME EXPECTED [ring-cap options]: start a capture on VETH_B
# (or on TX_PEER, an interface of NS_B, if set)
# that stops after EXPECTED test frames or 10 s of silence (non-blocking,
# as a V3 ring that receives nothing never returns from a blocking read;
# 10 s because a sender such as scapy under the sanitizer runtime can take
# seconds to start on a loaded machine).
tx_capture() {
	name=$1 expected=$2
	shift 2
	tx_peer_one_cpu
	rm -f "$BED_TMP/ready.$name"
	bed_bg in_b env $(tool_env stock) "$TOOLS/ring-cap" -i "${TX_PEER:-$VETH_B}" \
		-n "$expected" -B 67108864 -t 10000 -N -r "$BED_TMP/ready.$name" "$@" \
		> "$BED_TMP/cap.$name" 2>&1
	CAP_PID=$BG_PID
	wait_for_file "$BED_TMP/ready.$name"
}

# tx_check_capture NAME EXPECTED BYTES: the capture got frames 0..EXPECTED-1,
# in order, once each, intact.
tx_check_capture() {
	wait "$CAP_PID"
	assert_eq "$1: frames on the peer" \
		"frames $2 bytes $3 first 0 last $(($2 - 1)) dup 0 reorder 0 bad 0 other 0" \
		"$(cat "$BED_TMP/cap.$1")"
}

# tx_check_some NAME MIN: the capture got at least MIN of the frames, from
# frame 0, in order, once each, intact; how many in CAP_GOT, the last in
# CAP_LAST.
tx_check_some() {
	wait "$CAP_PID"
	_cap=$(cat "$BED_TMP/cap.$1")
	assert_match "$1: frames on the peer in order, once each, intact" \
		"^frames [0-9]+ bytes [0-9]+ first 0 last [0-9]+ dup 0 reorder 0 bad 0 other 0$" "$_cap"
	CAP_GOT=$(echo "$_cap" | awk '{print $2}')
	CAP_LAST=$(echo "$_cap" | awk '{print $8}')
	[ "$CAP_GOT" -ge "$2" ] ||
		fail "$1: the peer got $CAP_GOT frames, of the $2 counted as sent"
	echo "ok: $1: the peer got $CAP_GOT frames (at least the $2 counted as sent)"
}

# tx_env_words [env WORD... --] ...: the environment words of such a
# prefix in TX_ENV, and in TX_ENV_SHIFT how many arguments the prefix
# takes, for the caller to shift.
tx_env_words() {
	TX_ENV= TX_ENV_SHIFT=0
	[ "${1:-}" = env ] || return 0
	shift
	TX_ENV_SHIFT=2
	while [ "$1" != -- ]; do
		TX_ENV="$TX_ENV $1"
		TX_ENV_SHIFT=$((TX_ENV_SHIFT + 1))
		shift
	done
}

# tx_run NAME COUNT [env words --] ring-tx options: inject COUNT frames
# and check that every one arrived and that the counters account for it.
tx_run() {
	name=$1 count=$2
	shift 2
	tx_env_words "$@"
	shift "$TX_ENV_SHIFT"
	tx_capture "$name" "$count"
	out=$(in_a env $(tool_env ring) $TX_ENV "$TOOLS/ring-tx" -i "$VETH_A" -n "$count" -s "$@" 2>&1) ||
		fail "$name: ring-tx: $out"
	echo "$out"
	bytes=$(echo "$out" | sed -n 's/^sent [0-9]* frames \([0-9]*\) bytes$/\1/p')
	assert_match "$name: all accepted" "^sent $count frames [0-9]+ bytes$" "$out"
	assert_match "$name: counters" \
		"^tx queued $count sent $count bytes $bytes rejected 0 dropped 0 kicks [0-9]+ waits [0-9]+ pending 0$" "$out"
	tx_check_capture "$name" "$count" "$bytes"
	TX_OUT=$out
}

# tx_kicks: the kick count of the last tx_run.
tx_kicks() {
	echo "$TX_OUT" | sed -n 's/.* kicks \([0-9]*\) .*/\1/p'
}

# The namespace test bed: two network namespaces joined by a veth pair,
# uniquely named, IPv6 off (so the kernel sends nothing of its own), and
# removed on every exit path.  Source after common.sh:
#   require_root; bed_setup
# then run commands with in_a / in_b.  Traffic goes only to these
# interfaces.

BED_ID=$$$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
# The runner names its run so that it can find what a test left behind.
NS_A=prt-${TEST_RUN_ID:-x}-a-$BED_ID
NS_B=prt-${TEST_RUN_ID:-x}-b-$BED_ID
# Interface names must fit in 15 characters.
VETH_A=pra$BED_ID
VETH_B=prb$BED_ID
BED_PIDS=

bed_cleanup() {
	for pid in $BED_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $BED_PIDS; do
		wait "$pid" 2>/dev/null
	done
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "${BED_TMP:-/nonexistent}"
}

bed_quiet_ns() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}

bed_setup() {
	trap bed_cleanup EXIT
	# A test killed from outside says so: its log would be empty.
	for sig in INT TERM HUP; do
		trap "echo \"\$0: killed by SIG$sig\" >&2; exit 1" $sig
	done
	BED_TMP=$(mktemp -d /tmp/pcap-ring-test.XXXXXX)
	ip netns add "$NS_A" || fail "ip netns add $NS_A"
	ip netns add "$NS_B" || fail "ip netns add $NS_B"
	bed_quiet_ns "$NS_A"
	bed_quiet_ns "$NS_B"
	ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B" ||
		fail "ip link add veth"
	ip -n "$NS_A" link set "$VETH_A" up
	ip -n "$NS_B" link set "$VETH_B" up
}

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

# bed_bg CMD...: run in the background, killed at cleanup; sets BG_PID,
# the program's own pid (in_a/in_b are expanded so that no subshell sits
# between it and a kill).
bed_bg() {
	case "$1" in
	in_a) shift; set -- ip netns exec "$NS_A" "$@" ;;
	in_b) shift; set -- ip netns exec "$NS_B" "$@" ;;
	esac
	"$@" &
	BG_PID=$!
	BED_PIDS="$BED_PIDS $BG_PID"
}

# wait_until TENTHS CMD...: wait until CMD succeeds, at most TENTHS
# tenths of a second; its status then.
wait_until() {
	_tenths=$1
	shift
	until "$@"; do
		[ "$_tenths" -gt 0 ] || return 1
		sleep 0.1
		_tenths=$((_tenths - 1))
	done
}

# wait_for_file FILE [TENTHS]: wait until FILE exists (default 10 s).
wait_for_file() {
	wait_until "${2:-100}" test -e "$1" || fail "timed out waiting for $1"
}

# wait_for_listening LOGFILE [TENTHS]: tcpdump and dumpcap say they are
# listening only once the capture is armed.
wait_for_listening() {
	wait_until "${2:-100}" grep -sqE "listening on|Capturing on" "$1" ||
		fail "capture did not start: $(cat "$1")"
}

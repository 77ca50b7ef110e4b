#!/bin/sh
# Capture benchmark: stock vs ring libpcap, unchanged tcpdump writing to
# /dev/null (default options, and --immediate-mode), unchanged dumpcap with
# default options (its 2 MiB pcap_set_buffer_size() request) and cap-bench
# (dumpcap's select + pcap_dispatch(cnt=1) loop), 64 B and 1514 B frames,
# sent by trafgen on one CPU, for the -maxrate cases by trafgen on every
# CPU (the highest rate the bed produces, where sender and capture share
# the cores), and for dumpcap-moderate at $MODERATE_PPS frames/s.  The
# -onecpu cases pin the program to the one CPU trafgen sends from: the
# scheduler alternates the two, so the ring must hold what the sender
# queues during its timeslice, while on average the program gets half the
# CPU.  dumpcap-bursts sends $BURSTS bursts of $BURST_MIB MiB of frames
# each from that CPU, 1.5 s apart: the first ones teach a growing ring the
# traffic, the last shows what the ring then holds; it reports two rows,
# dumpcap-first-burst and dumpcap-last-burst.  The dumpcap cases
# also run with opt-in ring growth (path ring-grow).
#
# usage: capture.sh RUNS SECONDS   (run by run-bench.sh, as root)
# BENCH_IFACES and BENCH_SIZES (space-separated) run a subset of the cases.
# Prints TSV rows "part path iface size run pps cpu_ns_per_pkt drop_pct ring_kib":
#   pps             frames captured per second of traffic
#   cpu_ns_per_pkt  the capturing process's user+system CPU time per
#                   captured frame (getrusage; wait4() for tcpdump)
#   drop_pct        frames that reached the interface but not the
#                   program, in % of those that reached it
#   ring_kib        the capturing process's packet-socket mappings (its
#                   rings) in /proc/PID/maps just before it is stopped
# Stock and ring alternate within each run, in an order that flips every
# run, so that drift in the machine's load hits both alike.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"

runs=$1 secs=$2
MODERATE_PPS=${MODERATE_PPS:-20000}
BURSTS=${BURSTS:-4}
BURST_MIB=${BURST_MIB:-16}
DUMPCAP=${DUMPCAP:-$(command -v dumpcap || true)}
require_root
command -v trafgen >/dev/null 2>&1 || fail "needs trafgen (apt-get install netsniff-ng)"
command -v python3 >/dev/null 2>&1 || fail "needs python3"
bed_setup
# run-bench.sh removes what is listed here should this script be killed.
[ -n "${BENCH_STATE:-}" ] && echo "$NS_A $NS_B" >> "$BENCH_STATE/namespaces"

# A UDP frame of SIZE bytes between two TEST-NET-2 addresses, sent as
# fast as trafgen can on one CPU.  Its destination MAC is not the peer's,
# so the peer's stack discards it right after the capture taps (both
# programs capture in promiscuous mode, their default).  --no-sock-mem and -Q: leave the
# host's socket memory sysctls and IRQ affinities alone.
trafgen_conf() {
	cat > "$BED_TMP/frame-$1.cfg" <<EOF
{ eth(da=02:00:5e:10:00:02, sa=02:00:5e:10:00:01, type=0x0800),
  ipv4(saddr=198.51.100.1, daddr=198.51.100.2, ttl=64),
  udp(sp=9, dp=9), fill(0x55, $(($1 - 42))) }
EOF
}

rusage=$(cd "$(dirname "$0")" && pwd)/rusage.py

# trafgen -P N pins its senders to CPUs 0 to N-1: the one of -P 1 runs on
# CPU 0, and so, in softirqs on that CPU, do the veth's receive path and
# the capture taps.  The -onecpu cases put the capture program there too.
SENDER_CPU=0

# The CPUs process PID may run on, as a list (e.g. "0" or "0-1").
cpus_allowed() {
	sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null
}

# sender_pinned PID: whether the sender that trafgen, run by timeout(1)
# process PID, has forked is pinned to SENDER_CPU alone.
sender_pinned() {
	_trafgen=$(ps -o pid= --ppid "$1" | tr -d ' ')
	[ -n "$_trafgen" ] || return 1
	_sender=$(ps -o pid= --ppid "$_trafgen" | tr -d ' ')
	[ -n "$_sender" ] && [ "$(cpus_allowed "$_sender")" = "$SENDER_CPU" ]
}

rx_packets() {
	in_b cat "/sys/class/net/$VETH_B/statistics/rx_packets"
}

now_ns() {
	date +%s%N
}

# KiB of packet-socket rings that process PID has mapped.
ring_kib() {
	_kib=0
	for _range in $(grep -F 'socket:[' "/proc/$1/maps" 2>/dev/null | cut -d' ' -f1); do
		_kib=$((_kib + (0x${_range#*-} - 0x${_range%-*}) / 1024))
	done
	echo $_kib
}

# The environment of a path: "ring-grow" is the ring library with opt-in
# ring growth (README), capped at 64 MiB.
path_env() {
	case $1 in
	ring-grow) echo "$(lib_env ring) PCAP_RING_BUFFER_MAX=64" ;;
	*) lib_env "$1" ;;
	esac
}

# send_stream IFACE SIZE: trafgen sends SIZE-byte frames for $secs, in the
# way the case IFACE says.
send_stream() {
	senders=1 rate=
	case $1 in *-maxrate) senders=$(nproc) ;; esac
	# An interpacket gap: trafgen's -b rate was not held here.
	[ "$1" = dumpcap-moderate ] && rate="-t $((1000000000 / MODERATE_PPS))ns"
	bed_bg in_a timeout -s INT "$secs" trafgen --no-sock-mem -Q -P "$senders" $rate \
		-o "$VETH_A" -i "$BED_TMP/frame-$2.cfg" > "$BED_TMP/trafgen.log" 2>&1
	gen_pid=$BG_PID
	case $1 in
	*-onecpu)
		# Only if they share the CPU does the ring take the bursts.
		wait_until 30 sender_pinned "$gen_pid" ||
			fail "$1: trafgen's sender is not pinned to CPU $SENDER_CPU alone"
		[ "$(cpus_allowed "$prog_pid")" = "$SENDER_CPU" ] ||
			fail "$1: the capture program is not pinned to CPU $SENDER_CPU alone"
		;;
	esac
	wait "$gen_pid"
}

# running_count LOG: the count dumpcap last wrote to stderr ("\rPackets: N ",
# at its update interval while packets come).
running_count() {
	tr '\r' '\n' < "$1" | sed -n 's/^Packets: \([0-9]*\) $/\1/p' | tail -n 1
}

# settled_count LOG: running_count once it has stayed the same for a
# second (a program short of CPU may still be draining its ring), at most
# 20 s; empty if dumpcap wrote none.
settled_count() {
	_count=$(running_count "$1") _tries=20
	while [ $_tries -gt 0 ]; do
		sleep 1
		_now=$(running_count "$1")
		[ "$_now" = "$_count" ] && break
		_count=$_now _tries=$((_tries - 1))
	done
	echo "$_count"
}

# send_bursts SIZE LOG: $BURSTS bursts of SIZE-byte frames from trafgen on
# CPU $SENDER_CPU, each once dumpcap's count has settled after the one
# before.  Sets first_arrived, first_captured and first_ns (time sending),
# last_arrived and last_ns for the last burst, and before_last, what
# dumpcap had captured before it (measure takes the last burst's share
# from dumpcap's final count).
send_bursts() {
	_frames=$((BURST_MIB * 1024 * 1024 / $1))
	[ "$BURSTS" -ge 2 ] || fail "dumpcap-bursts: BURSTS must be 2 or more"
	_burst=1 _before=0
	while [ $_burst -le "$BURSTS" ]; do
		_rx=$(rx_packets)
		_t=$(now_ns)
		in_a trafgen --no-sock-mem -Q -P 1 -n $_frames -o "$VETH_A" \
			-i "$BED_TMP/frame-$1.cfg" > "$BED_TMP/trafgen.log" 2>&1 ||
			fail "dumpcap-bursts: trafgen failed: $(cat "$BED_TMP/trafgen.log")"
		last_ns=$(($(now_ns) - _t))
		last_arrived=$(($(rx_packets) - _rx))
		before_last=$_before
		[ $_burst -eq "$BURSTS" ] && break
		_before=$(settled_count "$2")
		[ -n "$_before" ] ||
			fail "dumpcap-bursts: no running count from dumpcap: $(cat "$2")"
		if [ $_burst -eq 1 ]; then
			first_arrived=$last_arrived first_ns=$last_ns
			first_captured=$_before
		fi
		_burst=$((_burst + 1))
	done
}

# row CASE ARRIVED CAPTURED NS: measure's TSV row for CASE, whose frames
# took NS to send; the CPU is the program's for all it captured.
row() {
	awk -v p="$path" -v i="$1" -v s="$size" -v r="$run" -v a="$2" -v c="$3" \
	    -v all="$captured" -v cpu="$cpu" -v ns="$4" -v kib="${kib:--}" 'BEGIN {
		drop = a > c ? 100 * (a - c) / a : 0
		per = all > 0 ? cpu / all : 0
		printf "capture\t%s\t%s\t%s\t%s\t%.0f\t%.1f\t%.2f\t%s\n", p, i, s, r,
		    c / (ns / 1e9), per, drop, kib
	}'
}

# measure PATH IFACE SIZE RUN: one capture while trafgen sends for $secs.
measure() {
	path=$1 iface=$2 size=$3 run=$4
	log=$BED_TMP/cap.log tm=$BED_TMP/time
	rm -f "$log" "$tm"
	# The capture is stopped with SIGINT once the traffic has drained;
	# timeout(1) forwards it, and stops a capture that hangs.
	limit=$((secs + 60))
	[ "$iface" = dumpcap-bursts ] && limit=$((limit + BURSTS * 25))
	# taskset execs the rest, so the pids below are unchanged.
	pin=
	case $iface in *-onecpu|dumpcap-bursts) pin="taskset -c $SENDER_CPU" ;; esac
	case $iface in
	tcpdump|tcpdump-maxrate|tcpdump-immediate|tcpdump-onecpu)
		opt=
		[ "$iface" = tcpdump-immediate ] && opt=--immediate-mode
		bed_bg in_b env $(path_env "$path") $pin python3 "$rusage" "$tm" \
			timeout -s INT $limit "$TCPDUMP" $opt -i "$VETH_B" -w /dev/null \
			> "$log" 2>&1
		;;
	dumpcap-maxrate|dumpcap-moderate|dumpcap-onecpu|dumpcap-bursts)
		bed_bg in_b env $(path_env "$path") $pin python3 "$rusage" "$tm" \
			timeout -s INT $limit "$DUMPCAP" -i "$VETH_B" -w /dev/null \
			> "$log" 2>&1
		;;
	dispatch1|dispatch1-immediate)
		opt=
		[ "$iface" = dispatch1-immediate ] && opt=-I
		bed_bg in_b env $(path_env "$path") timeout -s INT $limit \
			"$TOOLS/cap-bench" -i "$VETH_B" $opt > "$log" 2>&1
		;;
	esac
	cap_pid=$BG_PID
	wait_for_listening "$log"
	# rusage.py ignores SIGINT: signal the timeout(1) it runs.
	stop_pid=$cap_pid
	case $iface in tcpdump*|dumpcap*) stop_pid=$(ps -o pid= --ppid "$cap_pid" | tr -d ' ') ;; esac
	prog_pid=$(ps -o pid= --ppid "$stop_pid" | tr -d ' ')
	rx0=$(rx_packets)
	t0=$(now_ns)
	if [ "$iface" = dumpcap-bursts ]; then
		[ "$(cpus_allowed "$prog_pid")" = "$SENDER_CPU" ] ||
			fail "$iface: the capture program is not pinned to CPU $SENDER_CPU alone"
		send_bursts "$size" "$log"
	else
		send_stream "$iface" "$size"
	fi
	t1=$(now_ns)
	rx1=$(rx_packets)
	# Longer than the 1 s read timeout, so that the last partly filled
	# block is handed over before the program stops.
	sleep 1.5
	# A program short of CPU may still be draining a large ring.
	[ "$iface" = dumpcap-bursts ] && settled_count "$log" > /dev/null
	kib=$(ring_kib "$prog_pid")
	kill -INT "$stop_pid"
	wait "$cap_pid"

	arrived=$((rx1 - rx0))
	case $iface in
	tcpdump*)
		captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$log")
		kdrop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$log")
		cpu=$(cat "$tm" 2>/dev/null)
		;;
	dumpcap*)
		# "Packets received/dropped on interface 'x': R/D (pcap:P/...)"
		# (after its running "\rPackets: N" counts)
		captured=$(tr '\r' '\n' < "$log" | sed -n 's/^Packets captured: \([0-9]*\)$/\1/p')
		kdrop=$(sed -n 's/^Packets received\/dropped on interface .*: [0-9]*\/[0-9]* (pcap:\([0-9]*\)\/.*/\1/p' "$log")
		cpu=$(cat "$tm" 2>/dev/null)
		;;
	dispatch1*)
		set -- $(grep '^captured ' "$log")
		captured=${2:-} kdrop=${6:-} cpu=${8:-}
		;;
	esac
	[ -n "$captured" ] && [ -n "$cpu" ] ||
		fail "$path $iface $size: no result: $(cat "$log" "$tm" 2>/dev/null)"
	[ "$arrived" -gt 0 ] || fail "$path $iface $size: trafgen sent nothing: $(cat "$BED_TMP/trafgen.log")"
	echo "capture $path $iface $size B run $run: arrived $arrived captured $captured" \
		"kernel-drops $kdrop cpu ${cpu}ns ring ${kib:-?} KiB in $(((t1 - t0) / 1000000)) ms" >&2
	if [ "$iface" = dumpcap-bursts ]; then
		echo "  first burst: arrived $first_arrived captured $first_captured" >&2
		row dumpcap-first-burst "$first_arrived" "$first_captured" "$first_ns"
		row dumpcap-last-burst "$last_arrived" "$((captured - before_last))" \
			"$last_ns"
	else
		row "$iface" "$arrived" "$captured" "$((t1 - t0))"
	fi
}

for size in 64 1514; do
	trafgen_conf $size
done
ifaces=${BENCH_IFACES:-tcpdump tcpdump-maxrate tcpdump-onecpu tcpdump-immediate dispatch1 dumpcap-maxrate dumpcap-onecpu dumpcap-moderate dumpcap-bursts}
case $ifaces in *dumpcap*) [ -x "$DUMPCAP" ] || fail "needs dumpcap (apt-get install wireshark-common)" ;; esac
case $ifaces in *-onecpu*|*dumpcap-bursts*) command -v taskset >/dev/null 2>&1 ||
	fail "needs taskset (util-linux; build-aux/install-deps.sh installs it)" ;; esac
printf 'part\tpath\tiface\tsize\trun\tpps\tcpu_ns_per_pkt\tdrop_pct\tring_kib\n'
run=1
while [ $run -le "$runs" ]; do
	if [ $((run % 2)) -eq 1 ]; then order="stock ring"; else order="ring stock"; fi
	for size in ${BENCH_SIZES:-1514 64}; do
		for iface in $ifaces; do
			paths=$order
			# dumpcap's 2 MiB request is where opt-in growth matters.
			case $iface in dumpcap*) paths="$order ring-grow" ;; esac
			for path in $paths; do
				measure $path $iface $size $run
			done
		done
	done
	run=$((run + 1))
done

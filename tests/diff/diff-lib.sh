# Differential capture tests: the same deterministic traffic captured by an
# unchanged program under the stock and under the ring library, one after
# the other, and everything it writes compared.  Source after common.sh and
# netns.sh, then call bed_setup and run cases:
#
#   diff_cases tcpdump <<EOF
#   # name      | traffic      | options        | filter
#   host        | a:0:400      |                | host 198.51.100.3
#   EOF
#
# Captures run in NS_B on DIFF_IF (default VETH_B).  Traffic is a list of
# segments WHERE:FIRST:COUNT[:MIX[:MAXLEN]] sent one after the other by
# the generators, always under the stock library so that the sender is not
# a variable (MIX is ring-gen's -m, default all; frames are 60 to MAXLEN,
# default 1514, bytes long):
#   a    ring-gen frames sent from NS_A, incoming on VETH_B
#   b    ring-gen frames sent on VETH_B itself, outgoing
#   lo   ring-gen frames sent on lo in NS_B (seen once, as incoming)
#   tun  tun-writer.py packets written into the tun device DIFF_IF
# A capture ends by count (-c N), N worked out offline by applying the
# filter to the segments' frames as written by the generators with -w.
# That is what a live capture takes except where the kernel's view differs
# from the file's: an incoming VLAN tag is out of the frame (in the
# metadata) when the filter runs, so "host", "port" or "length" filters
# match tagged frames live that they do not match offline.  Cases with such
# filters use untagged traffic (MIX udp); "vlan" filters, which libpcap
# compiles for either view, use every kind of frame.
# The last frame sent must be one the capture takes, so that every frame
# has reached the socket when the capture stops and the statistics (which
# count what the kernel filter passed) are deterministic.
#
# Each run records the module's decisions (PCAP_RING_TRACE): pcap-ring
# must have taken the capture device in the ring run, and the stock run
# must leave no trace, or the case would compare stock with stock.
#
# Compared between the two libraries: exit status, the whole of stderr
# (the listening line, filter warnings, the packets captured / received by
# filter / dropped by kernel lines; for dumpcap and tshark with the output
# file's directory and tshark's log time stamps taken out), the pcap file
# header or the pcapng interface description (capinfos -I), and the
# packets decoded with their link-layer headers and in hex (tcpdump -r -t
# -e -xx), i.e. everything but the time stamps.  Programs: tcpdump,
# dumpcap and tshark (which runs dumpcap); the filter goes to -f for the
# latter two, and must be one the kernel takes (see diff_wait_armed).

need tcpdump tcpdump test -x "${TCPDUMP:-}"

DIFF_IF=${DIFF_IF:-}
DIFF_TIMEOUT=${DIFF_TIMEOUT:-15}
DIFF_CASES=0

diff_if() { echo "${DIFF_IF:-$VETH_B}"; }

diff_trim() { printf '%s' "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'; }

# diff_split WHERE:FIRST:COUNT[:MIX[:MAXLEN]] sets where, first, count,
# mix and maxlen.
diff_split() {
	old_ifs=$IFS
	IFS=:
	set -- $1
	IFS=$old_ifs
	where=$1 first=$2 count=$3 mix=${4:-all} maxlen=${5:-1514}
}

# Frames of segment WHERE:FIRST:COUNT as a pcap file (the offline oracle).
# diff_segment_file WHERE FIRST COUNT MIX MAXLEN FILE
diff_segment_file() {
	case "$1" in
	tun) python3 "$TESTSRCDIR/tools/tun-writer.py" -w "$6" -f "$2" -n "$3" ;;
	*) env $(tool_env stock) "$TOOLS/ring-gen" -w "$6" -f "$2" -n "$3" \
		-m "$4" -l "60-$5" >/dev/null ;;
	esac || fail "case $DIFF_CASE: cannot write the frames of segment $1:$2:$3:$4:$5"
}

# diff_count FILE FILTER: how many packets of FILE the filter passes.
diff_count() {
	env $(lib_env stock) "$TCPDUMP" -r "$1" -n -O "$2" 2>/dev/null | wc -l
}

# Whether packets of segment kind WHERE reach a capture with direction DIR.
diff_direction_takes() {
	case "$1:$2" in
	b:in | a:out | lo:out | tun:out) return 1 ;;
	*) return 0 ;;
	esac
}

# diff_send WHERE FIRST COUNT MIX MAXLEN
diff_send() {
	gen="$TOOLS/ring-gen -f $2 -n $3 -m $4 -l 60-$5"
	case "$1" in
	a) in_a env $(tool_env stock) $gen -i "$VETH_A" ;;
	b) in_b env $(tool_env stock) $gen -i "$VETH_B" ;;
	lo) in_b env $(tool_env stock) $gen -i lo ;;
	tun) in_b python3 "$TESTSRCDIR/tools/tun-writer.py" -i "$(diff_if)" -f "$2" -n "$3" ;;
	*) fail "case $DIFF_CASE: unknown traffic segment $1" ;;
	esac > "$BED_TMP/send.log" 2>&1 ||
		fail "case $DIFF_CASE: sending segment $1:$2:$3 failed: $(cat "$BED_TMP/send.log")"
}

# diff_oracle FILTER: the offline filter for the packets a capture with
# FILTER takes.  DIFF_ORACLE, when set, says which of the frames sent
# reach the capture device at all (e.g. "vlan 100" for a VLAN device).
diff_oracle() {
	if [ -z "${DIFF_ORACLE:-}" ]; then
		echo "$1"
	elif [ -z "$1" ]; then
		echo "$DIFF_ORACLE"
	else
		echo "$DIFF_ORACLE and ($1)"
	fi
}

# diff_expected TRAFFIC DIRECTION FILTER: sets DIFF_N, the packets the
# capture must take, and checks that the last frame sent is one of them.
diff_expected() {
	DIFF_N=0
	last=
	for seg in $1; do
		diff_split "$seg"
		last=$where:$((first + count - 1)):1:$mix:$maxlen
		diff_direction_takes "$where" "$2" || continue
		diff_segment_file "$where" "$first" "$count" "$mix" "$maxlen" "$BED_TMP/seg.pcap"
		DIFF_N=$((DIFF_N + $(diff_count "$BED_TMP/seg.pcap" "$(diff_oracle "$3")")))
	done
	[ "$DIFF_N" -gt 0 ] || fail "case $DIFF_CASE: the filter takes no frame of '$1'"
	diff_split "$last"
	diff_segment_file "$where" "$first" 1 "$mix" "$maxlen" "$BED_TMP/last.pcap"
	if ! diff_direction_takes "$where" "$2" ||
	    [ "$(diff_count "$BED_TMP/last.pcap" "$(diff_oracle "$3")")" -ne 1 ]; then
		fail "case $DIFF_CASE: badly designed, the last frame sent ($last) is not captured, so the counters would depend on timing"
	fi
}

# diff_wait_listening LIB LOG PID: like wait_for_listening, naming the case.
diff_wait_listening() {
	n=100
	while ! grep -qE "listening on|Capturing on" "$2" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null && [ "$n" -gt 0 ] ||
			fail "case $DIFF_CASE, $1 library: capture did not start: $(cat "$2")"
		sleep 0.1
		n=$((n - 1))
	done
}

# diff_wait_armed LIB PID FILTER: dumpcap says "Capturing on" before it
# opens the device, so wait until the capture socket is bound for every
# protocol (which both libraries do last in activation) and, with a filter,
# until the kernel has it (ss -0 -b shows the program; the one-instruction
# program that stock attaches while it drains the socket does not count).
diff_wait_armed() {
	n=100
	while :; do
		in_b ss -0 -b -n > "$BED_TMP/ss.out" 2>&1
		if grep -q "[*]:$(diff_if) " "$BED_TMP/ss.out"; then
			[ -z "$3" ] && return
			grep "bpf filter" "$BED_TMP/ss.out" | grep -qv "(1):" && return
		fi
		kill -0 "$2" 2>/dev/null && [ "$n" -gt 0 ] ||
			fail "case $DIFF_CASE, $1 library: capture socket not armed: $(cat "$BED_TMP/ss.out" "$BED_TMP/$1/stderr")"
		sleep 0.05
		n=$((n - 1))
	done
}

# diff_run LIB TRAFFIC FILTER PROGRAM ARGS...: runs the capture in NS_B
# under LIB, with output in $BED_TMP/LIB, and sends the traffic once it
# listens.
diff_run() {
	run_lib=$1 run_traffic=$2 run_filter=$3
	shift 3
	out=$BED_TMP/$run_lib
	bed_bg in_b env $(lib_env "$run_lib") $(trace_env "$out/trace") \
		timeout --foreground "$DIFF_TIMEOUT" "$@" \
		> "$out/stdout" 2> "$out/stderr"
	pid=$BG_PID
	diff_wait_listening "$run_lib" "$out/stderr" "$pid"
	# tcpdump says it listens once the filter is set.
	[ "$1" = "$TCPDUMP" ] || diff_wait_armed "$run_lib" "$pid" "$run_filter"
	for seg in $run_traffic; do
		diff_split "$seg"
		diff_send "$where" "$first" "$count" "$mix" "$maxlen"
	done
	wait "$pid"
	echo $? > "$out/status"
}

diff_fresh_dir() {
	rm -rf "${BED_TMP:?}/$1"
	mkdir -p "$BED_TMP/$1"
}

# diff_same WHAT FILE: FILE must be the same for both libraries; if not,
# an excerpt of the difference, then the verdict naming the case last.
diff_same() {
	if ! cmp -s "$BED_TMP/stock/$2" "$BED_TMP/ring/$2"; then
		diff -u "$BED_TMP/stock/$2" "$BED_TMP/ring/$2" |
			sed -e "1s|$BED_TMP/||" -e "2s|$BED_TMP/||" | head -n 16
		fail "case $DIFF_CASE: $1 differs between the stock (-) and the ring (+) library (excerpt above)"
	fi
}

# diff_decode LIB FILE: the packets of a capture without their time stamps.
diff_decode() {
	d=$BED_TMP/$1
	od -An -tx1 -N24 "$d/$2" > "$d/header" 2>&1
	env $(lib_env stock) "$TCPDUMP" -r "$d/$2" -n -t -e -xx > "$d/packets" 2> "$d/read.err" ||
		fail "case $DIFF_CASE, $1 library: cannot read its capture: $(cat "$d/read.err")"
	diff_check_times "$1" "$2"
}

# diff_check_times LIB FILE: the time stamps, which cannot be compared,
# must not go backwards, and a file with nanosecond time stamps must have
# more than microseconds in them.
diff_check_times() {
	d=$BED_TMP/$1
	env $(lib_env stock) "$TCPDUMP" -r "$d/$2" -n -tt --nano -q 2>/dev/null |
		awk '/^[0-9]+[.][0-9]+ / { print $1 }' > "$d/times"
	[ "$(wc -l < "$d/times")" -eq "$DIFF_N" ] ||
		fail "case $DIFF_CASE, $1 library: $(wc -l < "$d/times") time stamps in a file of $DIFF_N packets"
	sort -c "$d/times" 2>/dev/null ||
		fail "case $DIFF_CASE, $1 library: time stamps go backwards: $(sort -c "$d/times" 2>&1)"
	case $(cat "$d/header") in
	" 4d 3c b2 a1"* | " a1 b2 3c 4d"*)
		grep -qv '000$' "$d/times" ||
			fail "case $DIFF_CASE, $1 library: nanosecond file without nanoseconds: $(head -n 3 "$d/times")"
		;;
	esac
}

# The ring run went through pcap-ring, the stock run did not consult it;
# with DIFF_PLUGIN=hidden (pcap-ring.so absent or refused) neither did.
diff_check_owner() {
	if [ "${DIFF_PLUGIN:-loaded}" = hidden ]; then
		assert_untraced "case $DIFF_CASE, ring library without pcap-ring.so" "$BED_TMP/ring/trace"
	else
		assert_claimed "case $DIFF_CASE, ring library" "$BED_TMP/ring/trace" "$(diff_if)"
	fi
	assert_untraced "case $DIFF_CASE, stock library" "$BED_TMP/stock/trace"
}

# The checks common to every program: it ended by count, without drops.
diff_check_ended() {
	for lib in stock ring; do
		status=$(cat "$BED_TMP/$lib/status")
		[ "$status" = 0 ] || {
			echo "FAIL: case $DIFF_CASE, $lib library: exit status $status (124: fewer than $DIFF_N packets in ${DIFF_TIMEOUT}s); stderr:"
			sed 's/^/    /' "$BED_TMP/$lib/stderr"
			exit 1
		}
	done
}

# diff_command PROGRAM LIB OPTIONS FILTER: the capture command line.
diff_command() {
	f=$BED_TMP/$2/cap
	case "$1" in
	tcpdump) echo "$TCPDUMP" -i "$(diff_if)" -c "$DIFF_N" -w "$f.pcap" ;;
	dumpcap) echo "$DUMPCAP" -i "$(diff_if)" -c "$DIFF_N" -w "$f.pcapng" ;;
	tshark) echo "$TSHARK" -i "$(diff_if)" -c "$DIFF_N" -w "$f.pcapng" ;;
	*) fail "unknown program $1" ;;
	esac
}

# What may differ between two runs of a program: the output file names
# (one directory per library), tshark's time-stamped log lines and
# dumpcap's running "\rPackets: N " counts, carriage return included,
# which depend on when its timer fired (its final "Packets captured: N"
# stays).
diff_normalize_stderr() {
	sed -e "s|$BED_TMP/$1/|DIR/|g" \
	    -e 's/^\( \*\* (tshark\):[0-9]*) [0-9:.]* /\1:PID) TIME /' \
	    -e 's/\rPackets: [0-9]* //g' \
	    "$BED_TMP/$1/stderr" > "$BED_TMP/$1/stderr.normalized"
	# DIFF_SKIPPED_PLUGIN=PATH: the ring library's loader refuses PATH,
	# and says so once; the rest must be stock's.
	[ "$1" = ring ] && [ -n "${DIFF_SKIPPED_PLUGIN:-}" ] || return 0
	said="^libpcap: plugin $DIFF_SKIPPED_PLUGIN skipped: "
	n=$(grep -c "$said" "$BED_TMP/ring/stderr")
	[ "$n" = 1 ] ||
		fail "case $DIFF_CASE: the loader said $n times that it skipped $DIFF_SKIPPED_PLUGIN: $(cat "$BED_TMP/ring/stderr")"
	sed -i "\|$said|d" "$BED_TMP/ring/stderr.normalized"
}

# One case: PROGRAM NAME TRAFFIC OPTIONS FILTER.
diff_case() {
	program=$1 DIFF_CASE=$2 traffic=$3 options=$4 filter=$5
	case_start=$(date +%s.%N)
	dir=inout
	set -- $options
	while [ $# -gt 0 ]; do
		case "$1" in
		-Q) dir=$2; shift ;;
		esac
		shift
	done
	diff_expected "$traffic" "$dir" "$filter"
	for lib in stock ring; do
		diff_fresh_dir "$lib"
		if [ "$program" = tcpdump ]; then
			diff_run "$lib" "$traffic" "$filter" \
				$(diff_command "$program" "$lib") $options "$filter"
		elif [ -n "$filter" ]; then
			diff_run "$lib" "$traffic" "$filter" \
				$(diff_command "$program" "$lib") $options -f "$filter"
		else
			diff_run "$lib" "$traffic" "" \
				$(diff_command "$program" "$lib") $options
		fi
		diff_normalize_stderr "$lib"
	done
	diff_check_owner
	diff_check_ended
	case "$program" in
	tcpdump) counted="^$DIFF_N packets captured\$" dropped="^0 packets dropped by kernel\$" ;;
	tshark) counted="^$DIFF_N packets captured\$" dropped= ;;
	dumpcap) counted="Packets captured: $DIFF_N\$" dropped="^Packets received/dropped on interface .*: [0-9]*/0 " ;;
	esac
	grep -q "$counted" "$BED_TMP/stock/stderr" &&
	    grep -q "$dropped" "$BED_TMP/stock/stderr" ||
		fail "case $DIFF_CASE: stock did not capture $DIFF_N packets without drops, nothing to compare: $(cat "$BED_TMP/stock/stderr")"
	diff_same "$program's stderr" stderr.normalized
	ext=pcapng
	[ "$program" = tcpdump ] && ext=pcap
	for lib in stock ring; do
		diff_decode "$lib" "cap.$ext"
		if [ "$ext" = pcapng ]; then
			capinfos -I "$BED_TMP/$lib/cap.pcapng" 2>&1 |
				grep -v "^File name:" > "$BED_TMP/$lib/interfaces"
		fi
	done
	if [ "$ext" = pcap ]; then
		diff_same "the pcap file header" header
	else
		diff_same "the pcapng interface description (capinfos -I)" interfaces
	fi
	diff_same "the packets (tcpdump -r -t -e -xx)" packets
	DIFF_CASES=$((DIFF_CASES + 1))
	echo "ok: $program $DIFF_CASE: $DIFF_N packets, stderr and file identical" \
		"($(since "$case_start")s)"
}

# diff_cases PROGRAM reads cases "name | traffic | options | filter" from
# stdin; blank lines and lines starting with # are skipped.  A filter of
# @many-hosts stands for diff_many_hosts.
diff_cases() {
	while IFS='|' read -r name traffic options filter; do
		name=$(diff_trim "$name")
		case "$name" in '' | '#'*) continue ;; esac
		filter=$(diff_trim "$filter")
		[ "$filter" = @many-hosts ] && filter=$(diff_many_hosts)
		diff_case "$1" "$name" "$(diff_trim "$traffic")" \
			"$(diff_trim "$options")" "$filter" < /dev/null
	done
}

# A filter the kernel cannot take: hosts 198.51.100.4-254, compiled
# without the optimizer (tcpdump -O; optimizing it takes half a minute),
# are more than BPF_MAXINSNS (4096) instructions, so that the kernel
# refuses the program and libpcap filters in userland, with a warning.
diff_many_hosts() {
	for i in $(seq 4 253); do
		printf 'host 198.51.100.%d or ' "$i"
	done
	printf 'host 198.51.100.254\n'
}

#!/bin/sh
# Run every test and print "N passed, N failed, N skipped" last.
#
# usage: run-tests.sh TESTSRCDIR
# A test is a compiled program $UNIT/test-* or a script TESTSRCDIR/*/t-*.sh.
# Exit status 0 passes, 77 skips (the reason is its last line of output),
# anything else fails.  A test that passes may have skipped some of its
# cases: it writes their reasons, one a line, to the file $TEST_SKIPS
# (skip_case in lib/common.sh, bed_skip_case() in unit/bed.c).  Skipped
# tests and skipped cases both count as skips, and their reasons are
# listed before the last line, so that no "not run" hides in a pass.
#
# A test still running after TEST_TIMEOUT seconds (default 600) fails: its
# process group gets SIGTERM (the test bed's traps clean up), SIGKILL 10 s
# later, and the namespaces it left behind are removed with the processes
# in them.  TESTS='glob ...' runs only the tests whose names match.  Each
# test's output is kept in $TEST_LOGDIR (default ./test-logs).
set -u

srcdir=$1
logdir=${TEST_LOGDIR:-$PWD/test-logs}
limit=${TEST_TIMEOUT:-600}
mkdir -p "$logdir"
export TESTSRCDIR="$srcdir"
# The ring library loads plugins from $PCAP_PLUGIN_DIR before its own
# directory: a caller's would put another pcap-ring.so under test.  The
# tests that use it set it themselves.
unset PCAP_PLUGIN_DIR
# An address space limit (ulimit -v) gives a handle that asked for no size
# stock's ring, not pcap-ring's default, which the tests expect; those
# that want a limit set their own.
if [ "$(ulimit -v)" != unlimited ]; then
	(ulimit -v unlimited) 2>/dev/null || {
		echo "run-tests: cannot lift the address space limit (ulimit -v $(ulimit -v)), which changes pcap-ring's default ring size: run the tests without it"
		exit 1
	}
	ulimit -v unlimited
fi
command -v timeout >/dev/null 2>&1 || {
	echo "run-tests: needs timeout(1) from coreutils to bound each test"
	exit 1
}

passed=0 failed=0 skipped=0 failed_names=
skip_list=$logdir/skips.list
: > "$skip_list"

selected() {
	[ -z "${TESTS:-}" ] && return 0
	# The patterns are for case, not for the file system: 'deb/*' must
	# not expand to the files of a deb/ directory in the build dir.
	set -f
	for pattern in $TESTS; do
		case "$1" in $pattern) set +f; return 0 ;; esac
	done
	set +f
	return 1
}

# The test bed names its namespaces after this run; none may outlive it.
TEST_RUN_ID=$$
export TEST_RUN_ID
bed_namespaces() {
	ip netns list 2>/dev/null | sed -n "s/^\(prt-$TEST_RUN_ID-[^ ]*\).*/\1/p"
}

# Remove the bed namespaces left behind, and the processes still in
# them (a test's own processes, by their ids); prints their names.
remove_namespaces() {
	for ns in $(bed_namespaces); do
		echo "$ns"
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
}

run_one() {
	path=$1 name=$2
	selected "$name" || return 0
	base=$(echo "$name" | tr / -)
	log=$logdir/$base.log
	TEST_SKIPS=$logdir/$base.skips
	export TEST_SKIPS
	rm -f "$TEST_SKIPS"
	start=$(date +%s)
	# timeout(1) runs the test in a process group of its own and
	# signals the whole group.
	case "$path" in
	*.sh) timeout -k 10 "$limit" /bin/sh "$path" > "$log" 2>&1 ;;
	*) LD_LIBRARY_PATH=$RING_DROPIN timeout -k 10 "$limit" "$path" > "$log" 2>&1 ;;
	esac
	status=$?
	secs=$(( $(date +%s) - start ))
	if [ "$secs" -ge "$limit" ] && { [ "$status" = 124 ] || [ "$status" = 137 ]; }; then
		left=$(remove_namespaces)
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "FAIL: $name: still running after ${limit}s (TEST_TIMEOUT), killed${left:+; namespaces removed: $(echo $left)}; last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /'
		return
	fi
	case $status in
	0)
		passed=$((passed + 1))
		cases=0
		if [ -s "$TEST_SKIPS" ]; then
			sort -u "$TEST_SKIPS" | sed "s|^|$name: |" >> "$skip_list"
			cases=$(sort -u "$TEST_SKIPS" | wc -l)
			skipped=$((skipped + cases))
		fi
		if [ "$cases" -gt 0 ]; then
			echo "PASS: $name (${secs}s), $cases case(s) skipped:"
			sort -u "$TEST_SKIPS" | sed 's/^/    skipped: /'
		else
			echo "PASS: $name (${secs}s)"
		fi
		;;
	77)
		skipped=$((skipped + 1))
		reason=$(tail -n 1 "$log" | sed "s/^skipped: //")
		echo "$name: $reason" >> "$skip_list"
		echo "SKIP: $name: $reason"
		;;
	*)
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "FAIL: $name (exit $status, ${secs}s); last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /'
		;;
	esac
}

for t in "$UNIT"/test-*; do
	[ -x "$t" ] || continue
	case "$t" in *.o|*.c) continue ;; esac
	run_one "$t" "$(basename "$t")"
done
for t in "$srcdir"/*/t-*.sh; do
	[ -f "$t" ] || continue
	run_one "$t" "$(basename "$(dirname "$t")")/$(basename "$t" .sh)"
done

left=$(remove_namespaces)
if [ -n "$left" ]; then
	failed=$((failed + 1))
	failed_names="$failed_names no-leftover-namespaces"
	echo "FAIL: no-leftover-namespaces: test namespaces left behind (now removed):"
	echo "$left" | sed 's/^/    /'
else
	passed=$((passed + 1))
	echo "PASS: no-leftover-namespaces"
fi

if [ -s "$skip_list" ]; then
	echo "skipped ($skipped):"
	sed 's/^/    /' "$skip_list"
fi
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

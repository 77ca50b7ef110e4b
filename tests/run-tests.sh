#!/bin/sh
# Run every test and print "N passed, N failed, N skipped" last.
#
# usage: run-tests.sh TESTSRCDIR
# A test is a compiled program $UNIT/test-* or a script TESTSRCDIR/*/t-*.sh.
# Exit status 0 passes, 77 skips (the reason is its last line of output),
# anything else fails.  TESTS='glob ...' runs only the tests whose names
# match.  Each test's output is kept in $TEST_LOGDIR (default ./test-logs).
set -u

srcdir=$1
logdir=${TEST_LOGDIR:-$PWD/test-logs}
mkdir -p "$logdir"
export TESTSRCDIR="$srcdir"

passed=0 failed=0 skipped=0 failed_names=

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

run_one() {
	path=$1 name=$2
	selected "$name" || return 0
	log=$logdir/$(echo "$name" | tr / -).log
	start=$(date +%s)
	case "$path" in
	*.sh) /bin/sh "$path" > "$log" 2>&1 ;;
	*) LD_LIBRARY_PATH=$RING_DROPIN "$path" > "$log" 2>&1 ;;
	esac
	status=$?
	secs=$(( $(date +%s) - start ))
	case $status in
	0)
		passed=$((passed + 1))
		echo "PASS: $name (${secs}s)"
		;;
	77)
		skipped=$((skipped + 1))
		echo "SKIP: $name: $(tail -n 1 "$log")"
		;;
	*)
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "FAIL: $name (exit $status, ${secs}s); last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /'
		;;
	esac
}

# The test bed names its namespaces after this run; none may outlive it.
TEST_RUN_ID=$$
export TEST_RUN_ID
bed_namespaces() {
	ip netns list 2>/dev/null | grep "^prt-$TEST_RUN_ID-"
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

left=$(bed_namespaces)
if [ -n "$left" ]; then
	failed=$((failed + 1))
	failed_names="$failed_names no-leftover-namespaces"
	echo "FAIL: no-leftover-namespaces: test namespaces left behind:"
	echo "$left" | sed 's/^/    /'
	echo "$left" | while read -r ns; do ip netns del "$ns"; done
else
	passed=$((passed + 1))
	echo "PASS: no-leftover-namespaces"
fi

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

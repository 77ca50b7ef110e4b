# Run a C test program (tests/unit/bed.h) inside the namespace test bed,
# once for each library named in LIBS, in NS_B with the bed's names in
# its environment.  The program calls this itself when started without a
# bed, so tests/run-tests.sh can run it like any other test-* program.
#
# usage: sh bed-run.sh "ring stock" PROGRAM [ARGS...]
# Fails if any run fails; skips (77, reason last) if a run skipped and
# none failed.  The module's decisions go to $BED_TMP/trace.LIB
# (PCAP_RING_TRACE), for bed_check_declined(); the stock library must
# leave no trace.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"

libs=$1
shift
require_root
bed_setup

failed=0 skip_reason=
for lib in $libs; do
	echo "== $(basename "$1") with the $lib library"
	# A hung test is killed, and fails, rather than stalling the suite;
	# --foreground keeps it in the runner's process group.
	in_b env $(tool_env "$lib") BED_LIB="$lib" BED_NS_A="$NS_A" \
	    BED_VETH_A="$VETH_A" BED_VETH_B="$VETH_B" BED_TMP="$BED_TMP" \
	    PCAP_RING_TRACE="$BED_TMP/trace.$lib" \
	    timeout --foreground -s KILL 300 "$@" > "$BED_TMP/out" 2>&1
	status=$?
	cat "$BED_TMP/out"
	case $status in
	0) ;;
	77) skip_reason="$lib: $(tail -n 1 "$BED_TMP/out")" ;;
	137) echo "FAIL: killed after 300 s"; failed=1 ;;
	*) failed=1 ;;
	esac
	if [ "$lib" = stock ] && [ -e "$BED_TMP/trace.stock" ]; then
		echo "FAIL: the stock library wrote a pcap-ring trace: $(cat "$BED_TMP/trace.stock")"
		failed=1
	fi
done
[ "$failed" = 0 ] || exit 1
[ -z "$skip_reason" ] || skip "$skip_reason"
exit 0

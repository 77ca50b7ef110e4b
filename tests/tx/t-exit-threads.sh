# Another thread acts while the module's exit hook sends the frames that
# wait at exit() on the exiting thread: it calls exit() too, it closes the
# handle the hook is flushing, it injects more frames into it.  The
# process must end within README's bound (exit() waits at most 2 s for
# all handles), without a crash or a sanitizer report, and no frame may
# reach the peer twice.
#
# The handle's link is held by tbf to 5 Mbit/s, without CAP_NET_ADMIN (the
# default send buffer, some 200 KB, bounds the frames in flight): of 400
# frames of 1000 bytes, some 270 still wait in the TX ring at exit, for
# some 0.4 s.  A second handle, on another veth held to 100 kbit/s, has
# frames waiting that cannot drain in 2 s: the hook runs for its whole 2 s,
# gives up and drops them.  The other thread acts as soon as it sees the
# hook kick that handle (without it, the first one), and reads its counters
# to say whether the hook was still at work.  What each case promises:
# - a second exit(): glibc (2.36) runs the handlers left on its own
#   thread, then ends the process while the hook is at work (exit is
#   MT-unsafe): the frames the kernel had taken (counted sent) arrive, in
#   order; the status is the second caller's (or the first's, where a
#   libc makes the second wait).  When one of those handlers is the
#   program's own pcap_close() (registered before the handle was opened),
#   the close sends them all.
# - pcap_close() on the handle being flushed returns only once the hook is
#   done (it walks the list of handles without a lock): the other handle's
#   frames have been dropped by then.  Every frame arrives.
# - pcap_inject() during the hook: frames injected while the hook is still
#   at work are sent with the others, all of them.  A thread that injects
#   without end does not hold exit() past the bound.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
. "$TESTSRCDIR/tx/tx-lib.sh"
require_root
need "setpriv(1)" util-linux command -v setpriv
bed_setup

OTHER=prk$BED_ID
ip link add "$OTHER" netns "$NS_A" type veth peer name "prl$BED_ID" netns "$NS_B" ||
	fail "ip link add veth (the other handle's)"
ip -n "$NS_A" link set "$OTHER" up
ip -n "$NS_B" link set "prl$BED_ID" up

N=400
WITH_OTHER="-X 1 -I $OTHER"

# run_exit NAME WHAT [ring-tx options]: ring-tx -Y WHAT, N frames into
# each handle (with $WITH_OTHER, into the other handle too); the output in
# OUT, the exit status in STATUS, and how long exit() took in EXIT_MS,
# which must be within the bound.
run_exit() {
	name=$1 what=$2
	shift 2
	tx_slow_link 5mbit
	tx_slow_link 100kbit "$OTHER"
	OUT=$(in_a setpriv --bounding-set -net_admin env $(tool_env ring) "$TOOLS/ring-tx" \
		-i "$VETH_A" -n "$N" -l 1000-1000 -b 64 -r 512 -Y "$what" "$@" 2>&1)
	STATUS=$?
	end=$(date +%s%3N)
	echo "$OUT"
	if echo "$OUT" | grep -Eq 'Sanitizer|runtime error'; then
		fail "$name: a sanitizer report"
	fi
	at=$(echo "$OUT" | sed -n 's/^exit() at \([0-9]*\) ms$/\1/p')
	[ -n "$at" ] || fail "$name: ring-tx did not get to exit() (status $STATUS)"
	EXIT_MS=$((end - at))
	echo "$name: exit took $EXIT_MS ms, status $STATUS"
	# README: 2 s for the frames of all handles; 2 s more for a loaded machine.
	[ "$EXIT_MS" -le 4000 ] ||
		fail "$name: the process took $EXIT_MS ms to end after exit() (bound: 2 s, with slack)"
	assert_match "$name: the hook was flushing the handle when the thread acted" \
		"^exiting tx queued $N sent [0-9]+ .* pending [1-9][0-9]*$" "$OUT"
}

# sent_before_acting: the frames counted sent when the thread acted.
sent_before_acting() {
	echo "$OUT" | sed -n 's/^exiting tx queued [0-9]* sent \([0-9]*\) .*/\1/p'
}

# A second exit() ends the process at once: the frames counted sent then
# arrive, a prefix of them all.
tx_capture second-exit "$N" -t 3000
run_exit second-exit exit $WITH_OTHER
[ "$STATUS" -eq 3 ] || [ "$STATUS" -eq 0 ] || fail "second-exit: status $STATUS (expected 3 or 0)"
tx_check_some second-exit "$(sent_before_acting)"
assert_eq "second-exit: the last frame on the peer (a prefix of them)" "$((CAP_GOT - 1))" "$CAP_LAST"

# ... and runs the program's handler that closes the handle.
tx_capture second-exit-close "$N"
run_exit second-exit-close exit -A before $WITH_OTHER
[ "$STATUS" -eq 3 ] || [ "$STATUS" -eq 0 ] || fail "second-exit-close: status $STATUS (expected 3 or 0)"
tx_check_capture second-exit-close "$N" $((N * 1000))

tx_capture close "$N"
run_exit close close $WITH_OTHER
[ "$STATUS" -eq 0 ] || fail "close: status $STATUS"
assert_match "close: returned once the hook had given up on the other handle" \
	"^other tx .* dropped [1-9][0-9]* .* pending 0$" "$OUT"
tx_check_capture close "$N" $((N * 1000))

tx_capture inject $((2 * N))
run_exit inject inject $WITH_OTHER
[ "$STATUS" -eq 0 ] || fail "inject: status $STATUS"
assert_match "inject: all injected" "^injected $N frames $((N * 1000)) bytes$" "$OUT"
assert_match "inject: the hook was still at work after the last one" \
	"^other tx .* dropped 0 .* pending [1-9][0-9]*$" "$OUT"
tx_check_capture inject $((2 * N)) $((2 * N * 1000))

# Frames never stop coming, and no other handle keeps the hook at work:
# it must not stop before its 2 s (while the thread holds the TX lock,
# say), then it gives up, dropping what waits.
tx_capture flood 1000000 -t 3000
run_exit flood flood
[ "$STATUS" -eq 0 ] || fail "flood: status $STATUS"
[ "$EXIT_MS" -ge 1900 ] ||
	fail "flood: the process ended $EXIT_MS ms after exit(), with frames waiting all along (the hook waits 2 s)"
tx_check_some flood "$(sent_before_acting)"

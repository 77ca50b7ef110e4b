#!/bin/sh
# make check-mutants: build deliberately broken variants of pcap-ring.so
# and of the ring library's plugin loader, one small sed edit of a source
# each, and run the tests that must catch it.  A mutant is caught when
# every one of its tests fails; one line per mutant says "caught" or
# "MISSED", and the script exits non-zero if any was missed or could not
# be built.
#
# usage: check-mutants.sh TOPSRCDIR RING_TREE WORKDIR
# with make check's environment (RING_PLUGIN, RING_DROPIN and the rest)
# and the Makefile's plugin build: PLUGIN_COMPILE -o FILE PLUGIN_SOURCES
# PLUGIN_LIBS, run in a directory holding a pcap-ring/.
#
# A mutant of a file of pcap-ring/ is a plugin: pcap-ring/ is copied once
# to WORKDIR, the mutant edits its copy there and is built as
# WORKDIR/NAME.so.  A mutant of a file the series adds to libpcap (the
# plugin loader) is a library: the ring tree is copied once to
# WORKDIR/tree, the mutant edits its copy and make rebuilds only that and
# the shared library.  Either way the tests run in a private mount
# namespace where the mutant is bind-mounted over the real file
# (RING_PLUGIN, or the library RING_DROPIN leads to), so that every test
# process loads it: those of ip netns exec, and setuid and file-capability
# programs, which ignore PCAP_PLUGIN_DIR and LD_LIBRARY_PATH.
# MUTANTS='name ...' runs only those.  Each mutant's test logs stay in
# WORKDIR/NAME.
set -u

top=$1 ring_tree=$2 work=$3
tree=$work/tree
: "${RING_PLUGIN:?}" "${RING_DROPIN:?}" "${PLUGIN_COMPILE:?}" "${PLUGIN_SOURCES:?}"

rm -rf "$work"
mkdir -p "$work"
cp -a "$top/pcap-ring" "$work/pcap-ring" || exit 1
real_library=$(readlink -f "$RING_DROPIN/libpcap.so.1")
library=$tree/$(basename "$real_library")

missed=0

# The ring tree, copied when the first library mutant needs it.  Time
# stamps kept, so that make rebuilds only what a mutant touches.
copy_tree() {
	[ -d "$tree" ] || cp -a "$ring_tree" "$tree"
}

# build NAME: the mutant's plugin or library; its file, or nothing.
build() {
	if [ "$kind" = plugin ]; then
		(cd "$work" && eval "$PLUGIN_COMPILE -o \"\$work/\$1.so\" \
			$PLUGIN_SOURCES ${PLUGIN_LIBS:-}") \
			> "$work/$1.build.log" 2>&1 && echo "$work/$1.so"
	else
		make -C "$tree" shared > "$work/$1.build.log" 2>&1 &&
			echo "$library"
	fi
}

# in_place FILE REAL TESTS: run-tests.sh with FILE mounted over REAL, in
# a mount namespace of its own (unshare makes its mounts private).
in_place() {
	TESTS=$3 unshare -m sh -c '
		mount --bind "$1" "$2" || {
			echo "FAIL: the mutant is not in place of $2"
			exit 1
		}
		exec sh "$3/tests/run-tests.sh" "$3/tests"' \
		in-place "$1" "$2" "$top"
}

# mutant NAME FILE SED-SCRIPT TESTS: FILE (of pcap-ring/, or a file the
# series adds to libpcap, such as the plugin loader's) edited by
# SED-SCRIPT must make every test in TESTS (run-tests.sh names) fail.
mutant() {
	name=$1 file=$2 edit=$3 tests=$4
	case " ${MUTANTS:-$name} " in *" $name "*) ;; *) return ;; esac
	if [ -f "$top/pcap-ring/$file" ]; then
		kind=plugin orig=$top/pcap-ring/$file copy=$work/pcap-ring/$file
		real=$RING_PLUGIN
	else
		copy_tree || exit 1
		kind=library orig=$ring_tree/$file copy=$tree/$file
		real=$real_library
	fi
	sed -e "$edit" "$orig" > "$copy"
	if cmp -s "$orig" "$copy"; then
		echo "BROKEN: $name: the edit no longer applies to $orig"
		missed=$((missed + 1))
		return
	fi
	if ! built=$(build "$name"); then
		echo "BROKEN: $name: does not build (see $work/$name.build.log)"
		missed=$((missed + 1))
		cp "$orig" "$copy"
		return
	fi
	TEST_LOGDIR=$work/$name in_place "$built" "$real" "$tests" \
		> "$work/$name.log" 2>&1
	caught= passed=
	for t in $tests; do
		if grep -q "^FAIL: ${t}[ :]" "$work/$name.log"; then
			caught="$caught $t"
		else
			passed="$passed $t"
		fi
	done
	if grep -q "^FAIL: the mutant is not in place" "$work/$name.log"; then
		echo "BROKEN: $name: not mounted in place of $real (see $work/$name.log)"
		missed=$((missed + 1))
	elif [ -z "$passed" ]; then
		echo "caught: $name, by:$caught"
	else
		echo "MISSED: $name: passed or skipped:$passed (see $work/$name.log)"
		missed=$((missed + 1))
	fi
	# Back to the real source: the next build drops this mutant.
	cp "$orig" "$copy"
}

# The plugin declines every device, as if PCAP_RING_DISABLE were set:
# caught by the plain test of the claim, and by tx/t-secure-env, whose
# setuid ring-tx runs in a network namespace (ip netns exec), which
# proves that the mount reaches such programs too.
mutant declines-all pcap-ring.c \
	's/^\tif (ring_disabled_by_environment())$/\tif (ring_disabled_by_environment() || 1)/' \
	"test-create-decline tx/t-secure-env"

# The module leaves loopback and tun (ARPHRD_NONE) to stock pcap-linux:
# the differential cases would compare stock with stock.
mutant claim-lo-tun pcap-ring.c \
	'/switch (ifr.ifr_hwaddr.sa_family)/,/return NULL;/{/case ARPHRD_LOOPBACK:/d;/case ARPHRD_NONE:/d;}' \
	"diff/t-loopback-tun diff/t-lists"

# The module leaves Ethernet-like devices (veth, bridges) to stock.
mutant claim-ether pcap-ring.c \
	'/switch (ifr.ifr_hwaddr.sa_family)/,/return NULL;/{/case ARPHRD_ETHER:/d;}' \
	"test-breakloop test-select-dispatch ns/t-capture-basic diff/t-dumpcap-tshark diff/t-devices tx/t-programs"

# The module claims names that are no interface, which stock must report.
mutant claim-missing pcap-ring.c \
	's/return "no such interface";/return NULL;/' \
	"test-activate-errors"

# A signal's EINTR in the wait ends the read with an error: tcpdump,
# whose SIGUSR1 handler prints the statistics, stops capturing.
mutant poll-eintr-error pcap-ring-read.c \
	's/^\t\t\tif (errno != EINTR) {$/\t\t\tif (1) {/' \
	"test-breakloop diff/t-tcpdump-sigusr1"

# pcap_stats() reports what came since the previous call, not totals.
mutant stats-not-running-totals pcap-ring.c \
	's/__atomic_fetch_add(&pr->stat.ps_recv, kstats.tp_packets,/__atomic_store_n(\&pr->stat.ps_recv, kstats.tp_packets,/' \
	"test-stats diff/t-tcpdump-sigusr1"

# Every captured frame cut short by one byte.
mutant truncate pcap-ring-read.c \
	's/h.caplen = pkt->caplen;/h.caplen = pkt->caplen - 1;/' \
	"test-select-dispatch test-stats ns/t-capture-basic"

# Every captured frame one byte shorter, caplen and length alike.
mutant short-length pcap-ring-read.c \
	's/h.caplen = pkt->caplen;/h.caplen = pkt->caplen - 1;/;s/h.len = pkt->len;/h.len = pkt->len - 1;/' \
	"test-select-dispatch test-breakloop"

# pcap-ring's 32 MiB default does not give way to stock's 2 MiB under an
# address space limit, or when its mapping fails (mlockall()), and the
# capture ring's mmap() failure has a text of pcap-ring's own.
mutant unasked-ring-ignores-limit pcap-ring.c \
	's/lim.rlim_cur != RLIM_INFINITY))$/0))/' \
	"test-activate-errors"
mutant default-ring-no-fallback pcap-ring.c \
	's/^\t\t    size <= RING_START_BUFFER_SIZE ||$/\t\t    1 ||/' \
	"test-activate-errors"
mutant rx-mmap-text-own pcap-ring-setup.c \
	's/ring_sock_errmsg(errbuf, errno, "can.t mmap rx ring");/ring_sock_errmsg(errbuf, errno, "%s: can'"'"'t mmap rx ring", ifname);/' \
	"test-activate-errors"
# Out of descriptors for the eventfd: a text of pcap-ring's own, not
# stock's (1.10.5 and later).
mutant eventfd-text-own pcap-ring.c \
	's/errno, "could not open eventfd");/errno, "eventfd");/' \
	"test-open-close-leaks"

# Immediate mode, timeout 0: a read that rejected every packet waits on,
# where stock's V2 reader returns 0.
mutant immediate-rejected-waits pcap-ring-read.c \
	's/^\tif (n == 0 \&\& pr->rx.version == TPACKET_V3 \&\& pr->timeout == 0 \&\&$/\tif (n == 0 \&\& pr->timeout == 0 \&\&/' \
	"test-nonblock-timeout"
# Without immediate mode, timeout 0: a read that rejected every packet
# returns 0, where stock's V3 reader goes on to a packet it delivers.
mutant v3-rejected-returns-0 pcap-ring-read.c \
	's/^\tif (n == 0 \&\& pr->rx.version == TPACKET_V3 \&\& pr->timeout == 0 \&\&$/\tif (0 \&\&/' \
	"test-nonblock-timeout"

# Timeout 0 lets the kernel retire blocks on its own timer (1 ms on veth).
mutant timeout-0-retires pcap-ring.c \
	's/tov = UINT_MAX;/tov = 0;/' \
	"test-nonblock-timeout"

# Blocks retire after 25 times the timeout: a lone packet waits seconds.
mutant timeout-25x pcap-ring.c \
	's/tov = (unsigned int)pr->timeout;/tov = (unsigned int)pr->timeout * 25;/' \
	"test-nonblock-timeout"

# pcap_set_buffer_size() ignored: the ring no longer overflows.
mutant buffer-size-ignored pcap-ring.c \
	's/buffer_size = libpcap_get_buffer_size(p) != 0 ?/buffer_size = 0 ?/' \
	"test-select-dispatch"

# The selectable descriptor is one that never becomes readable.
mutant dead-selectable-fd pcap-ring.c \
	's/libpcap_set_selectable_fd(p, fd);/libpcap_set_selectable_fd(p, pr->breakloop_fd);/' \
	"test-stats test-options"

# Batching ignored: a kick after every frame.
mutant batch-ignored pcap-ring-tx.c \
	's/(tx->ring.unsent >= (unsigned int)tx->batch ||/(tx->ring.unsent >= 1 ||/' \
	"tx/t-inject-modes"

# No TX lock: a reader's flush and an injection change the ring at once.
mutant tx-no-lock pcap-ring-int.h \
	's/^\treturn pcap_ring_tx_wait(tx, self, due);$/\treturn (void)due, 0;/' \
	"test-tx-threads"

# No mutex although the process has threads.
mutant tx-lock-alone-with-threads pcap-ring-int.h \
	's/(__libc_single_threaded != 0)/1/' \
	"test-tx-threads"

# The eventfd is never cleared once frames are sent: select() loops spin.
mutant wake-never-cleared pcap-ring-tx.c \
	's/^\tif (!tx->wake_set)$/\tif (1)/' \
	"test-select-dispatch"

# Frames waiting when the program takes the selectable descriptor do not
# make it readable; or it never shows frames waiting.
mutant selectable-fd-not-shown pcap-ring-tx.c \
	's/^\t\ttx->waiting = show_waiting(tx, TX_IDLE, tx->waiting);$/\t\t(void)0;/' \
	"test-select-dispatch"
mutant waiting-never-shown pcap-ring-tx.c \
	's/^\tif (tx->selected)$/\tif (0)/' \
	"test-select-dispatch"

# The TX lock's holder is not recognised: an injection from a signal
# handler that interrupted one waits for itself (or, with no other
# thread, changes the ring under it).
mutant tx-holder-ignored pcap-ring-int.h \
	's/^\t\treturn EDEADLK;$/\t\t(void)0;/' \
	"test-tx-threads"

# The TX lock is held across cancellation points (the kick's send(), the
# selectable eventfd): a thread cancelled in a kick keeps it, and every
# later call waits for good.
mutant tx-cancellable-under-lock pcap-ring-tx.c \
	's/PTHREAD_CANCEL_DISABLE/PTHREAD_CANCEL_ENABLE/' \
	"test-tx-threads"

# pcap_close() cancelled in its wait for waiting frames, or at a close(),
# leaves the handle half closed, its descriptors open.
mutant close-cancellable pcap-ring.c \
	's/PTHREAD_CANCEL_DISABLE/PTHREAD_CANCEL_ENABLE/' \
	"test-tx-threads"

# exit() on a thread cancelled in the exit hook's wait leaves the hook
# marked running: other threads' pcap_close() waits for it for good.
mutant exit-hook-cancellable pcap-ring-tx.c \
	'/^flush_live_at_exit/,/^}/s/PTHREAD_CANCEL_DISABLE/PTHREAD_CANCEL_ENABLE/' \
	"test-tx-threads"

# A read cancelled while a growth step switches rings (its close(), its
# reads of /proc) leaves the reader on the unmapped old ring.
mutant grow-switch-cancellable pcap-ring-grow.c \
	's/PTHREAD_CANCEL_DISABLE/PTHREAD_CANCEL_ENABLE/' \
	"test-ring-grow"

# A send queue cancelled in its wait stays the handle's send queue: later
# losses of injected frames go to it, and pcap_inject_flush() misses them.
mutant sendqueue-cancel-kept pcap-ring-sendqueue.c \
	'/^end_cancelled_transmit/,/^}/s/^\ttx->in_sendqueue = 0;$/\t(void)0;/' \
	"test-tx-threads"

# Monitor mode is refused before the socket is made: a user without the
# privilege is told the device lacks the mode.
mutant rfmon-before-socket pcap-ring.c \
	'/^ring_activate/,/^}/s/^\tif (libpcap_get_snapshot(p) <= 0 ||$/\tif (libpcap_get_rfmon(p)) { status = PCAP_ERROR_RFMON_NOTSUP; goto fail; }\n&/' \
	"test-activate-errors"

# An interface counter that can no longer be read (the interface is gone)
# counts -1: ps_ifdrop wraps to 4294967295, which tcpdump prints.
mutant ifdrop-unreadable-wraps pcap-ring.c \
	'/^interface_counter/,/^}/s/^\t\treturn 0;$/\t\treturn -1;/' \
	"test-iface-faults"

# A ring of the size the program asked for, or of read timeout 0, in
# blocks larger than stock's 256 KiB: a read with timeout 0 waits for more
# traffic, and hands over more packets, than with stock.
mutant v3-blocks-unlike-stock pcap-ring-setup.c \
	'/^ring_sock_layout_v3/,/^}/s/(stock_blocks || /((stock_blocks \&\& 0) || /' \
	"test-nonblock-timeout"
mutant v3-blocks-timeout0-large pcap-ring-int.h \
	'/^pcap_ring_stock_blocks/,/^}/s/return retire_tov == UINT_MAX ||/return retire_tov == 1 ||/' \
	"test-nonblock-timeout"
mutant v3-blocks-timeout-negative-large pcap-ring-int.h \
	'/^pcap_ring_stock_blocks/,/^}/s/ || retire_tov == 0 ||/ ||/' \
	"test-nonblock-timeout"
mutant nano-stamps-per-socket pcap-ring.c \
	's/^\t    (pr->nano \&\& ring_sock_stamp_at_entry(fd,/\t    (0 \&\& ring_sock_stamp_at_entry(fd,/' \
	"test-options test-ring-grow"
mutant grown-ring-unbound pcap-ring-grow.c \
	's/^\tif (ring_sock_bind(fd, pr->ifindex, 0, errbuf) != 0 ||$/\tif (/' \
	"test-ring-grow"
mutant auxdata-unset pcap-ring.c \
	's/^\t    ring_sock_set_auxdata(fd, errbuf) == -1 ||$/\t    0 ||/' \
	"test-program-socket"
mutant filter-swap-rejects-all pcap-ring.c \
	'/^pcap_ring_setfilter/,/^}/s/^\t\tif (setsockopt(libpcap_fd(p), SOL_SOCKET, SO_ATTACH_FILTER,$/\t\tif (ring_sock_drop_all(libpcap_fd(p)) == 0 \&\& setsockopt(libpcap_fd(p), SOL_SOCKET, SO_ATTACH_FILTER,/' \
	"test-setfilter-traffic"
mutant v3-blocks-asked-large pcap-ring-int.h \
	'/^pcap_ring_stock_blocks/,/^}/s/^\t    size <= (unsigned int)libpcap_get_buffer_size(p);$/\t    (size <= (unsigned int)libpcap_get_buffer_size(p) \&\& 0);/' \
	"test-nonblock-timeout"

# A send queue cancelled while it waits for room leaves its records that
# the kernel has not taken in the ring, for a later kick to send; or, on a
# batched handle, drops them with the frames other threads injected.
mutant sendqueue-cancel-strands pcap-ring-sendqueue.c \
	'/^end_cancelled_transmit/,/^}/s/^\tif (queued \&\& tx->batch == 0)$/\tif (queued \&\& 0)/' \
	"test-tx-threads"
mutant sendqueue-cancel-drops-batched pcap-ring-sendqueue.c \
	'/^end_cancelled_transmit/,/^}/s/^\tif (queued \&\& tx->batch == 0)$/\tif (queued)/' \
	"test-tx-threads"

# A read cancelled in its wait leaves the handle "reading": injections
# kick each frame at once, for a reader that is gone.
mutant read-cancel-kept pcap-ring-tx.c \
	's/^\tpthread_cleanup_push(end_read, p);$/\tpthread_cleanup_push(free, NULL);/;s/^\tpthread_cleanup_pop(1);$/\tpthread_cleanup_pop(0); end_read(p);/' \
	"test-tx-threads"

# A read with no timeout, woken by the selectable descriptor for frames
# that it then sends, blocks until a packet comes, where stock's read
# after a readable select() never blocks; or one that no frame woke
# (a program that reads without select()) returns at once.
mutant select-no-timeout-blocks pcap-ring-tx.c \
	's/(pr->timeout == 0 \&\& shown)/(0 \&\& shown)/' \
	"test-select-dispatch"

mutant no-timeout-read-never-blocks pcap-ring-tx.c \
	's/(pr->timeout == 0 \&\& shown)/(pr->timeout == 0 \&\& (shown || tx->selected))/' \
	"test-select-dispatch"

# A child's send queue does not take the ring over: it waits for good for
# the lock a thread of its parent held at fork().
mutant sendqueue-no-take-over pcap-ring-sendqueue.c \
	's/^\tpcap_ring_tx_own(p, tx);$/\t(void)0;/' \
	"test-tx-threads"

# A daemon's child does not take the ring over: its frames never go out.
mutant child-no-take-over pcap-ring-tx.c \
	's/^\tif (tx->fork_generation != fork_generation) {$/\tif (0) {/' \
	"tx/t-close-exit"

# Short of descriptors, a size-less handle takes one step from 2 MiB
# instead of the 32 MiB default.
mutant short-below-default pcap-ring-grow.c \
	's/^\tif (steps < wanted \&\& buffer_size == 0 \&\& size < unasked)$/\tif (steps < wanted \&\& 0)/' \
	"test-ring-grow"

# Setting the group's program again to the number it returns already
# waits for a grace period all the same: the first step's join does.
mutant program-reset-alike pcap-ring-grow.c \
	's/^\tif (v == g->route)$/\tif (0)/' \
	"test-ring-grow"

# Immediate mode's ring is left for its first lap to write.
mutant ring-untouched pcap-ring.c \
	's/^\t\tring_sock_touch_ring(&pr->rx_map);$/\t\t(void)0;/' \
	"test-ring-touch"

# Its pages read only: the reader's first writes still trap.
mutant ring-touched-by-reads pcap-ring-setup.c \
	's/while (!__atomic_compare_exchange_n(word, &v, v, 0,$/while (0 \&\& !__atomic_compare_exchange_n(word, \&v, v, 0,/' \
	"test-ring-touch"

# A V3 ring written too: activation pays for what its first lap absorbs.
mutant ring-v3-touched pcap-ring.c \
	's/^\tif (version == TPACKET_V2)$/\tif (1)/' \
	"test-ring-touch"

# The switch closes the new socket's number while a pcap_stats() on
# another thread may still read it (a socket opened meanwhile could get it).
mutant spare-closed-while-read pcap-ring-grow.c \
	's/__atomic_load_n(\&g->stats_readers, __ATOMIC_SEQ_CST) == 0)$/1)/' \
	"test-ring-grow"

# The number kept for a pcap_stats() keeps the new socket too: at the next
# step it is the old socket a copy outlived, and growth stops.
mutant spare-kept-on-socket pcap-ring-grow.c \
	's/^\t(void)dup3(pr->epoll_fd, fd, O_CLOEXEC);$/\t(void)fd;/' \
	"test-ring-grow"

# A number kept open for a pcap_stats() reading it is not closed at the
# next read (only at pcap_close()).
mutant unread-spare-kept pcap-ring-grow.c \
	'/^pcap_ring_grow_check(/,/^}/s/^\tclose_unread(g);$/\t(void)g;/' \
	"test-ring-grow"

# A read skips pcap_ring_grow_check() once the ring is as large as it
# gets, though a number kept for a pcap_stats() is still to be closed.
mutant pending-ignores-unclosed pcap-ring-int.h \
	's/^\t    g->unclosed_nr > 0 || g->worker_busy;$/\t    g->worker_busy;/' \
	"test-ring-grow"

# A send queue's TX ring asks at every transmit to join a capture socket
# the program put in a group of its own.
mutant program-group-retried pcap-ring-grow.c \
	's/^\telse if (g->group_id == -1 \&\& errno == EALREADY)$/\telse if (0)/' \
	"test-ring-grow"

# pcap_stats() leaves out the new socket's counters while the old ring
# drains.
mutant stats-without-spare pcap-ring.c \
	's/^\t\t(void)add_socket_stats(pr, spare);$/\t\t(void)spare;/' \
	"test-ring-grow"

# A kernel that ignores PACKET_FANOUT_FLAG_UNIQUEID (4.3 to 4.11) is taken
# for one that gives groups ids of their own: handles form the shared group 0.
mutant group-ids-not-probed pcap-ring-grow.c \
	's/^\t\tanswer = (arg >> 16) \& PACKET_FANOUT_FLAG_UNIQUEID ? -1 : 1;$/\t\tanswer = 1;/' \
	"test-ring-grow"

# A kernel that refuses the probe's CBPF group (below 4.3) is taken for one
# with group ids of its own.
mutant group-ids-refusal-taken-as-yes pcap-ring-grow.c \
	's/answer = errno == EINVAL ? -1 : 0;$/answer = errno == EINVAL ? 1 : 0;/' \
	"test-ring-grow"

# A probe that got no answer is taken for the kernel's no, and never made again.
mutant group-ids-unanswered-kept pcap-ring-grow.c \
	's/answer = errno == EINVAL ? -1 : 0;$/answer = -1;/' \
	"test-ring-grow"

# A late TX ring whose handle's probe got no answer never takes another
# handle's answer: it captures the queues' frames for good.
mutant group-ids-not-refreshed pcap-ring-grow.c \
	's/^\tif (g->group_ids_asked \&\& g->group_ids == 0)$/\tif (0)/' \
	"test-ring-grow"

# pcap_stats() counts itself before the promiscuous drop count's open() and
# read(): a thread cancelled there leaves the count raised for good.
mutant stats-count-before-cancellation-point pcap-ring.c \
	'/^\t__atomic_add_fetch(\&g->stats_readers, 1, __ATOMIC_SEQ_CST);$/d; s/^\tif (libpcap_get_promisc(p)) {$/\t__atomic_add_fetch(\&g->stats_readers, 1, __ATOMIC_SEQ_CST);\n\tif (libpcap_get_promisc(p)) {/' \
	"test-ring-grow"

# A handle whose probe got no answer asks again at each join: a grace
# period per transmit, and a batched handle's TX ring forms a group after all.
mutant group-ids-asked-per-join pcap-ring-grow.c \
	's/^\tif (!g->group_ids_asked) {$/\tif (1) {/' \
	"test-ring-grow"

# Every activation probes, also a handle that forms no group (a grace period).
mutant group-ids-probed-always pcap-ring-grow.c \
	's/group_ids = steps > 0 || batched ? handle_group_ids(g) : 1;$/group_ids = handle_group_ids(g);/' \
	"test-ring-grow"

# A TX ring refused after the capture socket's join formed the group has
# the capture socket join again at the next transmit (EALREADY, forever).
mutant tx-join-rejoins-capture pcap-ring-grow.c \
	's/^\t    ((g->group_id != -1 || join(p, capture, capture, unused) == 0) \&\&$/\t    ((join(p, capture, capture, unused) == 0) \&\&/' \
	"test-ring-grow"

# A send queue's TX ring joins the group while a step changes it.
mutant tx-join-in-step pcap-ring-grow.c \
	's/^\t    group_try_hold(g)) {$/\t    (group_try_hold(g), 1)) {/' \
	"test-ring-grow"

# A TX ring joins while the old ring drains, before the switch: the
# program it sets picks the old socket again.
mutant tx-join-while-draining pcap-ring-grow.c \
	'/A switch clears it last, once it has changed the group/{n;N;d;}' \
	"test-ring-grow"

# A TX ring that could not join during a step never joins after the switch.
mutant tx-join-not-after-switch pcap-ring-grow.c \
	'/__atomic_store_n(&g->draining, 0, __ATOMIC_SEQ_CST);/{n;d;}' \
	"test-ring-grow"

# Nor after a step that failed.
mutant tx-join-not-after-failed-step pcap-ring-grow.c \
	'/Unless the step failed, the TX ring waits for the switch/{n;d;}' \
	"test-ring-grow"

# A TX ring whose join the kernel refused (the interface down at the
# first transmit) is not joined at a later transmit.
mutant tx-join-refused-not-retried pcap-ring-sendqueue.c \
	's/^\t\tpcap_ring_group_join_tx(p);$/\t\t;/' \
	"test-ring-grow"

# A send queue's first transmit on a down interface fails with no reason.
mutant sendqueue-down-no-reason pcap-ring-sendqueue.c \
	's/^\t\tif (status == PCAP_ERROR_IFACE_NOT_UP ||$/\t\tif (0 \&\&/' \
	"test-ring-grow"

# A program is set only when the group forms: a step never switches.
mutant program-never-replaced pcap-ring-grow.c \
	's/^\tif (v == g->route)$/\tif (g->route != -1)/' \
	"test-ring-grow"

# The program the next step's join needs is left for that step to set,
# while the small ring overflows.
mutant next-join-routed-late pcap-ring-grow.c \
	's/^\tif (g->size < g->max \&\& g->spare_next < g->spare_nr \&\&$/\tif (0 \&\&/' \
	"test-ring-grow"

# The spare sockets stay open across exec: a program's exec'd child holds
# raw sockets, and keeps them in the parent's stead.
mutant spares-inherited pcap-ring-grow.c \
	's/SOCK_RAW | SOCK_CLOEXEC/SOCK_RAW/' \
	"test-ring-grow"

# A batched handle's TX socket stays open across exec.
mutant tx-socket-inherited pcap-ring-tx.c \
	's/SOCK_RAW | SOCK_CLOEXEC/SOCK_RAW/' \
	"test-ring-grow"

# A handle that asked for nothing gets the 32 MiB default above the cap:
# with a cap at or below the 2 MiB start, or short of descriptors.
mutant cap-exceeded pcap-ring-grow.c \
	's/^\t\tif (mib != 0 \&\& g->size > /\t\tif (0 \&\& g->size > /' \
	"test-ring-grow"

# Growth cut short by descriptors is silent.
mutant cut-short-silent pcap-ring-grow.c \
	's/^\tif (steps < wanted \&\& group_ids == 1)$/\tif (0)/' \
	"test-ring-grow"

# A spare that failed to join as a batched handle's new dummy is never
# closed, not even by pcap_close().
mutant failed-dummy-leaked pcap-ring-grow.c \
	's/^\t\t\tclose(dummy);$/\t\t\t(void)0;/' \
	"test-ring-grow"

# When the new dummy fails to join, the old one stays in the middle of
# the group's order of creation: after a down/up it gets every frame.
mutant old-dummy-stays pcap-ring-grow.c \
	's/^\t\tif (leave(p, g->dummy, capture, unused) == 0)$/\t\tif (0)/' \
	"test-ring-grow"

# PCAP_RING_TX_BATCH capped at 4 frames.
mutant env-batch-4 pcap-ring-tx.c \
	's/TX_MAX_RING_FRAMES, &tx->batch, libpcap_errbuf(p)) != 0) ||/\0 (!tx->batch_set \&\& tx->batch > 4 \&\& (tx->batch = 4) < 0) ||/' \
	"tx/t-inject-modes"

# PCAP_RING_TX_RING ignored.
mutant env-ring-ignored pcap-ring-tx.c \
	's/TX_MAX_RING_FRAMES, &tx->ring_frames,/TX_MAX_RING_FRAMES, \&n,/' \
	"tx/t-ring-full-down"

# A bad PCAP_RING_TX_BATCH or PCAP_RING_TX_RING accepted as unset.
mutant env-bad-value-accepted pcap-ring.c \
	'/is not a number from 0 to/,/return PCAP_ERROR;/s/return PCAP_ERROR;/return 0;/' \
	"test-open-close-leaks"

# Send-queue sync ignored: the time stamps' gaps are not kept.
mutant sync-ignored pcap-ring-sendqueue.c \
	's/if (sync) {/if (sync \&\& 0) {/' \
	"tx/t-inject-modes"

# Send-queue sync keeps twice the gaps.
mutant sync-slow pcap-ring-sendqueue.c \
	's/return prev_due + (ts - prev_ts);/return prev_due + 2 * (ts - prev_ts);/' \
	"tx/t-inject-modes"

# A batched (or growing) handle's epoll set is never closed.
mutant tx-epoll-leak pcap-ring.c \
	's/close(pr->epoll_fd);/(void)0;/' \
	"test-open-close-leaks"

# A growing handle's selectable descriptor is its capture socket, which a
# growth step replaces under the program's own epoll set.
mutant growth-selectable-socket pcap-ring.c \
	's/^\tif (pr->grow.max != 0) {$/\tif (0) {/' \
	"test-program-socket"

# While the old ring drains, the selectable descriptor hears only it.
mutant growth-drain-unheard pcap-ring-grow.c \
	's/^\t(void)pcap_ring_epoll_add(p, fd, errbuf);$/\t(void)0;/' \
	"test-ring-grow"

# A growth step's waits for the kernel are the reader's: the read that
# starts one is held while the small ring overflows.
mutant growth-worker-in-place pcap-ring-grow.c \
	's/^\tif (g->worker_fd != -1 \&\& pthread_attr_init(\&attr) == 0) {$/\tif (0) {/' \
	"test-ring-grow"

# A read that took a step's picked socket and finds nothing waits for a
# packet: a select() loop blocks in it on an idle link.
mutant growth-pick-waits pcap-ring-read.c \
	's/^\tif (ret == 0 \&\& picked \&\& (pr->timeout != 0 || pr->wait_once))$/\tif (0)/' \
	"test-select-dispatch"

# Without a timeout, a blocking read that took a step's picked socket
# and finds nothing returns 0 (pcap_next(): the capture ended).
mutant growth-pick-returns-untimed pcap-ring-read.c \
	's/^\tif (ret == 0 \&\& picked \&\& (pr->timeout != 0 || pr->wait_once))$/\tif (ret == 0 \&\& picked)/' \
	"test-select-dispatch"

# The worker wakes the selectable descriptor after every task, also when
# there is nothing to read.
mutant growth-wakes-always pcap-ring-grow.c \
	's/^\tif (__atomic_load_n(\&pr->grow.next_fd, __ATOMIC_SEQ_CST) != -1 \&\&$/\tif (/' \
	"test-select-dispatch"

# A fork() does not wait for a running worker: the child finds a step
# half done, and its parent's wake-up keeps it spinning.
mutant growth-fork-unwaited pcap-ring-grow.c \
	's/^\tfor (tries = 0; tries < 10000 \&\&$/\tfor (tries = 10000; tries < 10000 \&\&/' \
	"test-ring-grow"

# A process that cannot start a thread (a sandbox) never steps: the
# task that no thread runs is not run in its stead.
mutant growth-no-fallback pcap-ring-grow.c \
	's/^\tif (!g->worker_threaded) {$/\tif (0) {/' \
	"test-ring-grow"

# A copy of the capture socket that outlives a step is taken to have left.
mutant growth-copy-ignored pcap-ring-grow.c \
	's/^\tstayed = open_now != 0;$/\tstayed = open_now == 2;/' \
	"test-ring-grow"

# The MTU is not read again: a raised MTU refuses longer frames.
mutant tx-mtu-read-once pcap-ring-tx.c \
	's/if ((mtu = ring_sock_mtu(tx->ring.fd, tx_ifname(p),$/if ((mtu = (int)(tx->max_len - tx->mtu_extra)) == -1 \&\& (ring_sock_mtu(tx->ring.fd, tx_ifname(p),/' \
	"tx/t-mtu"

# A blocking flush gives up after the close bound and drops what waits.
mutant tx-blocking-gives-up pcap-ring-tx.c \
	's/wait == TX_WAIT_CLOSE \&\&/wait != TX_KICK_ONCE \&\&/' \
	"tx/t-blocking"

# pcap_close() on another thread does not wait for the exit hook, which
# walks the list of handles without a lock.
mutant exit-hook-not-waited-for pcap-ring-tx.c \
	's/while (exit_flushing \&\& !pthread_equal(exit_thread, pthread_self()))/while (0)/' \
	"tx/t-exit-threads"

# The exit hook never gives up: frames stuck on a slow link hold exit().
mutant exit-hook-no-deadline pcap-ring-tx.c \
	's/give_up = pcap_ring_now_ns() > due;/give_up = due < 0;/' \
	"tx/t-exit-threads tx/t-blocking"

# The module's handles get no tx ops: the TX API says "not supported".
mutant tx-ops-not-installed pcap-ring.c \
	's/libpcap_set_tx_ops(p, &pcap_ring_tx_ops);/(void)0;/' \
	"test-tx-api tx/t-inject-modes"

# The release check inverted: 1.10.3's socket errors worded and coded
# as 1.10.6's (and the other way round).
mutant release-check-inverted pcap-ring.c \
	'/^ring_libpcap_release_at_least(/,/^}/{s/return 1;/return 0;/;s/ > / < /;s/ >= / < /;}' \
	"test-activate-errors"

# The door asks for 32-bit ring addresses when pcap_init() did not.
mutant mmap-32bit-inverted pcap-ring-libpcap.h \
	's/return pcap_plugin_get_mmap_32bit() ? MAP_32BIT : 0;/return pcap_plugin_get_mmap_32bit() ? 0 : MAP_32BIT;/' \
	"test-options"

# The door takes a count of 0 for a limit: pcap_dispatch(cnt=0)
# delivers one packet instead of every one waiting.
mutant count-zero-limited pcap-ring-libpcap.h \
	's/\treturn count <= 0;/\treturn count < 0;/' \
	"test-nonblock-timeout"

# The door never sees pcap_set_rfmon(): a device without monitor mode
# activates instead of failing with PCAP_ERROR_RFMON_NOTSUP.
mutant rfmon-ignored pcap-ring-libpcap.h \
	's/\treturn pcap_plugin_get_rfmon(p);/\treturn ((void)p, 0);/' \
	"test-activate-errors"

# The door never tells pcap_next_ex()'s callback: the packet it returns
# is given back to the kernel, which overwrites it before the next call.
mutant oneshot-never pcap-ring-libpcap.h \
	's/\treturn pcap_plugin_is_oneshot(p, callback);/\treturn ((void)p, (void)callback, 0);/' \
	"test-select-dispatch"

# The door never sees pcap_set_protocol_linux(): every protocol comes.
mutant protocol-ignored pcap-ring-libpcap.h \
	's/\treturn pcap_plugin_get_protocol(p);/\treturn ((void)p, 0);/' \
	"test-options"

# The door never sees a pending pcap_breakloop() while a blocking read
# flushes the TX ring: on a slow link the read goes on for seconds.
mutant break-request-unseen pcap-ring-libpcap.h \
	's/\treturn pcap_plugin_break_loop_requested(p);/\treturn ((void)p, 0);/' \
	"tx/t-read-flush"

# The door never hands libpcap the select timeout: a program polling a
# device that went down is not told to come back and learn it.
mutant select-timeout-unset pcap-ring-libpcap.h \
	's/\tpcap_plugin_set_select_timeout(p, tv);/\t(void)p; (void)tv;/' \
	"test-iface-faults"

# The door drops the filter compiler's VLAN extensions: "vlan" misses
# the frames whose tag the kernel took out.
mutant bpf-vlan-dropped pcap-ring-libpcap.h \
	's/\tpcap_plugin_add_bpf_flags(p, flags);/\tpcap_plugin_add_bpf_flags(p, flags \& ~PCAP_PLUGIN_BPF_VLAN);/' \
	"test-setfilter-traffic diff/t-vlan-rxvlan-on"

# libpcap lets a TX setting reach the capture source after activation.
mutant tx-set-after-activation pcap-plugin-api.c \
	's/if (pcapint_check_activated(p))/if (0)/' \
	"plugin/t-tx-ops"

# The members of a tx ops table past its size are called.
mutant tx-ops-size-ignored pcap-plugin-api.c \
	's/(p)->tx_ops->size >= /(size_t)-1 >= /' \
	"plugin/t-tx-ops"

# The loader's VLAN-aware filter for plugins drops the tag: frames in
# the ring when "vlan" is set, filtered again in userland, are lost.
mutant filter-vlan-no-tag pcap-plugin-api.c \
	's/aux_data.vlan_tag_present = (u_short)(vlan_tag_present != 0);/aux_data.vlan_tag_present = 0;/' \
	"test-setfilter-traffic"

# The setdirection op forgets the direction the read path keeps:
# pcap_setdirection() succeeds and both directions are still captured.
mutant set-direction-ignored pcap-ring.c \
	's/((struct pcap_ring \*)libpcap_priv(p))->direction = d;/(void)0;/' \
	"test-options diff/t-tcpdump-snaplen-direction"

# A failed activation does not undo what it set up.
mutant failed-activation-leak pcap-ring.c \
	'/^fail:$/{n;s/^\tpcap_ring_cleanup(p);$/\t(void)p;/;}' \
	"test-open-close-leaks"

# The plugin loader (patches/0001) loads a plugin of any ABI version.
mutant plugin-any-abi pcap-plugin.c \
	's/^\tdefault:/\tcase 2:\n\t\tbreak;\n\tdefault:/' \
	"plugin/t-loader"

# An extended plugin entry is trusted whatever its size.
mutant plugin-any-size pcap-plugin.c \
	's/if (entry->size < EXTENDED_ENTRY_MIN_SIZE)/if (0)/' \
	"plugin/t-loader"

# A plugin file name in two directories of the path is loaded twice.
mutant plugin-no-hiding pcap-plugin.c \
	's/if (!already_loaded(names\[i\]->d_name))/if (1)/' \
	"plugin/t-loader"

# Plugins loaded again at every call, not once per process.
mutant plugin-load-per-call pcap-plugin.c \
	's/pthread_once(&load_once, load_plugins);/load_plugins();/' \
	"plugin/t-loader"

# PCAP_PLUGIN_DIR ignored.  (t-secure-env's normal run uses it too, with
# the ring library its program's run path names, where the mutant is.)
mutant plugin-env-ignored pcap-plugin.c \
	's/\t\t\tload_directory(dir);/\t\t\t(void)dir;/' \
	"plugin/t-loader plugin/t-secure-env"

# PCAP_PLUGIN_DIR used in secure execution: whoever runs a setuid or
# file-capability program chooses the code it loads.
mutant plugin-env-secure pcap-plugin.c \
	's/secure_execution() ? NULL : getenv("PCAP_PLUGIN_DIR")/getenv("PCAP_PLUGIN_DIR")/' \
	"plugin/t-secure-env"

if [ "$missed" -ne 0 ]; then
	echo "check-mutants: $missed mutant(s) missed or broken"
	exit 1
fi
echo "check-mutants: every mutant caught"

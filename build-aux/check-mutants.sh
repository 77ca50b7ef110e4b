#!/bin/sh
# make check-mutants: build deliberately broken variants of the ring
# library, one small sed edit of a module source each, and run the tests
# that must catch it.  A mutant is caught when every one of its tests
# fails; one line per mutant says "caught" or "MISSED", and the script
# exits non-zero if any was missed or could not be built.
#
# usage: check-mutants.sh TOPSRCDIR RING_TREE WORKDIR
# with make check's environment (RING_DROPIN and the rest).  The ring
# tree is copied once to WORKDIR; each mutant edits its copy of a module
# source there, rebuilds only that and the shared library, and its tests
# run with RING_DROPIN pointing at it.  MUTANTS='name ...' runs only
# those.  Each mutant's test logs stay in WORKDIR/NAME.
set -u

top=$1 ring_tree=$2 work=$3
tree=$work/tree

rm -rf "$work"
mkdir -p "$work"
# Time stamps kept, so that make rebuilds only what a mutant touches.
cp -a "$ring_tree" "$tree" || exit 1
RING_DROPIN=$work/dropin
export RING_DROPIN
mkdir -p "$RING_DROPIN"
version=$(cat "$tree/VERSION")
ln -s "$tree/libpcap.so.$version" "$RING_DROPIN/libpcap.so.0.8"
ln -s "$tree/libpcap.so.$version" "$RING_DROPIN/libpcap.so.1"

missed=0

# mutant NAME FILE SED-SCRIPT TESTS: FILE (of pcap-ring/, or a file the
# series adds to libpcap, such as the plugin loader's) edited by
# SED-SCRIPT must make every test in TESTS (run-tests.sh names) fail.
mutant() {
	name=$1 file=$2 edit=$3 tests=$4
	case " ${MUTANTS:-$name} " in *" $name "*) ;; *) return ;; esac
	orig=$top/pcap-ring/$file
	[ -f "$orig" ] || orig=$ring_tree/$file
	sed -e "$edit" "$orig" > "$tree/$file"
	if cmp -s "$orig" "$tree/$file"; then
		echo "BROKEN: $name: the edit no longer applies to $orig"
		missed=$((missed + 1))
		return
	fi
	if ! make -C "$tree" shared > "$work/$name.build.log" 2>&1; then
		echo "BROKEN: $name: does not build (see $work/$name.build.log)"
		missed=$((missed + 1))
		cp "$orig" "$tree/$file"
		return
	fi
	TEST_LOGDIR=$work/$name TESTS=$tests \
		sh "$top/tests/run-tests.sh" "$top/tests" > "$work/$name.log" 2>&1
	caught= passed=
	for t in $tests; do
		if grep -q "^FAIL: ${t}[ :]" "$work/$name.log"; then
			caught="$caught $t"
		else
			passed="$passed $t"
		fi
	done
	if [ -z "$passed" ]; then
		echo "caught: $name, by:$caught"
	else
		echo "MISSED: $name: passed or skipped:$passed (see $work/$name.log)"
		missed=$((missed + 1))
	fi
	# Back to the real source: the next build drops this mutant.
	cp "$orig" "$tree/$file"
}

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

# Every captured frame cut short by one byte.
mutant truncate pcap-ring-read.c \
	's/h.caplen = pkt->caplen;/h.caplen = pkt->caplen - 1;/' \
	"test-select-dispatch test-stats ns/t-capture-basic"

# Every captured frame one byte shorter, caplen and length alike.
mutant short-length pcap-ring-read.c \
	's/h.caplen = pkt->caplen;/h.caplen = pkt->caplen - 1;/;s/h.len = pkt->len;/h.len = pkt->len - 1;/' \
	"test-select-dispatch test-breakloop"

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
mutant tx-no-lock pcap-ring-tx.c \
	's/pthread_mutex_lock(&tx->lock);/(void)0;/' \
	"test-tx-threads"

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
mutant sync-ignored pcap-ring-tx.c \
	's/if (sync) {/if (0) {/' \
	"tx/t-inject-modes"

# Send-queue sync keeps twice the gaps.
mutant sync-slow pcap-ring-tx.c \
	's/return prev_due + (ts - prev_ts);/return prev_due + 2 * (ts - prev_ts);/' \
	"tx/t-inject-modes"

# A batched handle's epoll set is never closed.
mutant tx-epoll-leak pcap-ring-tx.c \
	's/close(tx->epoll_fd);/(void)0;/' \
	"test-open-close-leaks"

# The MTU is not read again: a raised MTU refuses longer frames.
mutant tx-mtu-read-once pcap-ring-tx.c \
	's/if ((mtu = ring_sock_mtu(tx->ring.fd, tx_ifname(p),$/if ((mtu = (int)(tx->max_len - tx->mtu_extra)) == -1 \&\& (ring_sock_mtu(tx->ring.fd, tx_ifname(p),/' \
	"tx/t-mtu"

# A blocking flush gives up after the close bound and drops what waits.
mutant tx-blocking-gives-up pcap-ring-tx.c \
	's/wait == TX_WAIT_CLOSE \&\&/wait != TX_KICK_ONCE \&\&/' \
	"tx/t-blocking"

# The module's handles get no tx ops: the TX API says "not supported".
mutant tx-ops-not-installed pcap-ring.c \
	's/libpcap_set_tx_ops(p, &pcap_ring_tx_ops);/(void)0;/' \
	"test-tx-api tx/t-inject-modes"

# libpcap lets a TX setting reach the capture source after activation.
mutant tx-set-after-activation pcap-plugin-api.c \
	's/if (pcapint_check_activated(p))/if (0)/' \
	"plugin/t-tx-ops"

# The members of a tx ops table past its size are called.
mutant tx-ops-size-ignored pcap-plugin-api.c \
	's/(p)->tx_ops->size >= /(size_t)-1 >= /' \
	"plugin/t-tx-ops"

# A failed activation does not undo what it set up.
mutant failed-activation-leak pcap-ring.c \
	'/^fail:$/{n;s/ring_cleanup(p);/(void)p;/;}' \
	"test-open-close-leaks"

# The plugin loader (patches/0006) loads a plugin of any ABI version.
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

# PCAP_PLUGIN_DIR ignored.  (Its being ignored in secure execution,
# tests/plugin/t-secure-env.sh, runs a program whose run path names the
# ring library, which a mutant does not replace.)
mutant plugin-env-ignored pcap-plugin.c \
	's/\t\t\tload_directory(dir);/\t\t\t(void)dir;/' \
	"plugin/t-loader"

if [ "$missed" -ne 0 ]; then
	echo "check-mutants: $missed mutant(s) missed or broken"
	exit 1
fi
echo "check-mutants: every mutant caught"

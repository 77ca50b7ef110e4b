# In a process that holds another libpcap ahead of the one that loaded
# it, pcap-ring still asks its own libpcap what it needs: here a preloaded
# library defines pcap_lib_version() with a release whose refused packet
# socket stock words differently from the release under test, and an
# unprivileged tcpdump must print the same error through the ring library
# as through stock (both with the same preload).  Through the first
# libpcap in the global scope, the plugin would word it as that release.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
need tcpdump tcpdump test -x "${TCPDUMP:-}"
need setpriv util-linux command -v setpriv
have "a C compiler" gcc ${CC:-cc} --version || skip "needs a C compiler for the preloaded library"
bed_setup

# Until 1.10.6 the errno text overwrote stock's explanation.
case $LIBPCAP_VERSION in
1.10.[0-5]) other=9.9.9 ;;
*) other=1.10.3 ;;
esac
# What the unprivileged tcpdump reads and writes.
shared=$BED_TMP/shared
mkdir -m 1777 "$shared" && chmod go+x "$BED_TMP" || fail "making $shared"
cat > "$BED_TMP/version.c" <<C
const char *pcap_lib_version(void) { return "libpcap version $other (preloaded)"; }
C
${CC:-cc} -shared -fPIC -o "$shared/version.so" "$BED_TMP/version.c" ||
	fail "building the preloaded library"

# The preload after lib_env's own (sanitizer runtimes first).
capture() {
	preload=$(lib_env "$1" | sed -n 's/.*LD_PRELOAD=\([^ ]*\).*/\1:/p')$shared/version.so
	in_b env $(lib_env "$1") $(trace_env "$shared/$1.trace") LD_PRELOAD="$preload" \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$TCPDUMP" -i "$VETH_B" -c 1 -w /dev/null 2>&1
}
stock=$(capture stock) && fail "stock tcpdump captured unprivileged: $stock"
ring=$(capture ring) && fail "ring tcpdump captured unprivileged: $ring"
assert_match "stock refuses the unprivileged capture" "$VETH_B" "$stock"
assert_eq "the ring library's error is stock's, with pcap_lib_version() of $other preloaded" "$stock" "$ring"
assert_claimed "the ring library" "$shared/ring.trace" "$VETH_B"

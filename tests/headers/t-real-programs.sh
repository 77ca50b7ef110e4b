# Real programs from Debian's source packages build against the ring
# build's headers and library, with -Werror=implicit-function-declaration:
#   ostinato   its Linux pcap_sendqueue_*() shim (server/pcapextra.cpp, C++),
#              which defines struct pcap_send_queue itself after <pcap.h>;
#   bittwist   Npcap-aware: send queues under _WIN32, pcap_inject() elsewhere;
#   arp-scan   autoconf-probed libpcap features, built as Debian builds it;
# and a C shim that declares the send queues with other types, as
# masscan's Linux stubs once did.  The shims must fail to build when they
# ask for libpcap's send queues (PCAP_WANT_SENDQUEUE): that proves that
# they are compiled and that the guard is what keeps them building.
#
# The sources are fetched once with apt-get source (deb-src, as for
# libpcap itself) and kept in $BUILDDIR/real-programs.
. "$TESTSRCDIR/lib/common.sh"

need "a C++ compiler" g++ command -v c++
need "apt-get" apt command -v apt-get
need "autoreconf" autoconf command -v autoreconf
need "make" make command -v make

cache=$BUILDDIR/real-programs
work=$(mktemp -d /tmp/pcap-ring-programs.XXXXXX)
trap 'rm -rf "$work"' EXIT
built=0

orig_tarball() {
	find "$cache/$1" -name "$1_*.orig.tar.*" ! -name '*.asc' | head -n 1
}

# unpack PACKAGE: print the directory of PACKAGE's upstream sources,
# unpacked into $work.  Its .orig tarball is downloaded into $cache if
# needed, from the newest version apt lists that the archive serves.
unpack() {
	mkdir -p "$cache/$1" "$work/$1"
	: > "$work/$1.fetch.log"
	if [ -z "$(orig_tarball "$1")" ]; then
		for version in $(apt-cache showsrc "$1" 2>/dev/null |
		    sed -n 's/^Version: //p' | sort -rV); do
			(cd "$cache/$1" && apt-get source --download-only --tar-only "$1=$version") \
				>> "$work/$1.fetch.log" 2>&1 && break
		done
	fi
	tarball=$(orig_tarball "$1")
	[ -n "$tarball" ] || return 1
	tar -xf "$tarball" -C "$work/$1" || return 1
	find "$work/$1" -mindepth 1 -maxdepth 1 -type d | head -n 1
}

# source PACKAGE: unpack PACKAGE, or say why not (a failure under CI,
# whose deb-src entries and archive build-aux/get-libpcap.sh relies on).
source_of() {
	dir=$(unpack "$1") && [ -n "$dir" ] && return 0
	why="apt-get source --tar-only $1 gave no upstream tarball: $(grep -m 2 '^E:' "$work/$1.fetch.log" | tr '\n' ' ')"
	in_ci && fail "$why"
	skip_case "$why"
	return 1
}

# must_not_build WHAT LOG PATTERN COMMAND...: COMMAND fails, saying PATTERN.
must_not_build() {
	_what=$1 _log=$2 _pattern=$3
	shift 3
	"$@" > "$_log" 2>&1 && fail "$_what builds"
	grep -q -- "$_pattern" "$_log" ||
		fail "$_what fails for another reason than '$_pattern': $(head -n 20 "$_log")"
	echo "ok: $_what does not build: $_pattern"
}

# Plain quotes in the compilers' diagnostics, which are matched.
LC_ALL=C
export LC_ALL
ring_cc="${CC:-cc} -I$RING_INCLUDE -L$RING_LIBDIR -Werror=implicit-function-declaration"

if source_of ostinato; then
	shim=$(find "$dir" -path '*/server/pcapextra.cpp' | head -n 1)
	[ -n "$shim" ] || fail "no server/pcapextra.cpp in ostinato's sources"
	# <QtGlobal> is there for Q_OS_WIN32 alone, which Qt leaves undefined on
	# Linux: an empty stand-in gives the file what Qt would.
	mkdir -p "$work/qt"
	: > "$work/qt/QtGlobal"
	c++ -c -Wall -I"$work/qt" -I"$RING_INCLUDE" -o "$work/pcapextra.o" "$shim" \
		> "$work/pcapextra.log" 2>&1 ||
		fail "ostinato's pcapextra.cpp does not build against the ring headers: $(head -n 20 "$work/pcapextra.log")"
	nm -C "$work/pcapextra.o" | grep -q ' T pcap_sendqueue_alloc(' ||
		fail "ostinato's pcapextra.o does not define its own pcap_sendqueue_alloc()"
	echo "ok: ostinato's pcapextra.cpp, with its own pcap_sendqueue_*(), builds against the ring headers"
	must_not_build "ostinato's pcapextra.cpp with PCAP_WANT_SENDQUEUE" "$work/pcapextra-want.log" \
		"redefinition of 'struct pcap_send_queue'" \
		c++ -c -DPCAP_WANT_SENDQUEUE -I"$work/qt" -I"$RING_INCLUDE" -o "$work/want.o" "$shim"
	built=$((built + 1))
fi

if source_of bittwist; then
	# Its own Makefile and flags; libpcap from the ring build, shared
	# (LPCAP: the Makefile links it statically on Linux).
	make -C "$dir" LPCAP=-lpcap CC="$ring_cc" > "$work/bittwist.log" 2>&1 ||
		fail "bittwist does not build against the ring build: $(tail -n 20 "$work/bittwist.log")"
	assert_ring_library bittwist "$dir/bin/bittwist"
	# -h names the libpcap it runs with.
	out=$(env $(lib_env ring) "$dir/bin/bittwist" -h 2>&1)
	assert_match "bittwist runs with the ring library" "libpcap version $LIBPCAP_VERSION" "$out"
	built=$((built + 1))
fi

if source_of arp-scan; then
	(cd "$dir" && autoreconf -fi && ./configure CC="$ring_cc" &&
		make) > "$work/arp-scan.log" 2>&1 ||
		fail "arp-scan does not build against the ring build: $(tail -n 20 "$work/arp-scan.log")"
	grep -q '^#define HAVE_PCAP_H 1' "$dir/config.h" ||
		fail "arp-scan's configure did not find the ring build's <pcap.h>"
	assert_ring_library arp-scan "$dir/arp-scan"
	out=$(env $(lib_env ring) "$dir/arp-scan" --version 2>&1)
	assert_match "arp-scan runs with the ring library" "libpcap version $LIBPCAP_VERSION" "$out"
	built=$((built + 1))
fi

# A C program's own send queue stubs for Linux, with types of its own
# (size_t, an opaque struct), after <pcap.h>.
cat > "$work/stubs.c" <<'EOF'
#include <stddef.h>
#include <pcap.h>

#ifndef _WIN32
struct pcap_send_queue;
typedef struct pcap_send_queue pcap_send_queue;
pcap_send_queue *pcap_sendqueue_alloc(size_t size) { (void)size; return NULL; }
int pcap_sendqueue_queue(pcap_send_queue *q, const struct pcap_pkthdr *h,
    const unsigned char *data) { (void)q; (void)h; (void)data; return -1; }
unsigned pcap_sendqueue_transmit(pcap_t *p, pcap_send_queue *q, int sync)
    { (void)p; (void)q; (void)sync; return 0; }
void pcap_sendqueue_destroy(pcap_send_queue *q) { (void)q; }
#endif

int
main(void)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);

	(void)errbuf;
	pcap_sendqueue_destroy(pcap_sendqueue_alloc(64));
	pcap_close(p);
	return 0;
}
EOF
$ring_cc -Wall -Werror -o "$work/stubs" "$work/stubs.c" -lpcap > "$work/stubs.log" 2>&1 ||
	fail "a program with its own send queue stubs does not build against the ring headers: $(cat "$work/stubs.log")"
echo "ok: a C program with its own pcap_sendqueue_*() stubs builds against the ring headers"
must_not_build "the C program with its own stubs and PCAP_WANT_SENDQUEUE" "$work/stubs-want.log" \
	"conflicting types for 'pcap_sendqueue_alloc'" \
	$ring_cc -DPCAP_WANT_SENDQUEUE -o "$work/stubs-want" "$work/stubs.c" -lpcap

[ "$built" -gt 0 ] || skip "no Debian source package could be fetched (see the skipped cases)"
echo "ok: $built real program(s) from Debian's sources built"

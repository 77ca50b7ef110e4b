# libpcap built from the patched tree without --enable-plugins (the
# series' default, as upstream wants) declares none of the injection API
# in its installed headers and exports none of it: exactly stock's
# symbols and the plugin interface's.  The ring build's headers declare
# it, so that the same program builds there (the control).
. "$TESTSRCDIR/lib/common.sh"

need "nm" binutils command -v nm

work=$(mktemp -d /tmp/pcap-ring-plugins-off.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The series applied, as for the ring build, and configured with its defaults.
# shellcheck disable=SC2086
sh "$TOP_SRCDIR/build-aux/build-libpcap.sh" ring "$TOP_SRCDIR" "$PRISTINE_TREE" \
	"$work/tree" "$work/stage" "$work/dropin" --prefix=/usr $LIBPCAP_PINS \
	> "$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log"; fail "the build without plugins failed"; }
! grep -q '^#define PCAP_SUPPORT_PLUGINS' "$work/tree/config.h" ||
	fail "the series' default configuration loads plugins"
echo "ok: libpcap $LIBPCAP_VERSION built from the patched tree without --enable-plugins"

include=$work/stage/usr/include
lib=$work/stage/usr/lib

# compile WHAT INCLUDE SOURCE [LIBDIR]: compile SOURCE, and link it as a
# program with LIBDIR's libpcap if given; diagnostics go to $work/WHAT.log.
compile() {
	link=-c
	[ -z "${4:-}" ] || link="-L$4 -lpcap"
	# LC_ALL=C: plain quotes in the diagnostics that are matched below.
	# shellcheck disable=SC2086
	LC_ALL=C ${CC:-cc} -std=gnu99 -Wall -Werror -Werror=implicit-function-declaration \
		-I"$2" -o "$work/$1" "$3" $link > "$work/$1.log" 2>&1
}

cat > "$work/batch.c" <<'EOF'
#include <pcap/pcap.h>

int
main(void)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_create("lo", errbuf);
	struct pcap_tx_stat st;

	if (p == NULL)
		return 1;
	pcap_set_tx_batch(p, 16);
	pcap_tx_stats(p, &st);
	pcap_close(p);
	return 0;
}
EOF
cat > "$work/sendqueue.c" <<'EOF'
#define PCAP_WANT_SENDQUEUE
#include <pcap/pcap.h>

int
main(void)
{
	pcap_send_queue *q = pcap_sendqueue_alloc(1024);

	if (q == NULL)
		return 1;
	pcap_sendqueue_destroy(q);
	return 0;
}
EOF
cat > "$work/feature-test.c" <<'EOF'
/* What a portable program does: use the API only where it is declared. */
#define PCAP_WANT_SENDQUEUE
#include <pcap/pcap.h>

int
main(void)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_create("lo", errbuf);

	if (p == NULL)
		return 1;
#ifdef PCAP_HAVE_TX_RING
	pcap_set_tx_batch(p, 16);
#endif
#ifdef PCAP_HAVE_SENDQUEUE
	pcap_sendqueue_destroy(pcap_sendqueue_alloc(1024));
#endif
	pcap_close(p);
	return 0;
}
EOF

for prog in batch sendqueue feature-test; do
	compile "ring-$prog" "$RING_INCLUDE" "$work/$prog.c" "$RING_LIBDIR" ||
		fail "$prog.c does not build against the ring build: $(cat "$work/ring-$prog.log")"
done
echo "ok: the ring build's headers declare the API (batch.c, sendqueue.c, feature-test.c build)"

for prog in batch sendqueue; do
	compile "off-$prog" "$include" "$work/$prog.c" &&
		fail "$prog.c builds against the headers of the build without plugins"
	grep -q 'implicit declaration of function .pcap_\|unknown type name .pcap_send_queue' \
		"$work/off-$prog.log" ||
		fail "$prog.c fails against the headers of the build without plugins for another reason: $(cat "$work/off-$prog.log")"
done
echo "ok: without plugins, <pcap/pcap.h> declares neither pcap_set_tx_batch() nor pcap_sendqueue_alloc()"
compile off-feature-test "$include" "$work/feature-test.c" "$lib" ||
	fail "feature-test.c does not build against the headers of the build without plugins: $(cat "$work/off-feature-test.log")"
echo "ok: a program that tests PCAP_HAVE_TX_RING and PCAP_HAVE_SENDQUEUE builds with both"

[ -f "$include/pcap/ring-config.h" ] || fail "no pcap/ring-config.h installed"
! grep -q 'define PCAP_HAVE_TX_RING' "$include/pcap/ring-config.h" ||
	fail "pcap/ring-config.h of a build without plugins defines PCAP_HAVE_TX_RING"
grep -q 'define PCAP_HAVE_TX_RING' "$RING_INCLUDE/pcap/ring-config.h" ||
	fail "the ring build's pcap/ring-config.h does not define PCAP_HAVE_TX_RING"
echo "ok: pcap/ring-config.h defines PCAP_HAVE_TX_RING in the ring build only"

exported() {
	nm -D --defined-only "$1" | awk '$2 ~ /^[TDBR]$/ { print $3 }' |
		sed 's/@.*//' | LC_ALL=C sort -u
}
off_lib=$(find "$lib" -name 'libpcap.so.*.*.*' -type f | head -n 1)
[ -n "$off_lib" ] || fail "no shared library in $lib"
exported "$off_lib" > "$work/off.syms"
exported "$STOCK_DROPIN/libpcap.so.1" > "$work/stock.syms"
exported "$RING_DROPIN/libpcap.so.1" > "$work/ring.syms"
LC_ALL=C comm -13 "$work/stock.syms" "$work/ring.syms" > "$work/new.syms"
[ -s "$work/new.syms" ] || fail "the ring library exports nothing stock does not"
echo "ok: the ring library adds $(wc -l < "$work/new.syms") symbols: $(echo $(cat "$work/new.syms"))"
# The plugin interface (patches/0001) is built whatever the options, so
# that the exported set does not depend on them: stock's symbols plus the
# functions pcap/pcap-plugin.h declares.
header_functions "$include/pcap/pcap-plugin.h" > "$work/plugin.syms"
[ -s "$work/plugin.syms" ] || fail "no PCAP_API function in the installed pcap/pcap-plugin.h"
LC_ALL=C sort -u "$work/stock.syms" "$work/plugin.syms" > "$work/expected.syms"
extra=$(LC_ALL=C comm -13 "$work/expected.syms" "$work/off.syms")
[ -z "$extra" ] ||
	fail "the library without plugins exports what neither stock nor pcap-plugin.h has: $(echo $extra)"
missing=$(LC_ALL=C comm -23 "$work/expected.syms" "$work/off.syms")
[ -z "$missing" ] ||
	fail "the library without plugins lacks stock or pcap-plugin.h symbols: $(echo $missing)"
echo "ok: the library without plugins exports exactly stock's $(wc -l < "$work/stock.syms") symbols and the $(wc -l < "$work/plugin.syms") of pcap-plugin.h"

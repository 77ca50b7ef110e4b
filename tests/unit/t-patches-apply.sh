# Every patch of the series applies to the pristine release with -p1 and
# no fuzz (offsets are fine), in series order.
. "$TESTSRCDIR/lib/common.sh"

tree=$(mktemp -d /tmp/pcap-ring-patches.XXXXXX)
trap 'rm -rf "$tree"' EXIT
cp -R "$PRISTINE_TREE"/. "$tree"
n=0
while read -r patch; do
	case "$patch" in ''|'#'*) continue ;; esac
	out=$(patch -d "$tree" -p1 -F0 -N --no-backup-if-mismatch < "$PATCHES/$patch" 2>&1) ||
		fail "$patch does not apply to libpcap $LIBPCAP_VERSION: $out"
	printf '%s\n' "$out" | grep -qi fuzz && fail "$patch needs fuzz: $out"
	n=$((n + 1))
done < "$PATCHES/series"
[ "$n" -gt 0 ] || fail "empty series"
echo "ok: $n patches apply to libpcap $LIBPCAP_VERSION without fuzz"

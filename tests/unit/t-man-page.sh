# pcap-ring(7), the page the plugin's package ships: it formats without a
# warning, and it and README.md describe every variable the module reads
# (a name in quotes in pcap-ring/*.c, passed to secure_getenv() or
# pcap_ring_env_number()), and nothing the module does not read.
. "$TESTSRCDIR/lib/common.sh"

page=$TOP_SRCDIR/pcap-ring/pcap-ring.7
readme=$TOP_SRCDIR/README.md
[ -f "$page" ] || fail "no man page: $page"
need "groff" groff-base command -v groff

warnings=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
assert_eq "groff's warnings on pcap-ring.7" "" "$warnings"

read_vars=$(grep -ho '"PCAP_RING_[A-Z_]*"' "$TOP_SRCDIR"/pcap-ring/*.c | tr -d '"' | sort -u)
[ "$(echo "$read_vars" | wc -l)" -ge 6 ] ||
	fail "found only these variables in the module's sources: $read_vars"
# The ENVIRONMENT section's tags, the lines after .TP: .B NAME or
# .BI NAME= value.
page_vars=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' "$page" |
	awk 'tag { print } { tag = $0 == ".TP" }' |
	sed -n 's/^\.BI* \(PCAP_RING_[A-Z_]*\).*/\1/p' | sort -u)
assert_eq "variables pcap-ring.7 describes" "$(echo $read_vars)" "$(echo $page_vars)"
readme_vars=$(sed -n 's/^| `\(PCAP_RING_[A-Z_]*\)[=`].*/\1/p' "$readme" | sort -u)
assert_eq "variables README.md's table describes" "$(echo $read_vars)" "$(echo $readme_vars)"

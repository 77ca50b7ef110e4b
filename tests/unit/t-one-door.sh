# pcap-ring reaches libpcap through one door, pcap-ring/pcap-ring-libpcap.h,
# and through the plugin interface alone:
# - every file of pcap-ring/ compiles with nothing but the ring build's
#   installed public headers on the include path (no pcap-int.h, no
#   config.h), where a pcap_t is opaque, so no code can reach into one;
# - no file but the door calls a pcap_plugin_*() accessor, so that the
#   door lists all the module takes from libpcap (comments do not count);
# - pcap-ring.so exports pcap_plugin_entry alone, and every libpcap
#   function it needs is declared in <pcap/pcap.h> or <pcap/pcap-plugin.h>:
#   it uses no symbol of libpcap's internals.
. "$TESTSRCDIR/lib/common.sh"

src=${TOP_SRCDIR:?}/pcap-ring
door=$src/pcap-ring-libpcap.h
plugin=${RING_PLUGIN:?}
include=${RING_INCLUDE:?}
cc=${CC:-cc}

[ -f "$door" ] || fail "no door header $door"
[ -f "$plugin" ] || fail "no plugin $plugin"
# CC may be a command with words (ccache gcc).
have "a C compiler" gcc $cc --version || skip "needs a C compiler"
need "nm" binutils command -v nm

# The include path is the installed headers alone: pcap-int.h must not be there.
[ ! -e "$include/pcap-int.h" ] || fail "$include holds libpcap's private pcap-int.h"
work=$(mktemp -d /tmp/pcap-ring-door.XXXXXX)
trap 'rm -rf "$work"' EXIT
files=0
for f in "$src"/*.c; do
	files=$((files + 1))
	$cc -std=gnu99 -Wall -Wextra -Werror -fsyntax-only -I"$include" "$f" \
		> "$work/cc.log" 2>&1 ||
		fail "${f#"$src"/} does not compile with the public headers alone: $(cat "$work/cc.log")"
done
[ "$files" -gt 0 ] || fail "no module sources in $src"
echo "ok: the $files .c files of pcap-ring/ compile against the public headers alone"

# The file's code without its comments.  Called as $(code FILE) || fail:
# a failure must not pass for a clean file.
code() {
	$cc -fpreprocessed -dD -E -P -x c "$1" 2>/dev/null
}
accessor_call='\bpcap_plugin_[a-z_]+[[:space:]]*\('
assert_match "the door calls the accessors" "$accessor_call" "$(code "$door")"
bad=
for f in "$src"/*.c "$src"/*.h; do
	[ "$f" = "$door" ] && continue
	text=$(code "$f") || fail "$cc cannot read $f"
	hits=$(printf '%s\n' "$text" | grep -E "$accessor_call" || true)
	[ -z "$hits" ] || bad="$bad
${f#"$src"/}:
$(printf '%s\n' "$hits" | sed 's/^/    /')"
done
[ -z "$bad" ] || fail "pcap_plugin_*() called outside $door:$bad"
echo "ok: only pcap-ring-libpcap.h calls pcap_plugin_*()"

# (AddressSanitizer adds its own __odr_asan.* markers.)
exported=$(nm -D --defined-only "$plugin" | awk '$2 ~ /^[A-Z]$/ && $3 !~ /^__odr_asan/ { print $3 }')
assert_eq "what pcap-ring.so exports" pcap_plugin_entry "$exported"
header_functions "$include/pcap/pcap-plugin.h" > "$work/public"
header_functions "$include/pcap/pcap.h" >> "$work/public"
nm -D --undefined-only "$plugin" | awk '{ print $2 }' | sed 's/@.*//' |
	grep -E '^pcap' | LC_ALL=C sort -u > "$work/used"
[ -s "$work/used" ] || fail "pcap-ring.so calls no libpcap function"
internal=$(LC_ALL=C sort -u "$work/public" | LC_ALL=C comm -23 "$work/used" -)
[ -z "$internal" ] || fail "pcap-ring.so needs what the public headers do not declare: $(echo $internal)"
echo "ok: pcap-ring.so needs $(wc -l < "$work/used") libpcap functions, all of the public headers"

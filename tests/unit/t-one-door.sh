# The module reaches libpcap through one door, pcap-ring/pcap-ring-libpcap.h:
# no other file of pcap-ring/ includes pcap-int.h (or pcap-plugin-int.h),
# calls a pcapint_ function or names a member of a pcap_t (p->..., or
# through any other pcap_t pointer it declares), so that the plugin build
# changes only the door's shims; nor does it call a pcap_plugin_ accessor
# itself, so that the door lists all the module takes from libpcap.
# Comments do not count; code does.
. "$TESTSRCDIR/lib/common.sh"

src=${TOP_SRCDIR:?}/pcap-ring
door=$src/pcap-ring-libpcap.h
cc=${CC:-cc}

[ -f "$door" ] || fail "no door header $door"
# CC may be a command with words (ccache gcc).
have "a C compiler" gcc $cc --version || skip "needs a C compiler to strip comments"

# The file's code without its comments; #include lines stay as written.
# Called as $(code FILE) || fail: a failure must not pass for a clean file.
code() {
	$cc -fpreprocessed -dD -E -P -x c "$1" 2>/dev/null
}

# The door itself is where the internals are, so that the test looks for
# the right spellings.
door_code=$(code "$door") || fail "$cc cannot read $door"
assert_match "the door includes pcap-int.h" '#include "pcap-int.h"' "$door_code"
assert_match "the door names pcap_t members" 'p->priv' "$door_code"
assert_match "the door calls pcapint_ functions" 'pcapint_[a-z_]+\(' "$door_code"

bad=
files=0
for f in "$src"/*.c "$src"/*.h; do
	[ "$f" = "$door" ] && continue
	files=$((files + 1))
	name=${f#"$src"/}
	text=$(code "$f") || fail "$cc cannot read $f"
	# Every name the file gives a pcap_t pointer, p always among them.
	ptrs=$(printf '%s\n' "$text" |
	    grep -oE 'pcap_t[[:space:]]*\*+[[:space:]]*[A-Za-z_][A-Za-z0-9_]*' |
	    sed 's/.*[*[:space:]]//' | sort -u)
	members=
	for v in p $ptrs; do
		m=$(printf '%s\n' "$text" |
		    grep -E "(^|[^A-Za-z0-9_.>])$v->|(^|[^A-Za-z0-9_])\(\*$v\)->" ||
		    true)
		members="$members$m"
	done
	include=$(printf '%s\n' "$text" | grep -E '#[[:space:]]*include[[:space:]]*[<"]pcap-(plugin-)?int\.h[>"]' || true)
	pcapint=$(printf '%s\n' "$text" | grep -E '\bpcapint_[A-Za-z0-9_]*' || true)
	accessor=$(printf '%s\n' "$text" | grep -E '\bpcap_plugin_[a-z_]+[[:space:]]*\(' || true)
	cast=$(printf '%s\n' "$text" | grep -E '\((const[[:space:]]+)?(pcap_t|struct[[:space:]]+pcap)[[:space:]]*\*\)[^;]*\)->' || true)
	spcap=$(printf '%s\n' "$text" | grep -E '\bstruct[[:space:]]+pcap\b[^_]' || true)
	for what in include pcapint accessor members cast spcap; do
		eval "hits=\$$what"
		[ -n "$hits" ] || continue
		bad="$bad
$name ($what):
$(printf '%s\n' "$hits" | sed 's/^/    /')"
	done
done
[ "$files" -gt 0 ] || fail "no module sources in $src"
[ -z "$bad" ] || fail "libpcap internals used outside $door:$bad"
echo "ok: $files files of pcap-ring/ reach libpcap only through pcap-ring-libpcap.h"

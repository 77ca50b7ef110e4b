# The plugin loader (patches/0001): with PCAP_PLUGIN_DIR pointing at it,
# a pcap-*.so capture source lists its device and delivers its packets
# through pcap_loop(); plugins of a wrong ABI are skipped with a message
# and the rest works; a missing directory leaves the library as stock.
# The plugins and their packets: tests/plugin/pcap-plugtest.c.  The
# programs run in a namespace of the test bed, whose devices no other
# test adds or removes while the lists are compared.
. "$TESTSRCDIR/lib/common.sh"
. "$TESTSRCDIR/lib/netns.sh"
require_root
bed_setup

tmp=$BED_TMP
mkdir "$tmp/good" "$tmp/bad" "$tmp/failfind" "$tmp/noactivate" "$tmp/unsafe"
cp "$PLUGINS/pcap-plugtest.so" "$PLUGINS/pcap-plugtest-ext.so" "$tmp/good/" &&
	cp "$PLUGINS/pcap-plugtest.so" "$PLUGINS/pcap-plugtest-badabi.so" \
		"$PLUGINS/pcap-plugtest-short.so" "$tmp/bad/" &&
	cp "$PLUGINS/pcap-plugtest.so" "$PLUGINS/pcap-plugtest-failfind.so" "$tmp/failfind/" &&
	cp "$PLUGINS/pcap-plugtest-noactivate.so" "$tmp/noactivate/" ||
	fail "copying the plugins"
# Safe modes whatever the umask: the loader skips what others could write.
chmod -R go-w "$tmp" || fail "chmod $tmp"

# probe LIBRARY PLUGIN_DIR ARGS...: plugin-probe's output and standard
# error; PLUGIN_DIR - for none in the environment.
probe() {
	lib=$1 dir=$2
	shift 2
	if [ "$dir" = - ]; then
		in_a env -u PCAP_PLUGIN_DIR $(tool_env "$lib") "$TOOLS/plugin-probe" "$@" 2>&1
	else
		in_a env PCAP_PLUGIN_DIR="$dir" $(tool_env "$lib") "$TOOLS/plugin-probe" "$@" 2>&1
	fi
}

# count_lines WHAT EXPECTED REGEX TEXT
count_lines() {
	assert_eq "$1" "$2" "$(printf '%s\n' "$4" | grep -Ec -- "$3")"
}

# Listed, once each, next to the real devices.
out=$(probe ring "$tmp/good" list) || fail "list: $out"
count_lines "plugtest0 listed once" 1 '^plugtest0$' "$out"
count_lines "plugext0 (extended entry) listed once" 1 '^plugext0$' "$out"
count_lines "$VETH_A still listed" 1 "^$VETH_A\$" "$out"
count_lines "no message for good plugins" 0 'libpcap' "$out"

# Exactly the packets, with their bytes, cut to the snapshot length,
# filtered by the plugin with libpcap's filter code.
all="60/60,70/70,80/80,90/90,100/100"
end="pcap_loop -1: plugtest0: all 5 packets delivered"
out=$(probe ring "$tmp/good" capture plugtest0 65535) || fail "capture: $out"
assert_eq "plugtest0: 5 packets as sent" "5 packets, 0 unexpected, caplen/len $all; $end" "$out"
out=$(probe ring "$tmp/good" capture plugtest0 75) || fail "capture -s 75: $out"
assert_eq "plugtest0 with snaplen 75" \
	"5 packets, 0 unexpected, caplen/len 60/60,70/70,75/80,75/90,75/100; $end" "$out"
out=$(probe ring "$tmp/good" capture plugtest0 65535 "greater 80") || fail "capture greater 80: $out"
assert_eq "plugtest0 filtered with 'greater 80'" \
	"3 packets, 0 unexpected, caplen/len 80/80,90/90,100/100; $end" "$out"
out=$(probe ring "$tmp/good" capture plugext0 65535) || fail "capture plugext0: $out"
assert_eq "plugext0: 5 packets as sent" \
	"5 packets, 0 unexpected, caplen/len $all; pcap_loop -1: plugext0: all 5 packets delivered" "$out"

# A directory name found first hides the same file later in the path.
out=$(probe ring "$tmp/good:$tmp/bad" list) || fail "list good:bad: $out"
count_lines "plugtest0 once from good:bad" 1 '^plugtest0$' "$out"

# Wrong ABI version, and an extended entry too short for its header:
# skipped, each with one line saying why, once per process however often
# it lists devices; the good plugin beside them and the real devices work.
out=$(probe ring "$tmp/bad" list 2) || fail "list with bad plugins: $out"
count_lines "wrong ABI version: one message" 1 \
	"^libpcap: plugin $tmp/bad/pcap-plugtest-badabi.so skipped: ABI version 0x2; this libpcap loads version 1, alone or with PCAP_PLUGIN_ABI_EXTENDED\$" "$out"
count_lines "short extended entry: one message" 1 \
	"^libpcap: plugin $tmp/bad/pcap-plugtest-short.so skipped: extended entry of [0-9]+ bytes, shorter than the [0-9]+ of its header\$" "$out"
count_lines "plugbad0 not listed" 0 '^plugbad0$' "$out"
count_lines "plugshort0 not listed" 0 '^plugshort0$' "$out"
count_lines "plugtest0 beside them listed, in both lists" 2 '^plugtest0$' "$out"
count_lines "$VETH_A listed beside bad plugins, in both lists" 2 "^$VETH_A\$" "$out"
out=$(probe ring "$tmp/bad" capture plugtest0 65535 2>/dev/null | grep -v '^libpcap: ') ||
	fail "capture beside bad plugins: $out"
assert_eq "plugtest0 beside bad plugins: 5 packets" "5 packets, 0 unexpected, caplen/len $all; $end" "$out"
out=$(probe ring "$tmp/bad" open plugbad0 | grep -v '^libpcap: ')
stock=$(probe stock - open plugbad0)
assert_eq "plugbad0 opens as on stock" "$stock" "$out"
out=$(probe ring "$tmp/bad" open "$VETH_A" | grep -v '^libpcap: ') ||
	fail "open $VETH_A beside bad plugins: $out"
assert_eq "$VETH_A opens beside bad plugins" "opened $VETH_A datalink 1" "$out"

# No plugin directory, or none in the environment: as stock.
stock_list=$(probe stock - list) || fail "stock list: $stock_list"
stock_open=$(probe stock - open plugtest0)
for dir in "$tmp/absent" -; do
	out=$(probe ring "$dir" list) || fail "list with PCAP_PLUGIN_DIR=$dir: $out"
	assert_eq "PCAP_PLUGIN_DIR=$dir: the devices of stock" "$stock_list" "$out"
	out=$(probe ring "$dir" open plugtest0)
	assert_eq "PCAP_PLUGIN_DIR=$dir: plugtest0 fails as on stock" "$stock_open" "$out"
done

# A program that dlopen()s libpcap RTLD_LOCAL (Python's ctypes, as scapy
# does): the plugins, not linked with -lpcap, still find its functions.
if have python3 python3 command -v python3; then
	ctypes() {
		in_a env PCAP_PLUGIN_DIR="$tmp/good" $(lib_env ring) \
			python3 "$TESTSRCDIR/tools/plugin-ctypes.py" "$@" 2>&1
	}
	out=$(ctypes list) || fail "ctypes list: $out"
	count_lines "RTLD_LOCAL libpcap: plugtest0 listed" 1 '^plugtest0$' "$out"
	count_lines "RTLD_LOCAL libpcap: $VETH_A listed" 1 "^$VETH_A\$" "$out"
	count_lines "RTLD_LOCAL libpcap: no message" 0 'libpcap' "$out"
	out=$(ctypes capture plugtest0) || fail "ctypes capture: $out"
	assert_eq "RTLD_LOCAL libpcap: plugtest0's 5 packets" \
		"5 packets, caplen/len $all; pcap_next_ex -1: plugtest0: all 5 packets delivered" "$out"
else
	skip_case "RTLD_LOCAL case: python3 (ctypes) is not installed"
fi

# A plugin whose findalldevs fails costs only its own devices, with one
# line saying why per list: the other plugin's and the real ones remain.
out=$(probe ring "$tmp/failfind" list 2) || fail "list beside a failing findalldevs: $out"
count_lines "failing findalldevs: one message per list" 2 \
	"^libpcap: plugin pcap-plugtest-failfind.so skipped in this device list: findalldevs failed: plugfail0: no such test device\$" "$out"
count_lines "failing findalldevs: plugtest0 in both lists" 2 '^plugtest0$' "$out"
count_lines "failing findalldevs: $VETH_A in both lists" 2 "^$VETH_A\$" "$out"
count_lines "failing findalldevs: plugfail0 not listed" 0 '^plugfail0$' "$out"

# A plugin that sets no activate function: pcap_activate() fails with a
# message naming the device, instead of calling a null pointer.
out=$(probe ring "$tmp/noactivate" open plugnoact0)
assert_eq "no activate function: pcap_activate fails" \
	"pcap_activate plugnoact0: Generic error: plugnoact0: its capture source plugin set no activate function" "$out"

# Only what root or the user could have written is loaded, from absolute
# directories: a relative entry, a plugin writable by others or owned by
# someone else, and a directory writable by others are skipped, each
# with a line saying why; the good plugin beside them loads.
cp "$PLUGINS/pcap-plugtest.so" "$tmp/unsafe/pcap-plugtest.so" &&
	cp "$PLUGINS/pcap-plugtest-ext.so" "$tmp/unsafe/pcap-plugtest-ext.so" &&
	cp "$PLUGINS/pcap-plugtest-badabi.so" "$tmp/unsafe/pcap-plugtest-nobody.so" &&
	chmod 666 "$tmp/unsafe/pcap-plugtest-ext.so" &&
	chown nobody "$tmp/unsafe/pcap-plugtest-nobody.so" &&
	mkdir "$tmp/open" && cp "$PLUGINS/pcap-plugtest-ext.so" "$tmp/open/" &&
	chmod 777 "$tmp/open" || fail "setting up the unsafe plugins"
out=$(cd "$tmp" && probe ring "good:$tmp/unsafe:$tmp/open" list) || fail "list beside unsafe plugins: $out"
count_lines "relative directory: one message" 1 \
	"^libpcap: plugin directory good skipped: not an absolute path\$" "$out"
count_lines "mode 0666 plugin: one message" 1 \
	"^libpcap: plugin $tmp/unsafe/pcap-plugtest-ext.so skipped: writable by its group or others\$" "$out"
count_lines "plugin owned by nobody: one message" 1 \
	"^libpcap: plugin $tmp/unsafe/pcap-plugtest-nobody.so skipped: owned by neither root nor the user running the program\$" "$out"
count_lines "mode 0777 directory: one message" 1 \
	"^libpcap: plugin directory $tmp/open skipped: writable by its group or others\$" "$out"
count_lines "no other message" 4 '^libpcap: ' "$out"
count_lines "plugext0 (relative, unsafe and open dirs only) not listed" 0 '^plugext0$' "$out"
count_lines "plugtest0 beside unsafe plugins listed" 1 '^plugtest0$' "$out"
count_lines "$VETH_A beside unsafe plugins listed" 1 "^$VETH_A\$" "$out"

# In secure execution (setuid, setgid, file capabilities: AT_SECURE) the
# plugin loader ignores PCAP_PLUGIN_DIR, as the dynamic linker ignores
# LD_LIBRARY_PATH: the user who runs a privileged program must not choose
# the code it loads.  The same program with the same environment, run by
# nobody, loads the plugin when it is not setuid and does not when it is.
. "$TESTSRCDIR/lib/common.sh"
require_root
need "setpriv(1)" util-linux command -v setpriv

tmp=$(mktemp -d /tmp/pcap-ring-plugins.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/plugins"
cp "$PLUGINS/pcap-plugtest.so" "$tmp/plugins/" &&
	cp "$TOOLS/plugin-probe-secure" "$tmp/probe" &&
	chmod 755 "$tmp" "$tmp/plugins" "$tmp/probe" &&
	chmod 644 "$tmp/plugins/pcap-plugtest.so" || fail "copying the plugin and the probe"

# LeakSanitizer cannot stop a setuid (non-dumpable) process's threads.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env ASAN_OPTIONS=detect_leaks=0 PCAP_PLUGIN_DIR="$tmp/plugins" \
		"$tmp/probe" list 2>&1
}

out=$(as_nobody) || fail "normal run: $out"
assert_match "normal run: lo listed" '^lo$' "$out"
assert_match "normal run: the plugin from PCAP_PLUGIN_DIR is loaded" '^plugtest0$' "$out"

chmod 4755 "$tmp/probe" || fail "setuid copy"
out=$(as_nobody) || fail "secure run: $out"
assert_match "secure run: lo listed" '^lo$' "$out"
printf '%s\n' "$out" | grep -q '^plugtest0$' &&
	fail "secure run: PCAP_PLUGIN_DIR was used: $out"
echo "ok: secure run: PCAP_PLUGIN_DIR ignored"

# File capabilities make secure execution (AT_SECURE) without changing
# any uid: a check that compares uids alone would use PCAP_PLUGIN_DIR.
if have "setcap(8)" libcap2-bin command -v setcap; then
	chmod 755 "$tmp/probe" && setcap cap_net_raw+ep "$tmp/probe" ||
		fail "giving the probe a file capability"
	out=$(as_nobody) || fail "file capability run: $out"
	assert_match "file capability run: lo listed" '^lo$' "$out"
	printf '%s\n' "$out" | grep -q '^plugtest0$' &&
		fail "file capability run: PCAP_PLUGIN_DIR was used: $out"
	echo "ok: file capability run: PCAP_PLUGIN_DIR ignored"
else
	skip_case "file capability case: setcap (libcap2-bin) is not installed"
fi

#!/bin/sh
# Build pcap-ring against every supported libpcap release and run the tests:
# libpcap 1.10.3 (Debian 12), 1.10.5 (Debian 13), and 1.10.3 again with
# AddressSanitizer and UndefinedBehaviorSanitizer.  Needs root for the
# namespace tests (they skip without it).  The last line sums all runs:
#   N passed, N failed, N skipped
set -u
top=$(cd "$(dirname "$0")" && pwd)
cd "$top" || exit 1

"$top/build-aux/install-deps.sh" || exit 1
mkdir -p build
autoreconf -fi > build/autoreconf.log 2>&1 || {
	cat build/autoreconf.log
	exit 1
}

passed=0 failed=0 skipped=0 broken=
run_target() {
	name=$1
	shift
	dir=build/check-$name
	echo "=== $name: configure $*"
	mkdir -p "$dir"
	if ! (cd "$dir" && "$top/configure" "$@" > configure.log 2>&1); then
		tail -n 20 "$dir/configure.log"
		broken="$broken $name"
		return
	fi
	echo "=== $name: build"
	if ! make -C "$dir" -j"$(nproc)" > "$dir/make.log" 2>&1; then
		tail -n 40 "$dir/make.log"
		broken="$broken $name"
		return
	fi
	if [ -n "${with_deb:-}" ]; then
		echo "=== $name: make deb (Debian's source package with the series)"
		if ! make -C "$dir" deb > "$dir/deb.log" 2>&1; then
			tail -n 40 "$dir/deb.log"
			broken="$broken $name-deb"
		fi
	fi
	echo "=== $name: test"
	make -C "$dir" check 2>&1 | tee "$dir/check.log" | grep -E '^(PASS|FAIL|SKIP|    |failed:)'
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$dir/check.log" | tail -n 1)
	if [ -z "$counts" ]; then
		tail -n 20 "$dir/check.log"
		broken="$broken $name"
		return
	fi
	echo "=== $name: $counts"
	set -- $counts
	passed=$((passed + $1))
	failed=$((failed + $3))
	skipped=$((skipped + $5))
}

# This is a Debian 12 host: its libpcap source package is 1.10.3's.
with_deb=1
run_target 1.10.3 --with-libpcap-version=1.10.3
with_deb=
run_target 1.10.5 --with-libpcap-version=1.10.5
run_target 1.10.3-sanitizers --with-libpcap-version=1.10.3 --enable-sanitizers

if [ -n "$broken" ]; then
	echo "build or test run broken for:$broken"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

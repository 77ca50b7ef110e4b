#!/bin/sh
# Build pcap-ring against every supported libpcap and run the tests:
#   1.10.3             Debian 12's release (apt-get source): `make deb`, whole suite
#   1.10.6             the newest upstream release (../shared/upstream): whole
#                      suite but the package test and the cases below
#   1.10.3-sanitizers  1.10.3 with AddressSanitizer and UndefinedBehaviorSanitizer:
#                      every test of the module's own programs (unit, ns, tx)
#   master             an upstream master snapshot (../shared/upstream): the
#                      smoke and differential subset below
#   1.10.5             Debian 13's release (apt-get source from trixie): the
#                      part of that subset where releases of the 1.10 branch
#                      can differ (1.10.6 runs the rest)
# The subsets keep a CI run on 2 cores under 30 minutes; CHECK_FULL=1 runs
# the whole suite on every target.  While one target's tests run, the next
# targets are built in the background in the idle scheduling class (they
# get only the CPU time the tests leave), so builds cost little wall time.
# Needs root for the namespace tests (they skip without it).
# `./check.sh 1.10.6 master` runs only those targets.  The last line sums
# all runs:
#   N passed, N failed, N skipped
set -u
top=$(cd "$(dirname "$0")" && pwd)
# The targets say which tests they run; none comes from the caller's environment.
unset TESTS

# Test names are run-tests.sh's: test-* programs, DIR/t-* scripts.
smoke_and_diff='unit/* plugin/* test-create-decline test-activate-errors test-options
	test-select-dispatch ns/* tx/t-inject-modes diff/t-tcpdump-filters
	diff/t-tcpdump-modes diff/t-dumpcap-tshark diff/t-capture-stop diff/t-lists'
# Within the 1.10 branch the module's glue differs by error codes, the
# pcapint_ names and what programs see of them; option handling, filters
# and lists are the same as 1.10.6's.
within_branch='unit/* plugin/* test-create-decline test-activate-errors ns/*
	tx/t-inject-modes diff/t-tcpdump-modes diff/t-dumpcap-tshark diff/t-capture-stop'
module_programs='unit/* test-* ns/* tx/*'
# Everything but the package test, which needs the .deb only 1.10.3 builds;
# the real programs' build, which tests headers 1.10.3 shares; the VLAN
# cases, whose stock counterpart (pcap-linux.c's VLAN code) is 1.10.3's;
# and the TX ring's own behaviour (blocking, exit, threads, MTU), which is
# the plugin's, the same file on every target: 1.10.3 and the sanitizer
# build run it.  What reaches libpcap (its inject_op, error texts, real
# programs, secure execution) stays.
all_but_deb='unit/* plugin/* test-* ns/* tx/t-inject-modes tx/t-errors
	tx/t-programs tx/t-secure-env tx/t-close-exit diff/t-capture-stop
	diff/t-devices diff/t-dumpcap-tshark diff/t-lists diff/t-loopback-tun
	diff/t-tcpdump-*'
cd "$top" || exit 1

# The upstream exports (git archive of a tag and of master) that CI and
# developers have beside the checkout.
upstream=${PCAP_RING_UPSTREAM:-$top/../shared/upstream}
upstream_tarball() {
	set -- "$upstream"/$1
	[ -f "$1" ] || {
		echo "check: no $1; set PCAP_RING_UPSTREAM to the directory of libpcap's upstream exports" >&2
		return 1
	}
	echo "$1"
}

# One pcap-ring.so serves every libpcap with the loader: the first target
# builds it, and the others (but the sanitizer build, whose plugin is
# instrumented) load that same file.
shared_plugin() {
	case $first in *-sanitizers) return ;; esac
	[ "$1" = "$first" ] || echo "--with-pcap-ring-plugin=$top/build/check-$first/plugins/pcap-ring.so"
}

# for_target TARGET ACTION: ACTION NAME TESTS configure-args... for TARGET
# (TESTS empty for the whole suite); with_deb says whether it makes the
# Debian package.
for_target() {
	with_deb=
	case "$1" in
	1.10.3)
		# This is a Debian 12 host: its libpcap source package is 1.10.3's.
		with_deb=1
		$2 "$1" '' --with-libpcap-version=1.10.3 $(shared_plugin "$1") ;;
	1.10.3-sanitizers)
		$2 "$1" "$module_programs" --with-libpcap-version=1.10.3 --enable-sanitizers ;;
	1.10.5)
		$2 "$1" "$within_branch" --with-libpcap-version=1.10.5 $(shared_plugin "$1") ;;
	1.10.6)
		tarball=$(upstream_tarball 'libpcap-1.10.6.tar.*') || return 1
		$2 "$1" "$all_but_deb" --with-libpcap="$tarball" $(shared_plugin "$1") ;;
	master)
		tarball=$(upstream_tarball 'libpcap-master-*.tar.*') || return 1
		# Master's pcap.h differs most from 1.10.3's, which the whole suite checks.
		$2 "$1" "$smoke_and_diff headers/t-plugins-off" --with-libpcap="$tarball" \
			$(shared_plugin "$1") ;;
	*)
		echo "check: unknown target $1" >&2
		return 1 ;;
	esac
}

# build_target NAME TESTS configure-args...: configure and build in
# build/check-NAME, quietly; build.status then says "ok" or which step
# failed, for run_target.
build_target() {
	dir=build/check-$1
	shift 2
	mkdir -p "$dir"
	if ! (cd "$dir" && "$top/configure" "$@" > configure.log 2>&1); then
		echo configure > "$dir/build.status"
	elif ! make -C "$dir" -j"$(nproc)" all check-programs > "$dir/make.log" 2>&1; then
		echo build > "$dir/build.status"
	else
		echo ok > "$dir/build.status"
	fi
}

# Background mode (see prebuild below): build the targets named, nothing
# else, with the plugin of the target the foreground built.
if [ "${CHECK_BUILD_ONLY:-0}" = 1 ]; then
	first=$CHECK_FIRST
	for target; do
		# A target it cannot build is reported by the foreground.
		for_target "$target" build_target 2>/dev/null
	done
	exit 0
fi

# Installs what is missing (as root) and names any command still missing,
# before anything is built.
"$top/build-aux/install-deps.sh" || exit 1

mkdir -p build
autoreconf -fi > build/autoreconf.log 2>&1 || {
	cat build/autoreconf.log
	exit 1
}

passed=0 failed=0 skipped=0 broken=
# run_target NAME TESTS configure-args...: report the build (made now, or
# waited for from the background), make the package, run the tests.
run_target() {
	name=$1 tests=$2
	shift 2
	[ "${CHECK_FULL:-0}" = 1 ] && tests=
	dir=build/check-$name
	start=$(date +%s)
	echo "=== $name: configure $*"
	until [ -f "$dir/build.status" ]; do
		kill -0 "$prebuild" 2>/dev/null || {
			echo "check: the background build stopped before $name: $(tail -n 5 build/prebuild.log)"
			broken="$broken $name"
			return
		}
		sleep 2
	done
	case $(cat "$dir/build.status") in
	configure)
		tail -n 20 "$dir/configure.log"
		broken="$broken $name"
		return ;;
	build)
		echo "=== $name: build"
		tail -n 40 "$dir/make.log"
		broken="$broken $name"
		return ;;
	esac
	echo "=== $name: build"
	if [ -n "${with_deb:-}" ]; then
		echo "=== $name: make deb (Debian's libpcap with the series, and the plugin's package)"
		if ! make -C "$dir" deb > "$dir/deb.log" 2>&1; then
			tail -n 40 "$dir/deb.log"
			broken="$broken $name-deb"
		fi
	fi
	echo "=== $name: test${tests:+ (subset: $(echo $tests))}"
	TESTS=$tests make -C "$dir" check 2>&1 | tee "$dir/check.log" | grep -E '^(PASS|FAIL|SKIP|    |failed:)'
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$dir/check.log" | tail -n 1)
	if [ -z "$counts" ]; then
		tail -n 20 "$dir/check.log"
		broken="$broken $name"
		return
	fi
	echo "=== $name: $counts ($(( $(date +%s) - start )) s)"
	set -- $counts
	passed=$((passed + $1))
	failed=$((failed + $3))
	skipped=$((skipped + $5))
}

targets=${*:-1.10.3 1.10.6 1.10.3-sanitizers 1.10.5 master}
for target in $targets; do
	rm -f "build/check-$target/build.status"
done
# prebuild: the first target is built in the foreground; the others, one
# after the other, by a background copy of this script in the idle
# scheduling class, started once the first is built.
prebuild=
set -- $targets
first=$1
shift
for_target "$first" build_target || broken="$broken $first"
if [ $# -gt 0 ]; then
	CHECK_BUILD_ONLY=1 CHECK_FIRST=$first chrt --idle 0 "$top/check.sh" "$@" > build/prebuild.log 2>&1 &
	prebuild=$!
fi
for target in $targets; do
	case " $broken " in *" $target "*) continue ;; esac
	for_target "$target" run_target || broken="$broken $target"
done
[ -z "$prebuild" ] || wait "$prebuild"

# The targets that ran their tests with the first target's plugin: the
# same file, byte for byte (a sanitizer build first shares none).
case $first in *-sanitizers) targets_sharing= ;; *) targets_sharing=$targets ;; esac
for target in $targets_sharing; do
	plugin=build/check-$target/plugins/pcap-ring.so
	case $target in *-sanitizers) continue ;; esac
	[ -f "$plugin" ] || continue
	if cmp -s "$plugin" "build/check-$first/plugins/pcap-ring.so"; then
		echo "=== $target: tested with the pcap-ring.so of $first ($(sha256sum < "$plugin" | cut -c1-16))"
	else
		echo "=== $target: FAIL: its pcap-ring.so is not the one $first built"
		broken="$broken $target-plugin"
	fi
done

if [ -n "$broken" ]; then
	echo "build or test run broken for:$broken"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

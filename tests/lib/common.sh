# Shared by the test scripts: assertions, library selection and the
# namespace test bed.  Source it with
#   . "$TESTSRCDIR/lib/common.sh"

set -u

fail() {
	echo "FAIL: $*"
	exit 1
}

skip() {
	echo "skipped: $*"
	exit 77
}

# A case the test cannot run here: its reason goes to the runner, which
# counts and lists it (tests/run-tests.sh), and the test goes on.
skip_case() {
	echo "skipped: $*"
	[ -z "${TEST_SKIPS:-}" ] || echo "$*" >> "$TEST_SKIPS"
}

# since T: seconds from T (date +%s.%N) to now, to a tenth.
since() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# Under CI (CI set to anything but 0 or false, as CI services set it)
# build-aux/install-deps.sh has installed every tool the tests use.
in_ci() {
	case "${CI:-}" in
	'' | 0 | false) return 1 ;;
	*) return 0 ;;
	esac
}

# have WHAT PACKAGE COMMAND...: whether WHAT, which install-deps.sh
# installs from PACKAGE, is here (COMMAND succeeds).  Its absence is
# a failure under CI, where the test would otherwise skip.
have() {
	_what=$1 _package=$2
	shift 2
	"$@" > /dev/null 2>&1 && return 0
	in_ci && fail "$_what is missing, though build-aux/install-deps.sh installs it (package $_package) and this is CI"
	return 1
}

# need WHAT PACKAGE COMMAND...: skip the test without WHAT.
need() {
	have "$@" || skip "needs $1 (package $2)"
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
	echo "ok: $1 = $3"
}

# assert_match WHAT REGEX TEXT
assert_match() {
	printf '%s\n' "$3" | grep -Eq -- "$2" || fail "$1: '$3' does not match /$2/"
	echo "ok: $1"
}

# The environment that makes a program load the ring or the stock library,
# as words for env(1):  env $(lib_env ring) tcpdump ...
# Unchanged programs under the sanitizer build need its runtime loaded
# first; tool_env is for our own test programs, linked with it already.
lib_dir() {
	case "$1" in
	ring) echo "$RING_DROPIN" ;;
	stock) echo "$STOCK_DROPIN" ;;
	*) fail "unknown library $1" ;;
	esac
}

lib_env() {
	if [ "${SANITIZERS:-0}" = 1 ]; then
		echo "LD_LIBRARY_PATH=$(lib_dir "$1")" \
		    "LD_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so):$(${CC:-cc} -print-file-name=libubsan.so)" \
		    "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1" \
		    "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
	else
		echo "LD_LIBRARY_PATH=$(lib_dir "$1")"
	fi
}

tool_env() {
	echo "LD_LIBRARY_PATH=$(lib_dir "$1")"
}

# Which module captured for an unchanged program: run it with
# PCAP_RING_TRACE=FILE (trace_env FILE) and the ring library writes a
# line per device it is asked about (README); the stock library writes
# nothing.
trace_env() {
	echo "PCAP_RING_TRACE=$1"
}

# assert_claimed WHAT FILE DEVICE: pcap-ring took DEVICE, and left
# nothing to stock pcap-linux.
assert_claimed() {
	[ -s "$2" ] || fail "$1: pcap-ring was never asked for a device (no trace in $2)"
	grep -q "^pcap-ring\[[0-9]*\]: claimed $3\$" "$2" ||
		fail "$1: pcap-ring did not take $3: $(cat "$2")"
	! grep -q "^pcap-ring\[[0-9]*\]: \(declined\|refused\) " "$2" ||
		fail "$1: pcap-ring did not take every device: $(cat "$2")"
	echo "ok: $1: pcap-ring took $3"
}

# assert_declined WHAT FILE DEVICE REASON: pcap-ring left DEVICE to stock
# pcap-linux, as it should, for REASON.
assert_declined() {
	grep -qF "]: declined $3: $4" "$2" 2>/dev/null ||
		fail "$1: pcap-ring did not leave $3 to stock pcap-linux for \"$4\": $(cat "$2" 2>&1)"
	! grep -q "^pcap-ring\[[0-9]*\]: claimed " "$2" ||
		fail "$1: pcap-ring took a device: $(cat "$2")"
	echo "ok: $1: pcap-ring leaves $3 to stock pcap-linux ($4)"
}

# assert_ring_library WHAT PROGRAM: PROGRAM, run with lib_env ring, loads
# the ring build's libpcap (the dynamic linker lists what it would load).
assert_ring_library() {
	assert_match "$1 loads the ring library" "libpcap\.so[.0-9]* => $(lib_dir ring)/" \
		"$(env $(lib_env ring) LD_TRACE_LOADED_OBJECTS=1 "$2" 2>&1)"
}

# assert_untraced WHAT FILE: the module was not consulted (the stock
# library, or PCAP_RING_DISABLE).
assert_untraced() {
	[ ! -e "$2" ] || fail "$1: pcap-ring was consulted: $(cat "$2")"
	echo "ok: $1: pcap-ring was not consulted"
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_NET_ADMIN) to create network namespaces"
	need "ip(8)" iproute2 command -v ip
}

# header_functions HEADER: the functions HEADER declares with PCAP_API,
# sorted, one a line (each declaration's name is on its PCAP_API line,
# as in pcap/pcap-plugin.h).
header_functions() {
	sed -n 's/^PCAP_API[^(]*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$1" |
		LC_ALL=C sort -u
}

#!/bin/sh
# Install what building, testing, packaging and benchmarking pcap-ring
# needs on Debian 12 or 13, then check that every command the project's
# scripts call is there.  Installs nothing when all is present; needs root
# otherwise.
#
#   install-deps.sh          install what is missing, then check
#   install-deps.sh --check  only check; name each missing command
#
# Every command a script under build-aux/, tests/, bench/, check.sh or
# demo.sh calls is listed below with the package that provides it, so that
# a script can never depend on something a developer's machine happened to
# have: a fresh machine only has what this file installs.
set -eu

# command		package
requirements='
autoreconf		autoconf
automake		automake
libtoolize		libtool
make			make
cc			gcc
c++			g++
pkg-config		pkgconf
flex			flex
bison			bison
patch			patch
xz			xz-utils
gzip			gzip
tar			tar
apt-get			apt
dpkg-source		dpkg-dev
dpkg-buildpackage	dpkg-dev
dpkg-checkbuilddeps	dpkg-dev
dpkg-architecture	dpkg-dev
dpkg-deb		dpkg
dh			debhelper
quilt			quilt
cmake			cmake
nm			binutils
strings			binutils
ip			iproute2
tc			iproute2
ss			iproute2
ethtool			ethtool
timeout			coreutils
sha256sum		coreutils
cmp			diffutils
setpriv			util-linux
chrt			util-linux
taskset			util-linux
unshare			util-linux
mount			mount
setcap			libcap2-bin
sysctl			procps
ps			procps
tcpdump			tcpdump
tshark			tshark
dumpcap			wireshark-common
capinfos		wireshark-common
valgrind		valgrind
python3			python3
trafgen			netsniff-ng
bittwist		bittwist
arp-scan		arp-scan
gnuplot			gnuplot-nox
groff			groff-base
'

# Packages that provide no command of their own: the C library's headers
# (build-essential, which dpkg-buildpackage also insists on), the netlink
# headers libpcap's build needs, and scapy, which tests/tx/t-programs.sh
# runs under Debian's /usr/bin/python3.
libraries='build-essential libnl-genl-3-dev libnl-3-dev python3-scapy'

# tcpdump lives in /usr/sbin, which a non-root PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

missing_commands() {
	echo "$requirements" | while read -r cmd pkg; do
		[ -n "$cmd" ] || continue
		command -v "$cmd" >/dev/null 2>&1 || echo "$cmd $pkg"
	done
	/usr/bin/python3 -c 'import scapy' 2>/dev/null || echo "/usr/bin/python3-scapy python3-scapy"
}

check() {
	missing=$(missing_commands)
	[ -z "$missing" ] && return 0
	echo "$missing" | while read -r cmd pkg; do
		echo "install-deps: missing command '$cmd' (Debian package $pkg)" >&2
	done
	echo "install-deps: run build-aux/install-deps.sh as root to install them" >&2
	return 1
}

if [ "${1:-}" = --check ]; then
	check
	exit
fi

packages=$libraries
for p in $(echo "$requirements" | awk 'NF == 2 { print $2 }' | sort -u); do
	packages="$packages $p"
done

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages:$missing" >&2
		echo "install-deps: run as root, or: sudo apt-get install$missing" >&2
		exit 1
	fi
	echo "install-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing > /dev/null
fi
check

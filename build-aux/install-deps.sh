#!/bin/sh
# Install what building and testing pcap-ring needs on Debian 12 or 13.
# Does nothing when everything is already there; needs root otherwise.
set -eu

packages="build-essential autoconf automake libtool pkg-config flex bison
	patch xz-utils dpkg-dev debhelper devscripts
	libnl-genl-3-dev libnl-3-dev
	iproute2 ethtool tcpdump tshark valgrind
	python3 python3-scapy netsniff-ng bittwist arp-scan gnuplot-nox"

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

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

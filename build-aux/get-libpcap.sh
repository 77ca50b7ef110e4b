#!/bin/sh
# Unpack a pristine upstream libpcap release into DESTDIR.
#
# usage: get-libpcap.sh VERSION SOURCE DESTDIR
#   SOURCE is a directory holding an unpacked release, a release tarball,
#   a "git archive" export (as in ../shared/upstream/), or "debian" to take
#   the upstream tarball from Debian's source package (apt-get source),
#   which carries the release as published upstream.  A tree without a
#   generated configure (a git export) gets one from its own autogen.sh.
set -eu

version=$1
source=$2
dest=$3

# Debian revisions whose .orig tarball is the upstream release we target.
debian_version() {
	case "$1" in
	1.10.3) echo 1.10.3-1 ;;
	1.10.5) echo 1.10.5-2 ;;
	*) echo "get-libpcap: no known Debian source package for libpcap $1;" \
		"use --with-libpcap=DIR|TARBALL" >&2; return 1 ;;
	esac
}

unpack_tarball() {
	tmp=$(mktemp -d "${dest}.tmp.XXXXXX")
	case "$1" in
	*.tar.xz) xz -dc "$1" | tar -xf - -C "$tmp" ;;
	*.tar.gz|*.tgz) gzip -dc "$1" | tar -xf - -C "$tmp" ;;
	*) tar -xf "$1" -C "$tmp" ;;
	esac
	set -- "$tmp"/*
	if [ $# -ne 1 ] || [ ! -f "$1/pcap-int.h" ]; then
		echo "get-libpcap: $source does not unpack to a libpcap source tree" >&2
		rm -rf "$tmp"
		return 1
	fi
	mv "$1" "$dest"
	rmdir "$tmp"
}

# Debian keeps deb-src entries disabled by default; without one,
# apt-get source cannot find the package.
have_deb_src() {
	apt-cache showsrc libpcap 2>/dev/null | grep -q "^Version: $1\$"
}

add_deb_src() {
	list=/etc/apt/sources.list.d/pcap-ring-deb-src.sources
	echo "get-libpcap: adding deb-src entries for bookworm and trixie in $list" >&2
	cat > "$list" <<EOF
# Added by pcap-ring to fetch libpcap's upstream release with apt-get source.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt-get update >&2
}

from_debian() {
	debver=$(debian_version "$version")
	if ! have_deb_src "$debver"; then
		if [ "$(id -u)" -ne 0 ]; then
			cat >&2 <<EOF
get-libpcap: apt cannot find the source package libpcap=$debver.
Add a deb-src entry for bookworm and trixie, for example as root:
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > /etc/apt/sources.list.d/pcap-ring-deb-src.sources
  apt-get update
or configure with --with-libpcap=DIR|TARBALL.
EOF
			return 1
		fi
		add_deb_src
		have_deb_src "$debver" || {
			echo "get-libpcap: libpcap=$debver is still not available from apt" >&2
			return 1
		}
	fi
	dl=$(mktemp -d "${dest}.dl.XXXXXX")
	(cd "$dl" && apt-get source --download-only "libpcap=$debver" >&2)
	set -- "$dl"/libpcap_"$version".orig.tar.*
	unpack_tarball "$1"
	rm -rf "$dl"
}

rm -rf "$dest"
case "$source" in
debian) from_debian ;;
*)
	if [ -d "$source" ]; then
		[ -f "$source/pcap-int.h" ] || {
			echo "get-libpcap: $source is not a libpcap source tree" >&2
			exit 1
		}
		cp -R "$source" "$dest"
	elif [ -f "$source" ]; then
		unpack_tarball "$source"
	else
		echo "get-libpcap: $source: no such file or directory" >&2
		exit 1
	fi
	;;
esac

got=$(cat "$dest/VERSION")
if [ "$got" != "$version" ]; then
	echo "get-libpcap: $source holds libpcap $got, expected $version" >&2
	exit 1
fi

if [ ! -f "$dest/configure" ]; then
	[ -x "$dest/autogen.sh" ] || {
		echo "get-libpcap: $source has neither configure nor autogen.sh" >&2
		exit 1
	}
	(cd "$dest" && ./autogen.sh) > "$dest.autogen.log" 2>&1 || {
		cat "$dest.autogen.log" >&2
		echo "get-libpcap: autogen.sh failed in $dest" >&2
		exit 1
	}
	rm -f "$dest.autogen.log"
fi

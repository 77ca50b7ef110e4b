#!/bin/sh
# Build, the way a distribution packager would, the two pieces of
# pcap-ring as Debian packages:
#  - libpcap0.8 with the plugin loader: Debian's own libpcap source
#    package, the series appended to its quilt series, every new public
#    symbol added to its version script and symbols file, configured with
#    --enable-plugins, a changelog entry, dpkg-buildpackage;
#  - libpcap-plugin-ring, pcap-ring.so alone: a source package "pcap-ring"
#    (pcap-ring/ and build-aux/plugin-debian/) built against the headers
#    of the libpcap0.8-dev just built, unpacked, never installed.
#
# usage: build-deb.sh TOPSRCDIR WORKDIR VERSION PLUGIN_VERSION
#   VERSION is the upstream libpcap release (1.10.3 on Debian 12); apt
#   tells which Debian revision of it to fetch.  PLUGIN_VERSION is
#   pcap-ring's (configure.ac).  The .debs land in WORKDIR.
#   DEB_SUFFIX (default +pcapring1) is appended to Debian's version.
set -eu

top=$1 work=$2 version=$3 plugin_version=$4
suffix=${DEB_SUFFIX:-+pcapring1}
maint="${DEBFULLNAME:-pcap-ring developers} <${DEBEMAIL:-pcap-ring@localhost}>"

die() {
	echo "build-deb: $*" >&2
	exit 1
}

for tool in apt-get apt-cache dpkg-source dpkg-buildpackage dpkg-deb quilt pkg-config; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "needs $tool: run build-aux/install-deps.sh"
done

debian_revision() {
	apt-cache showsrc libpcap 2>/dev/null |
		sed -n "s/^Version: \($version-[^ ]*\)\$/\1/p" | sort -V | tail -n 1
}

debver=$(debian_revision)
if [ -z "$debver" ]; then
	# get-libpcap.sh knows how to add the deb-src entries apt needs (or
	# to tell a non-root user how); its unpacked release is not needed.
	sh "$top/build-aux/get-libpcap.sh" "$version" debian "$work.get" >&2 ||
		die "no Debian source package for libpcap $version"
	rm -rf "$work.get"
	debver=$(debian_revision)
	[ -n "$debver" ] || die "apt has no source package for libpcap $version"
fi
newver=$debver$suffix

rm -rf "$work"
mkdir -p "$work"
cd "$work"
echo "build-deb: fetching libpcap=$debver with apt-get source"
apt-get source "libpcap=$debver" > apt-source.log 2>&1 || {
	cat apt-source.log >&2
	die "apt-get source libpcap=$debver failed"
}
tree=$work/libpcap-$version
[ -f "$tree/debian/patches/series" ] || die "$tree is not a quilt source package"
cd "$tree"

# The functions and data libpcap declares for export: every PCAP_API
# declaration in its public headers, once per declaration (a name declared
# in a new #ifdef branch, such as the _WIN32-only pcap_sendqueue_*()
# declared for Linux too, counts again).  The name is the last identifier
# before "(" (or ";" for data); PCAP_DEPRECATED(...) lines between
# PCAP_API and the declaration are skipped.
public_api() {
	awk '
	/^[ \t]*PCAP_API([ \t]|$)/ { decl = ""; on = 1 }
	on && !/^PCAP_DEPRECATED/ { decl = decl " " $0 }
	on && (index(decl, "(") || index(decl, ";")) {
		sub(/[(;].*/, "", decl)
		sub(/\[[^]]*\][ \t]*$/, "", decl)
		n = split(decl, w, /[^A-Za-z0-9_]+/)
		while (n > 0 && w[n] == "")
			n--
		print w[n]
		on = 0
	}' pcap/*.h | LC_ALL=C sort
}

# The names Debian's symbols file lists.
debian_symbols() {
	sed -n 's/^ \(([^)]*)\)\{0,1\}\([A-Za-z0-9_]*\)@Base .*/\2/p' \
		debian/libpcap0.8.symbols | LC_ALL=C sort -u
}

# apt-get source has applied Debian's patches (dpkg-source -x).
public_api > "$work/api-debian"
debian_symbols > "$work/symbols-debian"

export QUILT_PATCHES=debian/patches QUILT_PC=.pc
quilt_push() {
	quilt --quiltrc=/dev/null push -a -q --fuzz=0 > "$work/quilt.log" 2>&1 || {
		cat "$work/quilt.log" >&2
		die "a patch does not apply to Debian's libpcap $debver"
	}
}

pdir=debian/patches/pcap-ring
mkdir -p "$pdir"
grep -v -e '^#' -e '^$' "$top/patches/series" | while read -r patch; do
	cp "$top/patches/$patch" "$pdir/$patch"
	echo "pcap-ring/$patch" >> debian/patches/series
done
quilt_push

public_api > "$work/api-ring"
# New: declared more often than before the series, and not already
# exported by Debian.
LC_ALL=C comm -13 "$work/api-debian" "$work/api-ring" | LC_ALL=C sort -u |
	LC_ALL=C comm -23 - "$work/symbols-debian" > "$work/new-symbols"
LC_ALL=C sort -u "$work/api-ring" > "$work/api-ring-names"
LC_ALL=C sort -u "$work/api-debian" |
	LC_ALL=C comm -23 - "$work/api-ring-names" > "$work/gone-symbols"
[ ! -s "$work/gone-symbols" ] ||
	die "the series removes public symbols: $(tr '\n' ' ' < "$work/gone-symbols")"

# Debian links libpcap with a version script (libpcap-symbols.lds, from its
# shared-lib.diff) that makes everything not listed local, and its build
# fails when the exported set differs from debian/libpcap0.8.symbols.
if [ -s "$work/new-symbols" ]; then
	echo "build-deb: new public symbols: $(tr '\n' ' ' < "$work/new-symbols")"
	rm -rf "$work/lds"
	mkdir -p "$work/lds/a" "$work/lds/b"
	cp libpcap-symbols.lds "$work/lds/a/"
	awk -v list="$work/new-symbols" -v tag="pcap-ring ($newver)" '
	/^  local:/ {
		print "    /* introduced by " tag " */"
		while ((getline s < list) > 0)
			print "    " s ";"
	}
	{ print }' libpcap-symbols.lds > "$work/lds/b/libpcap-symbols.lds"
	grep -q "introduced by pcap-ring" "$work/lds/b/libpcap-symbols.lds" ||
		die "no '  local:' line in libpcap-symbols.lds"
	{
		cat <<EOF
Description: export pcap-ring's public symbols
 Generated by build-aux/build-deb.sh from the declarations the pcap-ring
 series adds to pcap/*.h.
Forwarded: not-needed
---
EOF
		(cd "$work/lds" && diff -u a/libpcap-symbols.lds b/libpcap-symbols.lds ||
			[ $? -eq 1 ])
	} > "$pdir/9999-export-pcap-ring-symbols.patch"
	echo "pcap-ring/9999-export-pcap-ring-symbols.patch" >> debian/patches/series
	quilt_push
	# The injection API is declared and built where plugins load on
	# Linux (patch 0003); the plugin interface (pcap_plugin_*, patch
	# 0001) is built on every architecture.
	sed -e "/^pcap_plugin_/!s/.*/ (arch=linux-any)&@Base $newver/" \
	    -e "/^pcap_plugin_/s/.*/ &@Base $newver/" "$work/new-symbols" \
		>> debian/libpcap0.8.symbols
else
	echo "build-deb: the series adds no public symbols"
fi

# The library loads plugins: --enable-plugins, which the series leaves
# off by default, with the default directory, ${libdir}/pcap/plugins
# (/usr/lib/<multiarch>/pcap/plugins), where the plugin package puts
# pcap-ring.so.  Debian's rules configure with dh_auto_configure's
# defaults; an override appended to them is the least a packager changes.
grep -q '^override_dh_auto_configure' debian/rules &&
	die "debian/rules already overrides dh_auto_configure"
printf '\noverride_dh_auto_configure:\n\tdh_auto_configure -- --enable-plugins\n' \
	>> debian/rules

# A plugin cannot depend on libpcap0.8 by version alone: a later stock
# upload (1.10.4-1) would satisfy ">= 1.10.3-1+pcapring1" without the
# loader.  The library says which plugin ABI it loads with a virtual
# package, as the X server does for its drivers (xorg-video-abi-N):
# version 1 (libpcap PR #1659) and our extension of it.
abi_provides="libpcap-plugin-abi-1, libpcap-plugin-abi-1-extended"
awk -v provides="$abi_provides" '
	/^Package: / { ours = ($2 == "libpcap0.8") }
	{ print }
	ours && /^Multi-Arch: / { print "Provides: " provides; done = 1 }
	END { exit !done }' debian/control > debian/control.new ||
	die "no Multi-Arch line in libpcap0.8's stanza of debian/control"
mv debian/control.new debian/control

# Hand-written rather than dch, so that devscripts is not needed.
{
	echo "libpcap ($newver) UNRELEASED; urgency=medium"
	echo
	echo "  * Add pcap-ring's series: a loader for capture source plugins"
	echo "    (pcap-*.so in /usr/lib/<multiarch>/pcap/plugins) and the batched"
	echo "    injection and send queue API that plugins implement; patches in"
	echo "    debian/patches/pcap-ring/, after Debian's own."
	echo "  * Configure with --enable-plugins; libpcap0.8 provides"
	echo "    $abi_provides."
	if [ -s "$work/new-symbols" ]; then
		echo "  * New symbols: $(tr '\n' ' ' < "$work/new-symbols" | sed 's/ $//')." |
			fold -s -w 72 | sed '2,$s/^/    /'
	fi
	echo
	echo " -- $maint  $(date -R)"
	echo
	cat debian/changelog
} > debian/changelog.new
mv debian/changelog.new debian/changelog

if ! dpkg-checkbuilddeps > "$work/builddeps.log" 2>&1; then
	[ "$(id -u)" -eq 0 ] || {
		cat "$work/builddeps.log" >&2
		die "Build-Depends missing; as root: apt-get build-dep libpcap=$debver"
	}
	echo "build-deb: installing Build-Depends (apt-get build-dep)"
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y "$tree" \
		> "$work/builddeps.log" 2>&1 || {
		tail -n 20 "$work/builddeps.log" >&2
		die "apt-get build-dep failed"
	}
fi

echo "build-deb: dpkg-buildpackage -b -uc -us in $tree (log: $work/build.log)"
DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -b -uc -us > "$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	die "dpkg-buildpackage failed (see $work/build.log)"
}

# The library must export exactly Debian's symbols plus the new ones
# (dpkg-gensymbols checks the symbols file; this checks the headers agree).
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$work/libpcap0.8_$(echo "$newver" | sed 's/^[0-9]*://')_$arch.deb
[ -f "$deb" ] || die "dpkg-buildpackage did not produce $deb"
rm -rf "$work/root"
dpkg-deb -x "$deb" "$work/root"
lib=$(find "$work/root" -name 'libpcap.so.0.8' | head -n 1)
[ -n "$lib" ] || die "$deb holds no libpcap.so.0.8"
exported() {
	nm -D --defined-only "$1" | awk '$2 ~ /^[TDBR]$/ { print $3 }' |
		sed 's/@.*//' | LC_ALL=C sort -u
}
exported "$lib" > "$work/exported-ring"
debian_symbols > "$work/symbols-file"
if ! cmp -s "$work/exported-ring" "$work/symbols-file"; then
	diff "$work/symbols-file" "$work/exported-ring" >&2 || true
	die "the library's exported symbols differ from debian/libpcap0.8.symbols"
fi
grep -q '^#define PCAP_SUPPORT_PLUGINS 1' "$tree/config.h" ||
	die "libpcap was configured without --enable-plugins"

# The -dev package beside the library: the headers and libpcap.pc the
# plugin is built against, as if both were installed.
stage=$work/root
dev=$work/libpcap0.8-dev_$(echo "$newver" | sed 's/^[0-9]*://')_$arch.deb
[ -f "$dev" ] || die "dpkg-buildpackage did not produce $dev"
dpkg-deb -x "$dev" "$stage"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
pc_libdir=$stage/usr/lib/$multiarch/pkgconfig
plugindir=$(PKG_CONFIG_LIBDIR=$pc_libdir pkg-config --variable=plugindir libpcap)
[ "$plugindir" = "/usr/lib/$multiarch/pcap/plugins" ] ||
	die "libpcap.pc's plugindir is '$plugindir', not /usr/lib/$multiarch/pcap/plugins"
strings "$lib" | grep -qFx "$plugindir" ||
	die "$lib does not load plugins from $plugindir"

# The plugin's source package: the module's sources and
# build-aux/plugin-debian/ as its debian/.
plugin_debver=$plugin_version-1
ptree=$work/pcap-ring-$plugin_version
rm -rf "$ptree"
mkdir -p "$ptree/pcap-ring"
cp "$top"/pcap-ring/*.c "$top"/pcap-ring/*.h "$top"/pcap-ring/pcap-ring.7 \
	"$ptree/pcap-ring/"
cp -R "$top/build-aux/plugin-debian" "$ptree/debian"
sed -e "s/@LIBPCAP_VERSION@/$newver/g" -e "s/@MAINTAINER@/$maint/" \
	"$ptree/debian/control.in" > "$ptree/debian/control"
rm "$ptree/debian/control.in"
{
	echo "pcap-ring ($plugin_debver) UNRELEASED; urgency=medium"
	echo
	echo "  * pcap-ring $plugin_version as libpcap's capture source plugin,"
	echo "    built against libpcap0.8-dev $newver."
	echo
	echo " -- $maint  $(date -R)"
} > "$ptree/debian/changelog"

# Its Build-Depends name libpcap0.8-dev (>= $newver), which is built but
# not installed here: -d skips the check, and PKG_CONFIG_LIBDIR and
# PCAP_CPPFLAGS (debian/rules) point at the unpacked one instead.
echo "build-deb: dpkg-buildpackage -b -d -uc -us in $ptree (log: $work/plugin-build.log)"
(cd "$ptree" && PKG_CONFIG_LIBDIR=$pc_libdir PCAP_CPPFLAGS="-I$stage/usr/include" \
	dpkg-buildpackage -b -d -uc -us) > "$work/plugin-build.log" 2>&1 || {
	tail -n 40 "$work/plugin-build.log" >&2
	die "dpkg-buildpackage of the plugin failed (see $work/plugin-build.log)"
}
plugin_deb=$work/libpcap-plugin-ring_${plugin_debver}_$arch.deb
[ -f "$plugin_deb" ] || die "dpkg-buildpackage did not produce $plugin_deb"

# Only the unpacked headers: no libpcap header may come from the
# machine's /usr/include (which may hold a stock libpcap0.8-dev).
for src in "$ptree"/pcap-ring/*.c; do
	${CC:-cc} -std=gnu99 -M -I"$stage/usr/include" "$src"
done | tr ' \\' '\n\n' | grep '/pcap[/.]' | grep -v "^$stage/usr/include/" |
	grep -v "^$ptree/" > "$work/foreign-headers" || true
[ ! -s "$work/foreign-headers" ] ||
	die "the plugin was compiled against headers outside the package: $(cat "$work/foreign-headers")"

# Exactly pcap-ring.so in plugindir, its man page and the two files
# Policy wants in /usr/share/doc; the entry the loader looks up exported.
dpkg-deb -c "$plugin_deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's,^\./,/,' |
	LC_ALL=C sort > "$work/plugin-files"
printf '%s\n' "$plugindir/pcap-ring.so" \
	/usr/share/doc/libpcap-plugin-ring/changelog.Debian.gz \
	/usr/share/doc/libpcap-plugin-ring/copyright \
	/usr/share/man/man7/pcap-ring.7.gz | LC_ALL=C sort > "$work/plugin-files-expected"
cmp -s "$work/plugin-files" "$work/plugin-files-expected" || {
	diff "$work/plugin-files-expected" "$work/plugin-files" >&2
	die "$plugin_deb holds other files than pcap-ring.so, its man page and its doc"
}
rm -rf "$work/plugin-root"
dpkg-deb -x "$plugin_deb" "$work/plugin-root"
nm -D --defined-only "$work/plugin-root$plugindir/pcap-ring.so" | grep -q ' pcap_plugin_entry$' ||
	die "pcap-ring.so does not export pcap_plugin_entry"
rm -rf "$work/root" "$work/plugin-root" "$work/lds"

echo "build-deb: built in $work:"
ls "$work"/*.deb | sed 's/^/  /'

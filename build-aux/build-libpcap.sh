#!/bin/sh
# Build one libpcap variant from a pristine tree and stage its install.
#
# usage: build-libpcap.sh ring|stock TOPSRCDIR PRISTINE TREE STAGE DROPIN [configure args...]
#   ring   applies patches/series (the plugin loader and the injection API);
#   stock  builds the release unchanged, for differential tests and benchmarks.
# The tree is configured with the given arguments, built, installed with
# DESTDIR=STAGE, and DROPIN gets the soname links that let unchanged programs
# load it through LD_LIBRARY_PATH (Debian's libpcap.so.0.8, upstream's libpcap.so.1).
set -eu

variant=$1 top=$2 pristine=$3 tree=$4 stage=$5 dropin=$6
shift 6

rm -rf "$tree" "$stage" "$dropin"
cp -R "$pristine" "$tree"

if [ "$variant" = ring ]; then
	# -F0: a patch that needs fuzz is a patch that no longer fits.
	while read -r patch; do
		case "$patch" in ''|'#'*) continue ;; esac
		patch -d "$tree" -p1 -F0 -N -s --no-backup-if-mismatch \
			< "$top/patches/$patch"
	done < "$top/patches/series"
	# The series changes configure.ac and config.h.in's inputs; libpcap
	# keeps a hand-written aclocal.m4, so autoconf/autoheader, not autoreconf.
	(cd "$tree" && autoconf -f && autoheader -f && rm -rf autom4te.cache) 2> "$tree/autoconf.log" || {
		cat "$tree/autoconf.log" >&2
		exit 1
	}
fi

cd "$tree"
./configure "$@" > configure.log 2>&1 || {
	tail -n 30 configure.log >&2
	echo "build-libpcap: configure failed in $tree (see configure.log)" >&2
	exit 1
}
make -j"$(nproc)" > build.log 2>&1 || {
	tail -n 40 build.log >&2
	echo "build-libpcap: make failed in $tree (see build.log)" >&2
	exit 1
}
make install DESTDIR="$stage" > install.log 2>&1 || {
	tail -n 20 install.log >&2
	exit 1
}

real=$(find "$stage" -name 'libpcap.so.*.*.*' -type f | head -n 1)
[ -n "$real" ] || { echo "build-libpcap: no shared library staged in $stage" >&2; exit 1; }
mkdir -p "$dropin"
ln -s "$real" "$dropin/libpcap.so.0.8"
ln -s "$real" "$dropin/libpcap.so.1"

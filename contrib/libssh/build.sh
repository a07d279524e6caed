#!/bin/sh
# contrib/libssh/build.sh: builds Debian's libssh source with our patch series
# as a static library installed into PREFIX (see contrib/libssh/README).
#
# usage: build.sh SRCDIR PREFIX
#   SRCDIR  unpacked Debian libssh source (apt-get source libssh); never modified
#   PREFIX  install prefix; PREFIX/.stamp records what was built there
set -eu

die() {
	echo "contrib/libssh/build.sh: error: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: build.sh SRCDIR PREFIX"

here=$(cd "$(dirname "$0")" && pwd)
[ -d "$1" ] || die "source directory '$1' does not exist"
srcdir=$(cd "$1" && pwd)
if [ ! -f "$srcdir/CMakeLists.txt" ] || [ ! -f "$srcdir/include/libssh/libssh.h" ]; then
	die "'$srcdir' does not look like a libssh source tree"
fi
[ -f "$here/series" ] || die "missing $here/series"
case $2 in
/*) prefix=$2 ;;
*) prefix=$(pwd)/$2 ;;
esac
prefix=${prefix%/}

for tool in cmake patch make sha256sum pkg-config flock; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done

# One build per prefix at a time: the work and stage dirs are shared.
mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock -w 600 9 || die "timed out waiting for another build of $prefix"

# The stamp covers everything that changes the result: the source version,
# the series, every patch in it and this script's build options.
version=$(head -n 1 "$srcdir/debian/changelog" 2>/dev/null ||
	grep -m 1 'project(libssh' "$srcdir/CMakeLists.txt")
patches=$(grep -v -e '^#' -e '^[[:space:]]*$' "$here/series") ||
	die "series is empty"
for p in $patches; do
	[ -f "$here/$p" ] || die "patch '$p' listed in series is missing"
done
stamp=$(
	{
		printf 'version %s\n' "$version"
		cat "$here/series" "$here/build.sh"
		for p in $patches; do
			cat "$here/$p"
		done
	} | sha256sum | cut -d ' ' -f 1
)
if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$stamp" ] &&
	[ -f "$prefix/lib/libssh.a" ]; then
	echo "libssh: $prefix is up to date"
	exit 0
fi

work=$prefix.build
stage=$prefix.stage
rm -rf "$work" "$stage" "$prefix.old"
mkdir -p "$work"
echo "libssh: copying $srcdir to $work/src"
cp -a "$srcdir" "$work/src"
for p in $patches; do
	echo "libssh: applying $p"
	patch -p1 -N -s -d "$work/src" <"$here/$p" ||
		die "patch $p does not apply to $srcdir"
done

# MAX_BUF_SIZE (priv.h, #ifndef) is how much libssh reads from the socket per
# poll wake-up: 4 KiB by default, one poll and one recv per 4 KiB of upload.
# 64 KiB (all its uses are heap buffers) cut the child's upload CPU by ~15%.
echo "libssh: configuring"
cmake -S "$work/src" -B "$work/build" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_C_FLAGS=-DMAX_BUF_SIZE=65536 \
	-DCMAKE_INSTALL_PREFIX="$prefix" \
	-DCMAKE_INSTALL_LIBDIR=lib \
	-DCMAKE_POSITION_INDEPENDENT_CODE=ON \
	-DBUILD_SHARED_LIBS=OFF \
	-DWITH_EXAMPLES=OFF \
	-DWITH_GSSAPI=OFF \
	-DWITH_PCAP=OFF \
	-DWITH_NACL=OFF \
	-DWITH_SERVER=ON \
	-DWITH_ZLIB=ON \
	-DWITH_GCRYPT=OFF \
	-DWITH_MBEDTLS=OFF \
	-DWITH_SYMBOL_VERSIONING=OFF \
	-DUNIT_TESTING=OFF \
	>"$work/cmake.log" 2>&1 ||
	die "cmake configure failed, see $work/cmake.log"

echo "libssh: building (log: $work/build.log)"
make -C "$work/build" -j2 >"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; die "build failed, see $work/build.log"; }
make -C "$work/build" install DESTDIR="$stage" >>"$work/build.log" 2>&1 ||
	die "install failed, see $work/build.log"

# cmake's libssh.pc lists only -lssh; a static link also needs the
# libraries libssh.a uses (libcrypto, zlib, pthread).
pc=$stage$prefix/lib/pkgconfig/libssh.pc
[ -f "$pc" ] || die "cmake did not install $pc"
[ -f "$stage$prefix/lib/libssh.a" ] || die "cmake did not install libssh.a"
# shellcheck disable=SC2016 # ${includedir} is pkg-config's, not ours
sed -i -e 's|^Cflags:.*|Cflags: -I${includedir} -DLIBSSH_STATIC|' "$pc"
printf 'Requires.private: libcrypto zlib\nLibs.private: -pthread\n' >>"$pc"
printf '%s\n' "$stamp" >"$stage$prefix/.stamp"

# Swap the new tree in whole, so a reader never sees a half-installed prefix.
if [ -e "$prefix" ]; then
	mv "$prefix" "$prefix.old"
fi
mv "$stage$prefix" "$prefix"
rm -rf "$stage" "$prefix.old" "$work"

PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --exists libssh ||
	die "pkg-config cannot read $pc"
echo "libssh: installed into $prefix"

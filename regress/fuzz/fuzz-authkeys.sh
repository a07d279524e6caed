#!/bin/sh
# Replays the authorized_keys matcher's seed corpus through its fuzz target
# (regress/fuzz/standalone.c drives it; make check sets top_builddir/top_srcdir).
set -eu
exec "$top_builddir/regress/fuzz/fuzz-authkeys" "$top_srcdir/regress/fuzz/corpus/authkeys"

#!/bin/sh
# Replays the PROXY header parser's seed corpus through its fuzz target
# (regress/fuzz/standalone.c drives it; make check sets top_builddir/top_srcdir).
set -eu
exec "$top_builddir/regress/fuzz/fuzz-proxyhdr" "$top_srcdir/regress/fuzz/corpus/proxyhdr"

#!/bin/sh
# Replays the monitor protocol decoder's seed corpus through its fuzz target
# (regress/fuzz/standalone.c drives it; make check sets top_builddir/top_srcdir).
set -eu
exec "$top_builddir/regress/fuzz/fuzz-monitor-msg" "$top_srcdir/regress/fuzz/corpus/monitor-msg"

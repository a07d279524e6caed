#!/bin/sh
# Replays the config fuzz target over its seed corpus (run by make check with
# top_builddir and top_srcdir in the environment).
exec "${top_builddir:-.}/regress/fuzz/fuzz-config" "${top_srcdir:-.}/regress/fuzz/corpus/config"

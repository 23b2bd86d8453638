#!/bin/sh
# CUDA compiler launcher: runs the nvcc command line given after the log path and keeps a
# copy of its stderr (ptxas -v resource usage) in the log, still printing it.
log="$1"; shift
tmp="$log.$$"
"$@" 2>"$tmp"; rc=$?
cat "$tmp" >&2
mv -f "$tmp" "$log"
exit $rc

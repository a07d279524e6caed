#!/bin/sh
# tid="monitor: SIGN policy kills, login grace, exit codes and privilege drop through the real monitor_run()"
# Each case runs regress/monitor-driver, which asserts the exact exit code of
# monitor_run(), what the fake child reported on fd 3 and what the listener got.
set -u
driver="${top_builddir:-.}/regress/monitor-driver"
dir=$(mktemp -d /tmp/monitor-sign.XXXXXX) || exit 99
trap 'rm -rf "$dir"' EXIT
# The unprivileged child must be stopped by the key file's mode, not the directory's.
chmod 755 "$dir"
ssh-keygen -q -t ed25519 -N '' -f "$dir/ed25519" &&
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$dir/ecdsa" &&
ssh-keygen -q -t rsa -b 2048 -N '' -f "$dir/rsa" &&
cut -d' ' -f1,2 "$dir/ed25519.pub" > "$dir/alice.keys" &&
chmod 600 "$dir/ed25519" "$dir/ecdsa" "$dir/rsa" || exit 99

failed=0
for c in sign short wrongalg sshrsa budget malformed unexpected empty badidx grace auth \
    auth-twice keyallowed config exit42 signalled execfail sigterm fds privdrop; do
	"$driver" run "$c" "$dir"
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		echo "FAIL: case $c (driver exit $rc)"
		failed=$((failed + 1))
	fi
done
echo "monitor-sign: $failed failed"
[ $failed -eq 0 ]

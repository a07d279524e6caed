#	regress/ws-stderr.sh: exec stdout and stderr reach the client separately
#	(channel data and extended data), small and large, with the exit status.

tid="ws-stderr: stdout and stderr stay separate"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

ws_setup

ssh_try alice 'echo out; echo err >&2'
expect_rc "echo out/err" 0
expect_file "echo out/err: stdout" "$SCRATCH/ssh.out" "out"
expect_file "echo out/err: stderr" "$SCRATCH/ssh.err" "err"

ssh_try alice 'echo only-err >&2; exit 3'
expect_rc "stderr only" 3
expect_file "stderr only: stdout" "$SCRATCH/ssh.out" ""
expect_file "stderr only: stderr" "$SCRATCH/ssh.err" "only-err"

# Larger than a channel window on both streams at once, interleaved.
seq 1 100000 >"$SCRATCH/seq.out"
seq 100000 -1 1 >"$SCRATCH/seq.err"
ssh_try alice 'seq 1 100000 & seq 100000 -1 1 >&2; wait'
expect_rc "seq both streams" 0
cmp -s "$SCRATCH/ssh.out" "$SCRATCH/seq.out" ||
	fail "seq: stdout differs ($(wc -c <"$SCRATCH/ssh.out") bytes, expected $(wc -c <"$SCRATCH/seq.out"))"
cmp -s "$SCRATCH/ssh.err" "$SCRATCH/seq.err" ||
	fail "seq: stderr differs ($(wc -c <"$SCRATCH/ssh.err") bytes, expected $(wc -c <"$SCRATCH/seq.err"))"

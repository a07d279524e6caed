#	regress/ws-stdin.sh: stdin piped into an exec (1 MiB into sha256sum and cat);
#	the client's EOF ends the command's input while its output still arrives.

tid="ws-stdin: 1 MiB on stdin, EOF ends the input, output after EOF arrives"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

ws_setup

head -c 1048576 /dev/urandom >"$SCRATCH/in.bin" || fatal "cannot make the input"
want=$(sha256_of "$SCRATCH/in.bin")

ws_run "$SCRATCH/in.bin" alice sha256sum
expect_rc "sha256sum" 0
expect_file "sha256sum of stdin" "$SCRATCH/ssh.out" "$want  -"

ws_run "$SCRATCH/in.bin" alice 'wc -c'
expect_rc "wc -c" 0
expect_file "wc -c of stdin" "$SCRATCH/ssh.out" "1048576"

ws_run "$SCRATCH/in.bin" alice cat
expect_rc "cat" 0
cmp -s "$SCRATCH/ssh.out" "$SCRATCH/in.bin" ||
	fail "cat: output differs from the input ($(wc -c <"$SCRATCH/ssh.out") bytes)"

# Output written after the input ended still reaches the client, and the
# status is the command's.
ws_run "$SCRATCH/in.bin" alice 'cat >/dev/null; sleep 1; echo after-eof; exit 5'
expect_rc "output after EOF" 5
expect_file "output after EOF" "$SCRATCH/ssh.out" "after-eof"

# Empty stdin: EOF at once; cat ends without output.
ws_run /dev/null alice 'cat; echo end'
expect_rc "empty stdin" 0
expect_file "empty stdin" "$SCRATCH/ssh.out" "end"

# A command that ignores stdin ends on its own (no wait for our EOF).
start=$(now_ms)
mkfifo "$SCRATCH/never" || fatal "mkfifo"
sleep 30 >"$SCRATCH/never" &
holder=$!
track_pid $holder
ws_run "$SCRATCH/never" alice 'echo no-read'
expect_rc "stdin never closed" 0
expect_file "stdin never closed" "$SCRATCH/ssh.out" "no-read"
took=$(($(now_ms) - start))
[ "$took" -lt 10000 ] || fail "a command that does not read stdin took $took ms to end"
kill $holder 2>/dev/null

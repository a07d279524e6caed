#	regress/ws-pty.sh: terminals: `ssh -tt` exec gets a /dev/pts device; an
#	interactive shell in a tmux pane sees the pane's size, TERM, and resizes.

tid="ws-pty: ssh -tt tty, shell and exec with a pty: stty size follows window changes"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

require_cmd tmux
ws_setup

ssh_try alice -tt tty
expect_rc "ssh -tt tty" 0
got=$(tr -d '\r' <"$SCRATCH/ssh.out")
case $got in
/dev/pts/[0-9]*) ;;
*) fail "ssh -tt tty printed '$got', expected /dev/pts/N" ;;
esac

# Without a terminal requested, the command has none.
ssh_try alice tty
expect_rc "tty without a pty" 1
expect_file "tty without a pty" "$SCRATCH/ssh.out" "not a tty"

TMUX_SOCK=$SCRATCH/tmux.sock
tmx() {
	timeout 10 tmux -S "$TMUX_SOCK" -f /dev/null "$@"
}
# pane_has SESSION ERE: the pane's text (history included) matches ERE.
pane_has() {
	tmx capture-pane -p -J -S -200 -t "$1" 2>/dev/null | grep -Eq "$2"
}
# pane_size SESSION: "ROWS COLS" as stty size prints them.
pane_size() {
	tmx display-message -p -t "$1" '#{pane_height} #{pane_width}'
}
pane_dump() {
	tmx capture-pane -p -J -S -200 -t "$1" 2>/dev/null | grep -v '^$' | tail -n 8 | tr '\n' '|'
}
ws_ssh_script "$SCRATCH/ssh-tty.sh"
tmx new-session -d -s sh -x 100 -y 30 "$SCRATCH/ssh-tty.sh; sleep 60" ||
	fatal "tmux new-session failed"
track_pid "$(tmx display-message -p -t sh '#{pid}')"
term=$(tmx show-options -gv default-terminal)

# The shell: wait for it to answer, then its size, tty and TERM.
tmx send-keys -t sh 'echo READY-$((40 + 2))' Enter
wait_for 15 pane_has sh '^READY-42' || fatal "the shell did not answer within 15 s: $(pane_dump sh)"
size=$(pane_size sh)
tmx send-keys -t sh 'echo M1-$(stty size)-$(tty)-$TERM-M1' Enter
wait_for 10 pane_has sh "^M1-$size-/dev/pts/[0-9]+-$term-M1" ||
	fail "shell: expected 'M1-$size-/dev/pts/N-$term-M1': $(pane_dump sh)"

tmx resize-window -t sh -x 132 -y 43 || fatal "tmux resize-window failed"
size2=$(pane_size sh)
[ "$size2" != "$size" ] || fatal "the pane did not change size ($size)"
sleep 1
tmx send-keys -t sh 'echo M2-$(stty size)-M2' Enter
wait_for 10 pane_has sh "^M2-$size2-M2" ||
	fail "shell after the window change: expected 'M2-$size2-M2': $(pane_dump sh)"
tmx send-keys -t sh 'exit' Enter

# An exec with a pty (ssh -t): initial size, then a window change while it runs.
tmx new-session -d -s ex -x 90 -y 20 \
    "$SCRATCH/ssh-tty.sh -t 'echo E1-\$(stty size)-E1; read x; echo E2-\$(stty size)-E2; sleep 1'; sleep 60" ||
	fatal "tmux new-session (exec) failed"
track_pid "$(tmx display-message -p -t ex '#{pid}')"
size=$(pane_size ex)
wait_for 15 pane_has ex "^E1-$size-E1" ||
	fail "exec with a pty: expected 'E1-$size-E1': $(pane_dump ex)"
tmx resize-window -t ex -x 120 -y 33 || fatal "tmux resize-window failed"
size2=$(pane_size ex)
sleep 1
tmx send-keys -t ex Enter
wait_for 10 pane_has ex "^E2-$size2-E2" ||
	fail "exec with a pty after the window change: expected 'E2-$size2-E2': $(pane_dump ex)"

tmx kill-server

#	regress/ws-lib.sh: helpers for the workspace-channel scenarios (regress/ws-*.sh),
#	sourced after test-exec.sh: the workspace daemon, a proxy pointing at it, checks.
#
# The proxy's embedded default (no provisioner.address) sends every user to the
# k8shelld endpoint in provisioner.static.address: here ./workspaced on
# loopback, which runs the commands on this machine as the user running it.

WORKSPACED=$top_builddir/workspaced
SFTP_SERVER=${SFTP_SERVER:-/usr/lib/openssh/sftp-server}
WS_LOG=$SCRATCH/workspaced.log
WS_PID=
WS_PORT=
WS_SOCK=

[ -x "$WORKSPACED" ] || fatal "$WORKSPACED not built (run make first)"

# start_workspaced [PORT]: ./workspaced on $LOOPBACK:PORT (default: a port it
# picks) in the background; waits for its "workspaced listening on" line and
# sets WS_PID and WS_PORT.
start_workspaced() {
	_sw_before=$(grep -c "^workspaced listening on " "$WS_LOG" 2>/dev/null || true)
	# shellcheck disable=SC2086
	"$WORKSPACED" --listen "$LOOPBACK:${1:-0}" --logtext ${WS_ARGS:-} >>"$WS_LOG" 2>&1 &
	WS_PID=$!
	track_pid "$WS_PID"
	wait_for 10 ws_listening "${_sw_before:-0}" ||
		fatal "workspaced (pid $WS_PID) did not print 'workspaced listening on' within 10 s"
	WS_PORT=$(sed -n 's/^workspaced listening on .*:\([0-9][0-9]*\)$/\1/p' "$WS_LOG" | tail -n 1)
	[ -n "$WS_PORT" ] || fatal "no port in workspaced's listening line"
	verbose "workspaced pid $WS_PID listening on $LOOPBACK:$WS_PORT"
}

# start_workspaced_unix MODE: workspaced on the Unix socket $SCRATCH/ws.sock
# (WS_SOCK) with --socket-mode MODE; ws_config then points the proxy there.
start_workspaced_unix() {
	WS_SOCK=$SCRATCH/ws.sock
	_su_before=$(grep -c "^workspaced listening on " "$WS_LOG" 2>/dev/null || true)
	# shellcheck disable=SC2086
	"$WORKSPACED" --listen "unix:$WS_SOCK" --socket-mode "$1" --logtext ${WS_ARGS:-} \
	    >>"$WS_LOG" 2>&1 &
	WS_PID=$!
	track_pid "$WS_PID"
	wait_for 10 ws_listening "${_su_before:-0}" ||
		fatal "workspaced (pid $WS_PID) did not listen on unix:$WS_SOCK within 10 s"
	tail -n 1 "$WS_LOG" | grep -q "^workspaced listening on unix:$WS_SOCK\$" ||
		fail "workspaced's listening line: $(tail -n 1 "$WS_LOG")"
	verbose "workspaced pid $WS_PID listening on unix:$WS_SOCK"
}

ws_listening() {
	pid_alive "$WS_PID" || fatal "workspaced exited before listening: $(tail -n 5 "$WS_LOG")"
	_wl_n=$(grep -c "^workspaced listening on " "$WS_LOG" 2>/dev/null || true)
	[ "${_wl_n:-0}" -gt "$1" ]
}

stop_workspaced() {
	[ -n "$WS_PID" ] || return 0
	kill_tree "$WS_PID"
	WS_PID=
}

# ws_config: the proxy config gets server.sftpBinary, WS_SERVER_EXTRA (more
# lines under server:), provisioner.static.address = $LOOPBACK:$WS_PORT and
# WS_STATIC_EXTRA (more lines under provisioner.static:, e.g. its TLS keys).
# write_config prints SERVER_EXTRA last in the server: block and starts the
# next top-level key on the following line, so a top-level block fits there.
ws_config() {
	SERVER_EXTRA="  sftpBinary: $SFTP_SERVER"
	[ -n "${WS_SERVER_EXTRA:-}" ] && SERVER_EXTRA="$SERVER_EXTRA
$WS_SERVER_EXTRA"
	SERVER_EXTRA="$SERVER_EXTRA
provisioner:
  static:
    address: ${WS_SOCK:+unix:}${WS_SOCK:-$LOOPBACK:$WS_PORT}"
	[ -n "${WS_STATIC_EXTRA:-}" ] && SERVER_EXTRA="$SERVER_EXTRA
$WS_STATIC_EXTRA"
	return 0
}

# ws_setup: an Ed25519 host key, user alice, workspaced and a proxy using it.
# WS_PEER=sshd (by hand only) runs the scenario against Debian's sshd instead,
# logging in as root with alice's key: a check of the scenario itself, whose
# expectations follow OpenSSH where the spec is silent. Proxy-only checks
# (spec paths, USER, the child's RSS) then fail; that is expected.
ws_setup() {
	make_hostkey ed25519
	make_user alice
	if [ "${WS_PEER:-proxy}" = sshd ]; then
		ws_start_sshd
		return
	fi
	start_workspaced
	ws_config
	# shellcheck disable=SC2086
	start_proxy ${WS_PROXY_ARGS:-}
}

# The user the client logs in as (root for WS_PEER=sshd).
WS_LOGIN=alice

ws_start_sshd() {
	[ -x /usr/sbin/sshd ] || skip "/usr/sbin/sshd is not installed"
	[ -n "$PROXY_PORT" ] || PROXY_PORT=$(free_port)
	cat >"$SCRATCH/sshd_config" <<EOC
Port $PROXY_PORT
ListenAddress $LOOPBACK
HostKey $SCRATCH/host_ed25519
AuthorizedKeysFile $SCRATCH/alice.keys
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile none
AcceptEnv FOO WS_ONE WS_TWO USER
AllowTcpForwarding local
AllowStreamLocalForwarding local
X11Forwarding no
Subsystem sftp $SFTP_SERVER
EOC
	/usr/sbin/sshd -D -e -f "$SCRATCH/sshd_config" >>"$SCRATCH/sshd.log" 2>&1 &
	PROXY_PID=$!
	WS_PID=$PROXY_PID
	track_pid "$PROXY_PID"
	wait_for 10 port_listening "$PROXY_PORT" || fatal "sshd did not listen: $(tail -n 3 "$SCRATCH/sshd.log")"
	write_known_hosts
	# ssh_cmd logs in with -l alice: a wrapper maps that to root.
	{
		echo "#!/bin/sh"
		echo 'for a; do shift; [ "$a" = alice ] && a=root; set -- "$@" "$a"; done'
		echo "exec $SSH \"\$@\""
	} >"$SCRATCH/ssh-as-root"
	chmod 755 "$SCRATCH/ssh-as-root"
	SSH=$SCRATCH/ssh-as-root
	WS_LOGIN=root
	verbose "WS_PEER=sshd: sshd pid $PROXY_PID on $LOOPBACK:$PROXY_PORT, logging in as root"
}

# expect_rc WHAT WANT: the last ssh_try/ws_run exit status must be WANT.
expect_rc() {
	[ "$SSH_RC" = "$2" ] ||
		fail "$1: ssh exit $SSH_RC, expected $2; stderr: $(head -c 500 "$SCRATCH/ssh.err")"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# expect_file WHAT FILE CONTENT: FILE holds exactly CONTENT (a trailing
# newline is implied, as with $(cat FILE)); shows both on mismatch.
expect_file() {
	_ef_got=$(cat "$2" 2>/dev/null)
	[ "$_ef_got" = "$3" ] ||
		fail "$1: $(basename "$2") is '$(printf '%s' "$_ef_got" | head -c 300 | tr '\n\r' '|^')', expected '$(printf '%s' "$3" | tr '\n' '|')'"
}

# ws_run STDIN [ssh_cmd args]: ssh_cmd with stdin from the file STDIN; sets
# SSH_RC, output in $SCRATCH/ssh.out and $SCRATCH/ssh.err.
ws_run() {
	_wr_in=$1
	shift
	ssh_cmd "$@" <"$_wr_in" >"$SCRATCH/ssh.out" 2>"$SCRATCH/ssh.err"
	SSH_RC=$?
	trace "ssh $* <$_wr_in -> $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
}

sha256_of() {
	sha256sum "$1" | awk '{ print $1 }'
}

# ws_roundtrip BYTES WHAT: BYTES of random data up through alice's exec channel
# (the workspace's sha256sum must match) and back down (sha256 here).
ws_roundtrip() {
	head -c "$1" /dev/urandom >"$SCRATCH/src.bin" || fatal "cannot make the $2 file"
	_rt_want=$(sha256_of "$SCRATCH/src.bin")
	ws_run "$SCRATCH/src.bin" alice "sha256sum | cut -d' ' -f1"
	expect_rc "$2: upload" 0
	expect_file "$2: upload's sha256 seen by the workspace" "$SCRATCH/ssh.out" "$_rt_want"
	ssh_try alice "cat '$SCRATCH/src.bin'"
	expect_rc "$2: download" 0
	expect_eq "$2: download's sha256" "$(sha256_of "$SCRATCH/ssh.out")" "$_rt_want"
	rm -f "$SCRATCH/src.bin" "$SCRATCH/ssh.out"
}

# pids_with_cmdline STRING: processes (not us) whose command line contains STRING.
pids_with_cmdline() {
	for _pc_d in /proc/[0-9]*; do
		_pc_p=${_pc_d#/proc/}
		[ "$_pc_p" = "$$" ] && continue
		case $(tr '\0' ' ' 2>/dev/null <"$_pc_d/cmdline") in
		*"$1"*) echo "$_pc_p" ;;
		esac
	done
}

# ws_no_processes: nothing runs under workspaced (its sessions all ended).
ws_no_processes() {
	[ -z "$(proc_descendants "$WS_PID")" ]
}

# ws_list_processes: what runs under workspaced, one command line per line.
ws_list_processes() {
	for _lp_p in $(proc_descendants "$WS_PID"); do
		echo "$_lp_p: $(proc_cmdline "$_lp_p")"
	done
}

no_pids_with_cmdline() {
	[ -z "$(pids_with_cmdline "$1")" ]
}

# rand_tag: a short random decimal string, to tell our processes and files
# from those of scenarios running in parallel.
rand_tag() {
	od -An -N4 -tu4 /dev/urandom | tr -d ' '
}

# The proxy's child for the only connection (fails unless there is exactly one);
# with WS_PEER=sshd, sshd's process for it.
the_child() {
	if [ "${WS_PEER:-proxy}" = sshd ]; then
		set -- $(for _tc_p in $(proc_descendants "$PROXY_PID"); do
			[ "$(proc_ppid "$_tc_p")" = "$PROXY_PID" ] && echo "$_tc_p"; done)
	else
		set -- $(children_of "$PROXY_PID")
	fi
	[ $# = 1 ] || { fail "expected one --child process, found $#"; return 1; }
	echo "$1"
}

# mux_run NAME STDIN COMMAND: COMMAND on a new channel of session NAME (see
# session_open) with stdin from the file STDIN; sets SSH_RC, output in
# $SCRATCH/ssh.out and $SCRATCH/ssh.err.
mux_run() {
	timeout "$SSH_TIMEOUT" "$SSH" -F /dev/null -o ControlMaster=no \
	    -o ControlPath="$SCRATCH/ctl.$1" -o BatchMode=yes -o LogLevel=ERROR \
	    "$HOSTKEY_ALIAS" "$3" <"$2" >"$SCRATCH/ssh.out" 2>"$SCRATCH/ssh.err"
	SSH_RC=$?
	trace "session $1: $3 <$2 -> $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
}

# kib_of "N kB": N.
kib_of() {
	echo "${1%% *}"
}

# cpu_ticks PID: the process's user + system CPU time so far, in clock ticks.
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# expect_rss_below HWM WHAT: fails unless the peak RSS HWM ("N kB", VmHWM)
# is under RSS_LIMIT_KIB (default 64 MiB); WHAT says when it was read. Not
# checked with AddressSanitizer.
expect_rss_below() {
	if built_with_asan; then
		verbose "AddressSanitizer build: the ${RSS_LIMIT_KIB:-65536} KiB peak RSS bound is not checked"
	elif [ "$(kib_of "$1")" -ge "${RSS_LIMIT_KIB:-65536}" ]; then
		fail "child peak RSS (VmHWM) $1 $2, limit ${RSS_LIMIT_KIB:-65536} kB"
	fi
}

# built_with_asan: the proxy carries AddressSanitizer (its quarantine and
# shadow memory make peak-RSS bounds meaningless).
built_with_asan() {
	grep -aq __asan_init "$PROXY"
}

# The client options of ssh_cmd, for sftp, scp and scripts (no port option:
# ssh takes -p, sftp and scp -P). IdentityAgent=none also turns agent
# forwarding off: WS_AGENT=SOCKET names the agent instead.
ws_client_opts() {
	echo "-F /dev/null -o UserKnownHostsFile=$KNOWN_HOSTS -o GlobalKnownHostsFile=/dev/null" \
	    "-o StrictHostKeyChecking=yes -o HostKeyAlias=$HOSTKEY_ALIAS -o CheckHostIP=no" \
	    "-o UpdateHostKeys=no -o IdentitiesOnly=yes -o IdentityFile=$SCRATCH/user_alice" \
	    "-o IdentityAgent=${WS_AGENT:-none} -o PasswordAuthentication=no" \
	    "-o KbdInteractiveAuthentication=no -o BatchMode=yes -o ConnectTimeout=10" \
	    "-o LogLevel=ERROR"
}

# sftp_batch BATCHFILE: sftp -b as alice; sets SSH_RC, output in ssh.{out,err}.
sftp_batch() {
	# shellcheck disable=SC2046
	timeout "$SSH_TIMEOUT" sftp $(ws_client_opts) -P "$PROXY_PORT" -b "$1" "$WS_LOGIN@$LOOPBACK" \
	    </dev/null >"$SCRATCH/ssh.out" 2>"$SCRATCH/ssh.err"
	SSH_RC=$?
	trace "sftp -b $1 -> $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
}

# scp_run [SCP-ARGS...] FROM TO: scp (remote paths as $WS_LOGIN@$LOOPBACK:PATH).
scp_run() {
	# shellcheck disable=SC2046
	timeout "$SSH_TIMEOUT" scp $(ws_client_opts) -P "$PROXY_PORT" -q "$@" \
	    </dev/null >"$SCRATCH/ssh.out" 2>"$SCRATCH/ssh.err"
	SSH_RC=$?
	trace "scp $* -> $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
}

# ws_ssh_script FILE: a script running ssh as $WS_LOGIN with ssh_cmd's options and
# its own arguments (for programs that take a command line: tmux, ProxyCommand).
ws_ssh_script() {
	{
		echo "#!/bin/sh"
		echo "exec $SSH $(ws_client_opts) -p $PROXY_PORT -l $WS_LOGIN $LOOPBACK \"\$@\""
	} >"$1"
	chmod 755 "$1"
}

# ws_need_sigclient: sets WS_SIGCLIENT to regress/ws-sigclient (built here when
# a scenario runs by hand after a plain make).
ws_need_sigclient() {
	WS_SIGCLIENT=$top_builddir/regress/ws-sigclient
	if [ ! -x "$WS_SIGCLIENT" ] && [ -f "$top_builddir/Makefile" ]; then
		make -s -C "$top_builddir" regress/ws-sigclient >"$SCRATCH/make-sigclient.out" 2>&1 ||
			fatal "cannot build regress/ws-sigclient: $(tail -n 5 "$SCRATCH/make-sigclient.out")"
	fi
	[ -x "$WS_SIGCLIENT" ] || fatal "regress/ws-sigclient is not built"
}

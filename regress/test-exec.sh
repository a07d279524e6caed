#	regress/test-exec.sh: the scenario harness, sourced by every regress/*.sh after
#	its tid= line: scratch dir, keys, config, proxy start/stop, real OpenSSH client.
#
# A scenario is `sh regress/NAME.sh` (make check, or by hand from the top of the
# tree). It exits 0 (pass), 1 (fail) or 77 (skip: a precondition is missing).
# Environment: top_builddir/top_srcdir (exported by make check; default: the
# tree this file is in), TEST_SSH_TRACE=yes (trace lines), KEEP_SCRATCH=yes
# (leave the scratch directory for inspection).

: "${tid:=unnamed test}"
RESULT=0
REGRESS_SKIPPED=
REGRESS_PIDS=

if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
fi
: "${top_builddir:=$top_srcdir}"
PROXY=$top_builddir/ssh-proxy
SSH=${SSH:-ssh}
SSHKEYGEN=${SSHKEYGEN:-ssh-keygen}
# What ssh_cmd connects to; known_hosts lines use this alias, so the same
# lines work for a TCP port, a ProxyCommand and socket activation.
HOSTKEY_ALIAS=ssh-proxy-regress
LOOPBACK=127.0.0.1
# Seconds for any single client command; every wait in a scenario is bounded.
SSH_TIMEOUT=${SSH_TIMEOUT:-30}

verbose() {
	echo "$*"
}

trace() {
	if [ "${TEST_SSH_TRACE:-no}" = yes ]; then
		echo "trace: $*"
	fi
}

# Records a failure; the scenario continues and exits 1 at the end.
fail() {
	RESULT=1
	echo "FAIL: $tid: $*"
}

# A failure after which the rest of the scenario cannot run.
fatal() {
	fail "$@"
	exit 1
}

# Only for a missing precondition (not root, missing tool), never for a bug.
skip() {
	REGRESS_SKIPPED=yes
	echo "SKIP: $tid: $*"
	exit 77
}

# For what only a root proxy does: dropping to the privsep user.
require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (privilege separation drops to an unprivileged user)"
	require_privsep_exec
}

# As root, the monitor re-execs the binary as the privsep user: a build under
# a directory that user cannot search (e.g. /root) cannot work. Not root: the
# children keep our uid (the proxy warns), nothing to check.
require_privsep_exec() {
	[ "$(id -u)" = 0 ] || return 0
	_rr_u=${PRIVSEP_USER:-nobody}
	if command -v setpriv >/dev/null 2>&1 && id "$_rr_u" >/dev/null 2>&1 &&
	    ! setpriv --reuid="$(id -u "$_rr_u")" --regid="$(id -g "$_rr_u")" \
	    --clear-groups test -x "$PROXY"; then
		skip "user $_rr_u cannot execute $PROXY (a parent directory is not searchable)"
	fi
}

require_cmd() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"
	done
}

now_ms() {
	date +%s%3N
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_for() {
	_wf_n=$(($1 * 10))
	shift
	while [ "$_wf_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_wf_n=$((_wf_n - 1))
	done
	"$@"
}

# A zombie counts as dead: it is gone but for its parent's wait.
pid_alive() {
	read -r _pa_s 2>/dev/null <"/proc/$1/stat" || return 1
	case ${_pa_s##*) } in
	Z*|X*) return 1 ;;
	esac
	return 0
}

pid_dead() {
	! pid_alive "$1"
}

# Remembers a pid (and, at cleanup, its descendants) for the exit trap.
track_pid() {
	REGRESS_PIDS="$REGRESS_PIDS $1"
}

# "PID PPID" for every process; read(1) instead of cat keeps it fork-free.
proc_table() {
	for _pt_d in /proc/[0-9]*; do
		read -r _pt_s 2>/dev/null <"$_pt_d/stat" || continue
		_pt_s=${_pt_s##*) }
		# shellcheck disable=SC2086
		set -- $_pt_s
		echo "${_pt_d#/proc/} $2"
	done
}

# Every descendant of PID, children before grandchildren.
proc_descendants() {
	proc_table | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			q[0] = root; head = 0; tail = 1
			while (head < tail) {
				n = split(kids[q[head++]], k, " ")
				for (i = 1; i <= n; i++) { print k[i]; q[tail++] = k[i] }
			}
		}'
}

proc_ppid() {
	read -r _pp_s 2>/dev/null <"/proc/$1/stat" || return 1
	_pp_s=${_pp_s##*) }
	# shellcheck disable=SC2086
	set -- $_pp_s
	echo "$2"
}

# The command line of PID with spaces for NULs.
proc_cmdline() {
	tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"
}

# proc_status PID FIELD: the value of "FIELD:" in /proc/PID/status, tabs as spaces.
proc_status() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null | tr '\t' ' ' | sed 's/ *$//'
}

# Processes whose command line mentions the scratch dir (config paths): they
# survive as orphans when their parent is gone (sessions outlive listeners).
procs_in_scratch() {
	[ -n "${SCRATCH:-}" ] || return 0
	for _ps_d in /proc/[0-9]*; do
		_ps_p=${_ps_d#/proc/}
		[ "$_ps_p" = "$$" ] && continue
		case $(tr '\0' ' ' 2>/dev/null <"$_ps_d/cmdline") in
		*"$SCRATCH"*) echo "$_ps_p" ;;
		esac
	done
}

# Terminates PIDS: SIGTERM, then SIGKILL for what is left after 3 s.
kill_pids() {
	[ -n "$*" ] || return 0
	kill -TERM "$@" 2>/dev/null
	_kp_left=
	for _kp_i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do
		_kp_left=
		for _kp_p in "$@"; do
			pid_alive "$_kp_p" && _kp_left="$_kp_left $_kp_p"
		done
		[ -z "$_kp_left" ] && break
		sleep 0.1
	done
	if [ -n "$_kp_left" ]; then
		trace "SIGKILL to$_kp_left"
		# shellcheck disable=SC2086
		kill -KILL $_kp_left 2>/dev/null
	fi
	# Reap what is ours (wait on another's pid returns at once).
	for _kp_p in "$@"; do
		wait "$_kp_p" 2>/dev/null
	done
	return 0
}

# Kills PID and everything below it; the tree is listed before any kill
# because orphans lose their parentage.
kill_tree() {
	_kt_all="$1 $(proc_descendants "$1")"
	# shellcheck disable=SC2086
	kill_pids $_kt_all
}

regress_kill_all() {
	_rc_all=
	for _rc_p in $REGRESS_PIDS; do
		pid_alive "$_rc_p" && _rc_all="$_rc_all $_rc_p $(proc_descendants "$_rc_p")"
	done
	_rc_all="$_rc_all $(procs_in_scratch)"
	# shellcheck disable=SC2086
	kill_pids $_rc_all
}

# Sanitizer reports from any process we started (ASan builds in CI) fail the
# scenario even when the client saw nothing wrong. Leak reports appear when
# the processes exit, so this runs after regress_kill_all.
regress_check_sanitizers() {
	[ -n "${SCRATCH:-}" ] && [ -d "$SCRATCH" ] || return 0
	_cs_hits=$(grep -l -E "ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:" \
	    "$SCRATCH"/*.log 2>/dev/null)
	for _cs_f in $_cs_hits; do
		fail "sanitizer report in ${_cs_f##*/}:"
		grep -E -A 20 "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$_cs_f" | head -n 40
	done
}

regress_cleanup() {
	regress_kill_all
	if [ -n "${SCRATCH:-}" ] && [ -d "$SCRATCH" ]; then
		if [ "${KEEP_SCRATCH:-no}" = yes ]; then
			echo "scratch kept in $SCRATCH"
		else
			rm -rf "$SCRATCH"
		fi
	fi
}

# Shows the tail of every log in the scratch dir: the failure's context.
regress_dump_logs() {
	for _dl_f in "$SCRATCH"/*.log; do
		[ -s "$_dl_f" ] || continue
		echo "---- last lines of ${_dl_f##*/}"
		tail -n 40 "$_dl_f"
	done
}

regress_exit() {
	_re_rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$REGRESS_SKIPPED" ]; then
		regress_cleanup
		exit 77
	fi
	# A shell error (status >= 2) must not pass for success.
	if [ "$RESULT" = 0 ] && [ "$_re_rc" -ge 2 ]; then
		fail "scenario aborted with status $_re_rc"
	fi
	regress_kill_all
	regress_check_sanitizers
	if [ "$RESULT" != 0 ] && [ -n "${SCRATCH:-}" ] && [ -d "$SCRATCH" ]; then
		regress_dump_logs
	fi
	regress_cleanup
	if [ "$RESULT" != 0 ]; then
		echo "failed $tid"
		exit 1
	fi
	echo "ok $tid"
	exit 0
}

trap regress_exit EXIT
trap 'fail "interrupted"; exit 1' INT TERM HUP

SCRATCH=$(mktemp -d /tmp/ssh-proxy-regress.XXXXXXXX) || fatal "mktemp failed"
# The child runs unprivileged: it must reach configs and authorized_keys in here
# (files are made readable one by one; host keys stay 0600 root).
chmod 755 "$SCRATCH"
PROXY_LOG=$SCRATCH/proxy.log
CFG=$SCRATCH/config.yaml
KNOWN_HOSTS=$SCRATCH/known_hosts
HOSTKEYS=
USERS=
PROXY_PID=
PROXY_PORT=
verbose "scratch $SCRATCH, proxy $PROXY"

[ -x "$PROXY" ] || fatal "$PROXY not built (run make first)"
require_cmd "$SSH" "$SSHKEYGEN" timeout awk od

# need_prog NAME: sets $NAME to the path of helper program regress/NAME (built
# by make check; built here when a scenario is run by hand after a plain make).
need_prog() {
	if [ ! -x "$top_builddir/regress/$1" ] && [ -f "$top_builddir/Makefile" ]; then
		make -s -C "$top_builddir" "regress/$1" >"$SCRATCH/make-$1.out" 2>&1 ||
			fatal "cannot build regress/$1: $(tail -n 5 "$SCRATCH/make-$1.out")"
	fi
	[ -x "$top_builddir/regress/$1" ] || fatal "regress/$1 is not built"
	eval "$1=\$top_builddir/regress/\$1"
}

# free_port: a random TCP port nobody listens on or uses (per /proc/net/tcp*),
# outside the ephemeral range so no outgoing connection takes it meanwhile.
free_port() {
	read -r _fp_lo _fp_hi 2>/dev/null </proc/sys/net/ipv4/ip_local_port_range ||
		{ _fp_lo=32768; _fp_hi=60999; }
	if [ "$_fp_lo" -gt 12000 ]; then
		_fp_base=10000 _fp_n=$((_fp_lo - 10000))
	else
		_fp_base=$((_fp_hi + 1)) _fp_n=$((65535 - _fp_hi))
	fi
	while :; do
		_fp_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_fp_p=$((_fp_base + _fp_r % _fp_n))
		_fp_h=$(printf ':%04X' "$_fp_p")
		if ! awk -v h="$_fp_h" 'FNR > 1 && substr($2, length($2) - 4) == h { f = 1 }
		    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			echo "$_fp_p"
			return 0
		fi
	done
}

# port_listening PORT: something listens on 127.0.0.1:PORT (or the wildcard).
port_listening() {
	_pl_h=$(printf ':%04X' "$1")
	awk -v h="$_pl_h" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == h { f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

port_closed() {
	! port_listening "${1:-$PROXY_PORT}"
}

# make_hostkey TYPE: $SCRATCH/host_TYPE{,.pub}, 0600 root (the child must not
# be able to read it); appended to HOSTKEYS for the next write_config.
make_hostkey() {
	_mh_f=$SCRATCH/host_$1
	case $1 in
	rsa) _mh_b="-b 3072" ;;
	ecdsa) _mh_b="-b 256" ;;
	*) _mh_b= ;;
	esac
	rm -f "$_mh_f" "$_mh_f.pub"
	# shellcheck disable=SC2086
	$SSHKEYGEN -q -t "$1" $_mh_b -N '' -C "regress host $1" -f "$_mh_f" ||
		fatal "ssh-keygen -t $1 failed"
	chmod 600 "$_mh_f"
	chmod 644 "$_mh_f.pub"
	HOSTKEYS="$HOSTKEYS $_mh_f"
}

# make_user NAME [TYPE]: user key $SCRATCH/user_NAME and authorized keys
# $SCRATCH/NAME.keys; NAME is appended to USERS for the next write_config.
make_user() {
	_mu_f=$SCRATCH/user_$1
	$SSHKEYGEN -q -t "${2:-ed25519}" -N '' -C "regress user $1" -f "$_mu_f" ||
		fatal "ssh-keygen for user $1 failed"
	cp "$_mu_f.pub" "$SCRATCH/$1.keys"
	chmod 644 "$SCRATCH/$1.keys"
	USERS="$USERS $1"
}

# make_key NAME: a key pair $SCRATCH/user_NAME that no user authorizes.
make_key() {
	$SSHKEYGEN -q -t ed25519 -N '' -C "regress key $1" -f "$SCRATCH/user_$1" ||
		fatal "ssh-keygen for key $1 failed"
}

# write_config [FILE]: YAML from PROXY_PORT, HOSTKEYS (first one as the Go key
# server.serverKey, the rest as server.hostKeys; all in hostKeys when
# HOSTKEYS_ONLY=yes), USERS, HANDSHAKE_TIMEOUT, LISTEN_ADDRESS (YAML value,
# default $LOOPBACK) and SERVER_EXTRA (more lines under server:, indented by
# two spaces).
write_config() {
	_wc_f=${1:-$CFG}
	[ -n "$PROXY_PORT" ] || PROXY_PORT=$(free_port)
	{
		echo "server:"
		echo "  port: $PROXY_PORT"
		echo "  listenAddress: ${LISTEN_ADDRESS:-$LOOPBACK}"
		_wc_first=yes
		for _wc_k in $HOSTKEYS; do
			if [ "$_wc_first" = yes ] && [ "${HOSTKEYS_ONLY:-no}" != yes ]; then
				echo "  serverKey: $_wc_k"
			else
				[ "$_wc_first" != list ] && echo "  hostKeys:"
				_wc_first=list
				echo "    - $_wc_k"
				continue
			fi
			_wc_first=no
		done
		echo "  SSHHandshakeTimeout: ${HANDSHAKE_TIMEOUT:-15}"
		[ -n "${SERVER_EXTRA:-}" ] && printf '%s\n' "$SERVER_EXTRA"
		echo "privsep:"
		echo "  user: ${PRIVSEP_USER:-nobody}"
		echo "identity:"
		echo "  static:"
		echo "    users:"
		for _wc_u in $USERS; do
			echo "      - name: $_wc_u"
			echo "        authorizedKeys: $SCRATCH/$_wc_u.keys"
		done
	} >"$_wc_f"
	chmod 644 "$_wc_f"
	trace "config $_wc_f:"
	trace "$(cat "$_wc_f")"
}

# write_known_hosts [KEY...]: known_hosts lines for the alias from the .pub
# files (default: every host key); StrictHostKeyChecking=yes checks them.
write_known_hosts() {
	[ $# -gt 0 ] || set -- $HOSTKEYS
	: >"$KNOWN_HOSTS"
	for _kh_k in "$@"; do
		awk -v a="$HOSTKEY_ALIAS" '{ print a, $1, $2 }' "$_kh_k.pub" >>"$KNOWN_HOSTS"
	done
}

# The proxy's version string, from `ssh-proxy -v` (spec/flows.md §2).
expected_banner() {
	"$PROXY" -v | sed -n 's/^ssh-proxy version: \([^ ]*\) (commit: \([^)]*\))$/SSH-2.0-ssh-proxy_\1\/\2_k8shell.io/p'
}

# start_proxy [ARGS...]: writes the config and known_hosts, starts the listener
# in the background (log: $PROXY_LOG) and waits for "listening on ...:PORT".
start_proxy() {
	require_privsep_exec
	_sp_text=--logtext
	[ "${PROXY_LOGTEXT:-yes}" = yes ] || _sp_text=
	for _sp_try in 1 2 3; do
		write_config
		write_known_hosts
		_sp_before=$(grep -c "listening on .*$PROXY_PORT" "$PROXY_LOG" 2>/dev/null || true)
		trace "starting $PROXY --config $CFG $_sp_text $*"
		"$PROXY" --config "$CFG" $_sp_text "$@" >>"$PROXY_LOG" 2>&1 &
		PROXY_PID=$!
		track_pid "$PROXY_PID"
		wait_for 10 proxy_settled "${_sp_before:-0}"
		if proxy_listening "${_sp_before:-0}"; then
			verbose "proxy pid $PROXY_PID listening on $LOOPBACK:$PROXY_PORT"
			return 0
		fi
		pid_alive "$PROXY_PID" &&
			fatal "proxy (pid $PROXY_PID) did not log 'listening on $LOOPBACK:$PROXY_PORT' within 10 s"
		# Another test may have taken the port since free_port looked.
		grep -q "bind .*$PROXY_PORT.*in use" "$PROXY_LOG" || break
		verbose "port $PROXY_PORT taken meanwhile, trying another"
		PROXY_PORT=$(free_port)
	done
	fatal "proxy exited before listening"
}

# proxy_listening N: the listener is alive, has logged more than N
# "listening on" lines for our port, and the port really accepts.
proxy_listening() {
	pid_dead "$PROXY_PID" && return 1
	_pl_n=$(grep -c "listening on .*$PROXY_PORT" "$PROXY_LOG" 2>/dev/null || true)
	[ "${_pl_n:-0}" -gt "$1" ] && port_listening "$PROXY_PORT"
}

# Listening, or dead: nothing more to wait for.
proxy_settled() {
	pid_dead "$PROXY_PID" || proxy_listening "$1"
}

# stop_proxy: the listener and every monitor and child below it.
stop_proxy() {
	[ -n "$PROXY_PID" ] || return 0
	kill_tree "$PROXY_PID"
	PROXY_PID=
}

# ssh_cmd [-k KEY] [-L LOGLEVEL] USER [SSH-ARGS...] [COMMAND]: the real OpenSSH
# client, no user config, host key checked strictly against $KNOWN_HOSTS.
# Options may follow the destination (ssh re-parses them), then the command.
ssh_cmd() {
	_sc_key='' _sc_level=ERROR
	while :; do
		case $1 in
		-k) _sc_key=$2; shift 2 ;;
		-L) _sc_level=$2; shift 2 ;;
		*) break ;;
		esac
	done
	_sc_user=$1
	shift
	: "${_sc_key:=$SCRATCH/user_$_sc_user}"
	timeout "$SSH_TIMEOUT" "$SSH" -F /dev/null \
	    -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
	    -o StrictHostKeyChecking=yes -o HostKeyAlias="$HOSTKEY_ALIAS" \
	    -o CheckHostIP=no -o UpdateHostKeys=no \
	    -o IdentitiesOnly=yes -o IdentityFile="$_sc_key" -o IdentityAgent=none \
	    -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
	    -o BatchMode=yes -o ConnectTimeout=10 -o LogLevel="$_sc_level" \
	    -p "${PROXY_PORT:-22}" -l "$_sc_user" "$LOOPBACK" "$@"
}

# ssh_try [ssh_cmd args]: runs ssh_cmd with no stdin; sets SSH_RC and leaves
# the output in $SCRATCH/ssh.out and $SCRATCH/ssh.err.
ssh_try() {
	ssh_cmd "$@" </dev/null >"$SCRATCH/ssh.out" 2>"$SCRATCH/ssh.err"
	SSH_RC=$?
	trace "ssh $* -> $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
}

# A login happened when ssh did not exit 255 (its own error status). Until a
# workspace backend exists the command ends with status 1 and a message from
# ssh-proxy on stderr; once it exists `true` gives 0.
ssh_login_ok() {
	ssh_try "$@"
	case $SSH_RC in
	0) return 0 ;;
	255|124) return 1 ;;
	*) grep -q "ssh-proxy" "$SCRATCH/ssh.err" ;;
	esac
}

# expect_login WHAT [ssh_cmd args]: fails the test unless the login works.
expect_login() {
	_el_what=$1
	shift
	ssh_login_ok "$@" ||
		fail "$_el_what: login failed (ssh exit $SSH_RC): $(head -c 500 "$SCRATCH/ssh.err")"
}

# expect_refused WHAT [ssh_cmd args]: ssh must exit 255 with "Permission denied".
expect_refused() {
	_er_what=$1
	shift
	ssh_try "$@"
	if [ "$SSH_RC" != 255 ]; then
		fail "$_er_what: ssh exit $SSH_RC, expected 255: $(head -c 500 "$SCRATCH/ssh.err")"
	elif ! grep -q "Permission denied" "$SCRATCH/ssh.err"; then
		fail "$_er_what: refused without 'Permission denied': $(head -c 500 "$SCRATCH/ssh.err")"
	fi
}

# session_open NAME [ssh_cmd args]: a connection held open (ssh -N, master of
# a control socket so later commands can run over it); waits for the client's
# own "Authenticated to" line.
session_open() {
	_so_n=$1
	shift
	_so_ctl=$SCRATCH/ctl.$_so_n
	rm -f "$_so_ctl"
	ssh_cmd -L DEBUG1 "$@" -N -o ControlMaster=yes -o ControlPath="$_so_ctl" \
	    -o ControlPersist=no </dev/null >"$SCRATCH/session.$_so_n.out" \
	    2>"$SCRATCH/session.$_so_n.log" &
	echo $! >"$SCRATCH/session.$_so_n.pid"
	track_pid $!
	wait_for 15 session_authenticated "$_so_n" ||
		fatal "session $_so_n: no 'Authenticated to' within 15 s: $(grep -v '^debug' "$SCRATCH/session.$_so_n.log" | tail -n 5)"
	wait_for 5 test -S "$_so_ctl" || fatal "session $_so_n: no control socket"
}

session_authenticated() {
	grep -q "Authenticated to" "$SCRATCH/session.$1.log" 2>/dev/null && return 0
	pid_alive "$(session_pid "$1")" ||
		fatal "session $1: ssh exited: $(grep -v '^debug' "$SCRATCH/session.$1.log" | tail -n 5)"
	return 1
}

session_pid() {
	cat "$SCRATCH/session.$1.pid"
}

# session_exec NAME [COMMAND]: runs COMMAND (default: true) on a new channel
# of the held connection; sets SSH_RC, output in $SCRATCH/ssh.{out,err}.
session_exec() {
	_se_n=$1
	shift
	[ $# -gt 0 ] || set -- true
	timeout "$SSH_TIMEOUT" "$SSH" -F /dev/null -o ControlMaster=no \
	    -o ControlPath="$SCRATCH/ctl.$_se_n" -o BatchMode=yes -o LogLevel=ERROR \
	    "$HOSTKEY_ALIAS" "$@" </dev/null >"$SCRATCH/ssh.out" 2>"$SCRATCH/ssh.err"
	SSH_RC=$?
	trace "session $_se_n: $* -> $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
}

# session_works NAME: a new channel over the held connection gets an answer
# from the proxy (same rule as ssh_login_ok).
session_works() {
	session_exec "$1"
	case $SSH_RC in
	0) return 0 ;;
	255|124) return 1 ;;
	*) grep -q "ssh-proxy" "$SCRATCH/ssh.err" ;;
	esac
}

session_close() {
	timeout 10 "$SSH" -F /dev/null -o ControlPath="$SCRATCH/ctl.$1" -O exit \
	    "$HOSTKEY_ALIAS" >/dev/null 2>&1
	_sc_pid=$(session_pid "$1")
	wait_for 5 pid_dead "$_sc_pid" || kill "$_sc_pid" 2>/dev/null
}

# children_of PID: the `ssh-proxy --child` processes below PID (the re-exec'd,
# unprivileged per-connection servers), one per line.
children_of() {
	for _co_p in $(proc_descendants "$1"); do
		case " $(proc_cmdline "$_co_p") " in
		*" --child "*) echo "$_co_p" ;;
		esac
	done
}

no_children_of() {
	[ -z "$(children_of "$1")" ]
}

# unprivileged_children_of PID: the --child processes not running as root.
unprivileged_children_of() {
	for _uc_p in $(children_of "$1"); do
		_uc_uid=$(proc_status "$_uc_p" Uid | awk '{ print $1 }')
		[ -n "$_uc_uid" ] && [ "$_uc_uid" != 0 ] && echo "$_uc_p"
	done
}

# tcp_idle_open NAME PORT: a TCP connection that reads and never sends, so the
# server waits for an SSH version line; output in $SCRATCH/idle.NAME.out.
tcp_idle_open() {
	socat -u "TCP:$LOOPBACK:$2" STDOUT >"$SCRATCH/idle.$1.out" 2>"$SCRATCH/idle.$1.err" &
	echo $! >"$SCRATCH/idle.$1.pid"
	track_pid $!
}

# tcp_stall_open NAME PORT: sends an SSH version line, then nothing (stalls in
# the key exchange) without closing its side.
tcp_stall_open() {
	printf 'SSH-2.0-regress_stall\r\n' >"$SCRATCH/idle.$1.in"
	socat STDIO,ignoreeof "TCP:$LOOPBACK:$2" <"$SCRATCH/idle.$1.in" \
	    >"$SCRATCH/idle.$1.out" 2>"$SCRATCH/idle.$1.err" &
	echo $! >"$SCRATCH/idle.$1.pid"
	track_pid $!
}

tcp_idle_pid() {
	cat "$SCRATCH/idle.$1.pid"
}

tcp_idle_close() {
	kill "$(tcp_idle_pid "$1")" 2>/dev/null
	wait_for 5 pid_dead "$(tcp_idle_pid "$1")"
}

# tcp_idle_banner NAME: the first line the server sent, CR stripped.
tcp_idle_banner() {
	head -n 1 "$SCRATCH/idle.$1.out" 2>/dev/null | tr -d '\r'
}

tcp_idle_has_banner() {
	grep -q "^SSH-" "$SCRATCH/idle.$1.out" 2>/dev/null
}

# read_banner PORT: the server's version line (empty if none within 15 s).
read_banner() {
	tcp_idle_open banner "$1"
	wait_for 15 tcp_idle_has_banner banner
	tcp_idle_close banner
	tcp_idle_banner banner
}

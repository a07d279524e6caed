#	regress/sockact.sh: socket activation: the listener takes its socket from
#	systemd (LISTEN_FDS, Accept=no) and --child serves one connection (Accept=yes).

tid="sockact: systemd-socket-activate, listener (LISTEN_FDS) and --child (--accept)"
. "$(dirname "$0")/test-exec.sh"

require_cmd systemd-socket-activate
require_privsep_exec

make_hostkey ed25519
make_user alice
# The config's own port must stay unused: the socket comes from systemd.
cfg_port=$(free_port)
PROXY_PORT=$cfg_port
write_config
write_known_hosts

# sa_start NAME PORT ARGS...: systemd-socket-activate on 127.0.0.1:PORT,
# log in $SCRATCH/NAME.log; waits until it has bound the socket.
sa_start() {
	_sa_name=$1 _sa_port=$2
	shift 2
	systemd-socket-activate -l "$LOOPBACK:$_sa_port" "$@" >>"$SCRATCH/$_sa_name.log" 2>&1 &
	echo $! >"$SCRATCH/$_sa_name.pid"
	track_pid $!
	wait_for 10 port_listening "$_sa_port" || fatal "$_sa_name: nothing listens on port $_sa_port"
}

# Accept=no: the proxy is the listener on the inherited fd 3.
PROXY_PORT=$(free_port)
sa_start listener "$PROXY_PORT" "$PROXY" --config "$CFG" --logtext
lpid=$(cat "$SCRATCH/listener.pid")
expect_login "listener on a systemd socket" alice true
expect_login "listener on a systemd socket, second login" alice true
case " $(proc_cmdline "$lpid") " in
*" --config $CFG "*) ;;
*) fail "pid $lpid is not the proxy (systemd-socket-activate should exec it): $(proc_cmdline "$lpid")" ;;
esac
port_listening "$cfg_port" && fail "the socket-activated listener also bound the config's port $cfg_port"
session_open s1 alice
set -- $(unprivileged_children_of "$lpid")
[ $# = 1 ] || fail "expected one unprivileged --child below the listener, found '$*'"
session_close s1
kill_tree "$lpid"

# Accept=yes: one --child per connection, fd 3 = the connection.
PROXY_PORT=$(free_port)
sa_start accept "$PROXY_PORT" --accept "$PROXY" --child --config "$CFG" --logtext
apid=$(cat "$SCRATCH/accept.pid")
expect_login "--child per connection (--accept)" alice true
expect_login "--child per connection (--accept), second login" alice true
session_open s2 alice
set -- $(unprivileged_children_of "$apid")
[ $# = 1 ] || fail "--accept: expected one unprivileged --child, found '$*'"
session_works s2 || fail "--accept: held session: ssh exit $SSH_RC"
session_close s2
kill_tree "$apid"

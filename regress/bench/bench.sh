#	regress/bench/bench.sh: Debian's OpenSSH sshd and ssh-proxy + workspaced side by
#	side in one run: exec and -L throughput, login latency, ratios proxy/sshd.
#
# Not a test (not in make check); run from the top of the tree after make:
#     sh regress/bench/bench.sh
# Environment: BENCH_BYTES (default 268435456 = 256 MiB), BENCH_RUNS (runs per
# throughput row, median kept, default 3), BENCH_LOGINS (default 20),
# BENCH_CIPHER (default aes128-gcm@openssh.com), BENCH_KEX (default
# curve25519-sha256: OpenSSH 9.2 prefers sntrup761x25519, which libssh 0.10
# lacks and which costs ~200 ms per login here). See regress/bench/README.

tid="bench: ssh-proxy + workspaced against OpenSSH sshd"
# The tree is two levels up (test-exec.sh's default assumes regress/NAME.sh).
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
. "$(dirname "$0")/../test-exec.sh"
. "$(dirname "$0")/../ws-lib.sh"

BYTES=${BENCH_BYTES:-268435456}
RUNS=${BENCH_RUNS:-3}
LOGINS=${BENCH_LOGINS:-20}
CIPHER=${BENCH_CIPHER:-aes128-gcm@openssh.com}
KEX=${BENCH_KEX:-curve25519-sha256}
SSH_TIMEOUT=600

require_cmd socat /usr/sbin/sshd
[ "$(id -u)" = 0 ] || skip "needs root (sshd logs in as root here)"

# One Ed25519 host key and one user key for both servers.
make_hostkey ed25519
make_user alice
start_workspaced
ws_config
start_proxy
P_PORT=$PROXY_PORT

S_PORT=$(free_port)
cat >"$SCRATCH/sshd_config" <<EOC
Port $S_PORT
ListenAddress $LOOPBACK
HostKey $SCRATCH/host_ed25519
AuthorizedKeysFile $SCRATCH/alice.keys
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile none
PrintMotd no
PrintLastLog no
Subsystem sftp $SFTP_SERVER
# Debian's bash sources ~/.bashrc when SSH_CLIENT is set and SHLVL is unset
# (sshd's sessions, not workspaced's): SHLVL=1 keeps the commands equal.
SetEnv SHLVL=1
EOC
/usr/sbin/sshd -D -e -f "$SCRATCH/sshd_config" >>"$SCRATCH/sshd.log" 2>&1 &
SSHD_PID=$!
track_pid $SSHD_PID
wait_for 10 port_listening "$S_PORT" || fatal "sshd did not listen: $(tail -n 3 "$SCRATCH/sshd.log")"

# cl WHICH [ssh args]: ssh_cmd to sshd (as root) or the proxy (as alice), same
# key, same host key, same key exchange and cipher.
cl() {
	case $1 in
	sshd) PROXY_PORT=$S_PORT; _cl_u=root ;;
	proxy) PROXY_PORT=$P_PORT; _cl_u=alice ;;
	esac
	shift
	ssh_cmd -k "$SCRATCH/user_alice" "$_cl_u" -c "$CIPHER" -o KexAlgorithms="$KEX" -o Compression=no "$@"
}

# The cipher and key exchange really are the ones asked for, on both.
for w in sshd proxy; do
	cl "$w" -v true </dev/null >/dev/null 2>"$SCRATCH/neg.$w" || fatal "$w: ssh true failed: $(grep -v '^debug' "$SCRATCH/neg.$w" | tail -n 3)"
	grep -q "kex: server->client cipher: $CIPHER" "$SCRATCH/neg.$w" ||
		fatal "$w: cipher $CIPHER not negotiated: $(grep 'kex: server->client' "$SCRATCH/neg.$w")"
	tr -d '\r' <"$SCRATCH/neg.$w" | grep -qx "debug1: kex: algorithm: $KEX" ||
		fatal "$w: kex $KEX not negotiated: $(grep 'kex: algorithm' "$SCRATCH/neg.$w")"
	verbose "$w: PATH in the session: $(cl "$w" 'echo $PATH' </dev/null 2>&1)"
done

# Held connections (the timed operations open channels on them, so the
# login is not timed), one master per server.
mux_open() {
	rm -f "$SCRATCH/ctl.$1"
	cl "$1" -N -o ControlMaster=yes -o ControlPath="$SCRATCH/ctl.$1" -o ControlPersist=no \
	    </dev/null >/dev/null 2>"$SCRATCH/mux.$1.log" &
	track_pid $!
	wait_for 15 test -S "$SCRATCH/ctl.$1" || fatal "$1: no control socket: $(tail -n 3 "$SCRATCH/mux.$1.log")"
}
mux() {
	_mx_w=$1
	shift
	timeout "$SSH_TIMEOUT" "$SSH" -F /dev/null -o ControlMaster=no -o ControlPath="$SCRATCH/ctl.$_mx_w" \
	    -o LogLevel=ERROR "$HOSTKEY_ALIAS" "$@"
}
mux_open sshd
mux_open proxy

# -L forwards, one per server; each sets LP_<server> to its local port.
fwd_open() {
	_fw_lp=$(free_port)
	cl "$1" -N -o ExitOnForwardFailure=yes -L "$_fw_lp:$LOOPBACK:$2" </dev/null \
	    >/dev/null 2>"$SCRATCH/fwd.$1.log" &
	track_pid $!
	wait_for 15 port_listening "$_fw_lp" || fatal "$1: -L port $_fw_lp not listening: $(tail -n 3 "$SCRATCH/fwd.$1.log")"
	eval "LP_$1=$_fw_lp"
}
SINK_PORT=$(free_port)
fwd_open sshd "$SINK_PORT"
fwd_open proxy "$SINK_PORT"

# Each measurement prints "MS BYTES" (elapsed milliseconds, bytes that arrived).
m_download() {
	_t0=$(now_ms)
	_n=$(mux "$1" "head -c $BYTES /dev/zero" </dev/null | wc -c)
	echo "$(($(now_ms) - _t0)) $_n"
}
m_upload() {
	_t0=$(now_ms)
	_n=$(head -c "$BYTES" /dev/zero | mux "$1" 'wc -c')
	echo "$(($(now_ms) - _t0)) $_n"
}
# -L upload: client -> forward -> a sink counting bytes; done when the sink
# has seen the end of the stream.
m_fwd_up() {
	socat -u "TCP-LISTEN:$SINK_PORT,bind=$LOOPBACK,reuseaddr" STDOUT 2>/dev/null | wc -c >"$SCRATCH/sink.count" &
	_sk=$!
	wait_for 10 port_listening "$SINK_PORT" || fatal "the sink did not listen"
	eval "_lp=\$LP_$1"
	_t0=$(now_ms)
	head -c "$BYTES" /dev/zero | timeout "$SSH_TIMEOUT" socat -u STDIN "TCP:$LOOPBACK:$_lp" 2>/dev/null
	wait $_sk
	echo "$(($(now_ms) - _t0)) $(cat "$SCRATCH/sink.count")"
}
# -L download: a source behind the forward sends BYTES and closes.
m_fwd_down() {
	socat -u "SYSTEM:head -c $BYTES /dev/zero" "TCP-LISTEN:$SINK_PORT,bind=$LOOPBACK,reuseaddr" \
	    2>/dev/null &
	_sk=$!
	wait_for 10 port_listening "$SINK_PORT" || fatal "the source did not listen"
	eval "_lp=\$LP_$1"
	_t0=$(now_ms)
	_n=$(timeout "$SSH_TIMEOUT" socat -u "TCP:$LOOPBACK:$_lp" STDOUT 2>/dev/null | wc -c)
	echo "$(($(now_ms) - _t0)) $_n"
	wait $_sk
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# row NAME FUNC: RUNS runs per server, alternating; median MB/s (10^6 bytes/s).
ROWS=
row() {
	_rn=$1
	_rf=$2
	: >"$SCRATCH/row.sshd"
	: >"$SCRATCH/row.proxy"
	_r=0
	while [ "$_r" -lt "$RUNS" ]; do
		_r=$((_r + 1))
		for _w in sshd proxy; do
			# shellcheck disable=SC2046
			set -- $("$_rf" "$_w")
			[ "$2" = "$BYTES" ] ||
				fail "$_rn, $_w, run $_r: ${2:-0} bytes arrived, expected $BYTES"
			awk -v ms="$1" -v b="$BYTES" 'BEGIN { printf "%.1f\n", b / 1e6 / (ms / 1000) }' >>"$SCRATCH/row.$_w"
		done
	done
	_s=$(median <"$SCRATCH/row.sshd")
	_p=$(median <"$SCRATCH/row.proxy")
	ROWS="$ROWS$(awk -v n="$_rn" -v s="$_s" -v p="$_p" 'BEGIN {
	    printf "%-34s %9.1f MB/s %9.1f MB/s %7.2f   >= 0.90 %s\n", n, s, p, p / s, (p / s >= 0.9 ? "ok" : "BELOW") }')
"
	verbose "$_rn: sshd $(tr '\n' ' ' <"$SCRATCH/row.sshd")MB/s; proxy $(tr '\n' ' ' <"$SCRATCH/row.proxy")MB/s"
}

MIB=$((BYTES / 1048576))
row "exec download ($MIB MiB)" m_download
row "exec upload ($MIB MiB)" m_upload
row "-L upload ($MIB MiB)" m_fwd_up
row "-L download ($MIB MiB)" m_fwd_down

child=$(children_of "$PROXY_PID" | head -n 1)
hwm=
[ -n "$child" ] && hwm=$(proc_status "$child" VmHWM)

# Login latency: a new connection running `true`, alternating servers.
: >"$SCRATCH/lat.sshd"
: >"$SCRATCH/lat.proxy"
i=0
while [ "$i" -lt "$LOGINS" ]; do
	i=$((i + 1))
	for w in sshd proxy; do
		t0=$(now_ms)
		cl "$w" true </dev/null >/dev/null 2>&1 || fail "$w: ssh true failed (login $i)"
		echo $(($(now_ms) - t0)) >>"$SCRATCH/lat.$w"
	done
done
ls=$(median <"$SCRATCH/lat.sshd")
lp=$(median <"$SCRATCH/lat.proxy")
ROWS="$ROWS$(awk -v n="ssh host true (median of $LOGINS)" -v s="$ls" -v p="$lp" 'BEGIN {
    printf "%-34s %9.1f ms   %9.1f ms   %7.2f   <= 1.20 %s\n", n, s, p, p / s, (p / s <= 1.2 ? "ok" : "ABOVE") }')
"

echo
echo "$($SSH -V 2>&1); kex $KEX, cipher $CIPHER, host key ed25519"
echo "$(nproc) CPUs, load average $(cut -d ' ' -f 1-3 /proc/loadavg) at the end"
printf '%-34s %14s %14s %7s   %s\n' "" "sshd" "ssh-proxy" "ratio" "target"
printf '%s' "$ROWS"
[ -n "$hwm" ] && echo "ssh-proxy child peak RSS (VmHWM) after the throughput rows: $hwm"
echo

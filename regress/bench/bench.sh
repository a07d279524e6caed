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

# server_cpu WHICH: CPU time (clock ticks, user + system, all threads) of the
# server's long-lived processes: sshd's (comm sshd) for sshd; the monitors,
# children and workspaced for proxy; workspaced alone for wsd. The commands a run starts (head, wc,
# the shells) are the same on both sides and not counted.
server_cpu() {
	case $1 in
	sshd) _sc_l="$SSHD_PID $(proc_descendants "$SSHD_PID")"; _sc_c=sshd ;;
	proxy) _sc_l="$PROXY_PID $(proc_descendants "$PROXY_PID") $WS_PID"; _sc_c= ;;
	wsd) _sc_l=$WS_PID; _sc_c=workspaced ;;
	esac
	_sc_t=0
	for _sc_p in $_sc_l; do
		read -r _sc_s 2>/dev/null <"/proc/$_sc_p/stat" || continue
		_sc_n=${_sc_s#*(}
		_sc_n=${_sc_n%%)*}
		case $_sc_n in
		ssh-proxy|workspaced|sshd) ;;
		*) continue ;;
		esac
		[ -n "$_sc_c" ] && [ "$_sc_n" != "$_sc_c" ] && continue
		# shellcheck disable=SC2086
		set -- ${_sc_s##*) }
		# Fields 14 and 15 (utime, stime) are $12 and $13 after the comm.
		_sc_t=$((_sc_t + ${12} + ${13}))
	done
	echo "$_sc_t"
}
TICK=$(getconf CLK_TCK)

# machine_cpu: busy clock ticks of the whole machine, all CPUs (user, nice,
# system, irq, softirq, steal from /proc/stat): the client, the commands and
# the kernel's loopback work too, which is what a CPU-bound row shares out.
machine_cpu() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# row NAME FUNC: RUNS runs per server, alternating; median MB/s (10^6 bytes/s)
# and median server CPU seconds per GiB moved.
ROWS=
row() {
	_rn=$1
	_rf=$2
	: >"$SCRATCH/row.sshd"
	: >"$SCRATCH/row.proxy"
	: >"$SCRATCH/cpu.sshd"
	: >"$SCRATCH/cpu.proxy"
	: >"$SCRATCH/cpu.wsd"
	: >"$SCRATCH/mcpu.sshd"
	: >"$SCRATCH/mcpu.proxy"
	_r=0
	while [ "$_r" -lt "$RUNS" ]; do
		_r=$((_r + 1))
		for _w in sshd proxy; do
			_c0=$(server_cpu "$_w")
			_w0=$(server_cpu wsd)
			_m0=$(machine_cpu)
			# shellcheck disable=SC2046
			set -- $("$_rf" "$_w")
			_m1=$(machine_cpu)
			_c1=$(server_cpu "$_w")
			_w1=$(server_cpu wsd)
			[ "$2" = "$BYTES" ] ||
				fail "$_rn, $_w, run $_r: ${2:-0} bytes arrived, expected $BYTES"
			awk -v ms="$1" -v b="$BYTES" 'BEGIN { printf "%.1f\n", b / 1e6 / (ms / 1000) }' >>"$SCRATCH/row.$_w"
			awk -v t="$((_c1 - _c0))" -v hz="$TICK" -v b="$BYTES" \
			    'BEGIN { printf "%.2f\n", t / hz / (b / 1073741824) }' >>"$SCRATCH/cpu.$_w"
			awk -v t="$((_m1 - _m0))" -v hz="$TICK" -v b="$BYTES" \
			    'BEGIN { printf "%.2f\n", t / hz / (b / 1073741824) }' >>"$SCRATCH/mcpu.$_w"
			[ "$_w" = proxy ] && awk -v t="$((_w1 - _w0))" -v hz="$TICK" -v b="$BYTES" \
			    'BEGIN { printf "%.2f\n", t / hz / (b / 1073741824) }' >>"$SCRATCH/cpu.wsd"
		done
	done
	_s=$(median <"$SCRATCH/row.sshd")
	_p=$(median <"$SCRATCH/row.proxy")
	_cs=$(median <"$SCRATCH/cpu.sshd")
	_cp=$(median <"$SCRATCH/cpu.proxy")
	_cw=$(median <"$SCRATCH/cpu.wsd")
	_ms=$(median <"$SCRATCH/mcpu.sshd")
	_mp=$(median <"$SCRATCH/mcpu.proxy")
	ROWS="$ROWS$(awk -v n="$_rn" -v s="$_s" -v p="$_p" -v cs="$_cs" -v cp="$_cp" -v cw="$_cw" \
	    -v ms="$_ms" -v mp="$_mp" 'BEGIN {
	    printf "%-30s %8.1f MB/s %8.1f MB/s %6.2f  >= 0.90 %-5s %6.2f %6.2f %6.2f   %6.2f %6.2f\n", n, s, p,
	        p / s, (p / s >= 0.9 ? "ok" : "BELOW"), cs, cp, cw, ms, mp }')
"
	verbose "$_rn: sshd $(tr '\n' ' ' <"$SCRATCH/row.sshd")MB/s; proxy $(tr '\n' ' ' <"$SCRATCH/row.proxy")MB/s; server CPU s/GiB sshd $(tr '\n' ' ' <"$SCRATCH/cpu.sshd")proxy $(tr '\n' ' ' <"$SCRATCH/cpu.proxy"); machine s/GiB sshd $(tr '\n' ' ' <"$SCRATCH/mcpu.sshd")proxy $(tr '\n' ' ' <"$SCRATCH/mcpu.proxy")"
}

MIB=$((BYTES / 1048576))
row "exec download ($MIB MiB)" m_download
row "exec upload ($MIB MiB)" m_upload
row "-L upload ($MIB MiB)" m_fwd_up
row "-L download ($MIB MiB)" m_fwd_down

# Peak RSS of each --child still open: the held exec connection and the -L one.
hwm=
for child in $(children_of "$PROXY_PID"); do
	hwm="$hwm $(proc_status "$child" VmHWM),"
done

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
    printf "%-30s %8.1f ms   %8.1f ms   %6.2f  <= 1.20 %s\n", n, s, p, p / s, (p / s <= 1.2 ? "ok" : "ABOVE") }')
"

echo
echo "$($SSH -V 2>&1); kex $KEX, cipher $CIPHER, host key ed25519"
echo "$(nproc) CPUs, load average $(cut -d ' ' -f 1-3 /proc/loadavg) at the end"
printf '%-30s %13s %13s %6s  %-14s %20s   %13s\n' "" "sshd" "ssh-proxy" "ratio" "target" \
    "server CPU s/GiB" "machine s/GiB"
printf '%-30s %13s %13s %6s  %-14s %6s %6s %6s   %6s %6s\n' "" "" "" "" "" "sshd" "proxy" "(wsd)" \
    "sshd" "proxy"
printf '%s' "$ROWS"
[ -n "$hwm" ] && echo "ssh-proxy children's peak RSS (VmHWM) after the throughput rows:${hwm%,}"
echo

#	regress/child-byhand.sh: `ssh-proxy --child` started by hand with the connection
#	on fd 3 (as inetd would): as root it forks its own monitor and drops privileges;
#	started unprivileged it loads the host key itself and warns.

tid="child-byhand: --child by hand through ProxyCommand, as root and unprivileged"
. "$(dirname "$0")/test-exec.sh"

require_root
require_cmd setpriv
need_prog fd3sock

user=${PRIVSEP_USER:-nobody}
uid=$(id -u "$user") || skip "no user '$user'"
gid=$(id -g "$user")

make_hostkey ed25519
make_user alice
write_config
write_known_hosts
pc="$fd3sock $PROXY --child --config $CFG --logtext 2>>$SCRATCH/child.log"

expect_login "--child by hand as root" alice -o ProxyCommand="$pc" true
expect_login "--child by hand as root, second connection" alice -o ProxyCommand="$pc" true

# While a session is open: a root --child (its own monitor) above an
# unprivileged re-exec'd --child.
session_open s1 alice -o ProxyCommand="$pc"
spid=$(session_pid s1)
all=$(children_of "$spid")
set -- $(unprivileged_children_of "$spid")
if [ $# != 1 ]; then
	fail "expected one unprivileged --child below the ssh client, found '$*' (all --child: '$all')"
else
	child=$1
	[ "$(proc_status "$child" Uid)" = "$uid $uid $uid $uid" ] ||
		fail "child Uid: '$(proc_status "$child" Uid)', expected $uid x4"
	[ "$(proc_status "$child" NoNewPrivs)" = 1 ] || fail "child NoNewPrivs is not 1"
	monitor=$(proc_ppid "$child")
	case " $(proc_cmdline "$monitor") " in
	*" --child "*) ;;
	*) fail "the child's parent $monitor is not the root --child: $(proc_cmdline "$monitor")" ;;
	esac
	[ "$(proc_status "$monitor" Uid)" = "0 0 0 0" ] ||
		fail "the root --child (monitor) Uid: '$(proc_status "$monitor" Uid)'"
	case $(readlink "/proc/$child/fd/4") in
	socket:*) ;;
	*) fail "the unprivileged child has no monitor socket on fd 4" ;;
	esac
fi
session_works s1 || fail "held session: ssh exit $SSH_RC: $(head -c 300 "$SCRATCH/ssh.err")"
session_close s1

# Unprivileged, no fd 4: the child needs a key it can read (debug only).
cp "$SCRATCH/host_ed25519" "$SCRATCH/userkey_ed25519"
cp "$SCRATCH/host_ed25519.pub" "$SCRATCH/userkey_ed25519.pub"
chown "$uid:$gid" "$SCRATCH/userkey_ed25519"
chmod 600 "$SCRATCH/userkey_ed25519"
HOSTKEYS=$SCRATCH/userkey_ed25519
write_config "$SCRATCH/unpriv.yaml"
write_known_hosts
pc="$fd3sock setpriv --reuid=$uid --regid=$gid --clear-groups $PROXY --child --config $SCRATCH/unpriv.yaml --logtext 2>>$SCRATCH/unpriv.log"
expect_login "--child by hand as $user" alice -o ProxyCommand="$pc" true
grep -q -E "^[^ ]+ warn +child\[" "$SCRATCH/unpriv.log" ||
	fail "unprivileged --child without a monitor logged no warning: $(head -n 5 "$SCRATCH/unpriv.log")"
# Without a readable key it must refuse to serve rather than run keyless.
HOSTKEYS=$SCRATCH/host_ed25519
write_config "$SCRATCH/unpriv-nokey.yaml"
pc="$fd3sock setpriv --reuid=$uid --regid=$gid --clear-groups $PROXY --child --config $SCRATCH/unpriv-nokey.yaml --logtext 2>>$SCRATCH/unpriv-nokey.log"
ssh_try alice -o ProxyCommand="$pc" true
[ "$SSH_RC" = 255 ] || fail "unprivileged --child without a readable key: ssh exit $SSH_RC, expected 255"

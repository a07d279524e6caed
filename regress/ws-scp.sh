#	regress/ws-scp.sh: scp both ways in the legacy protocol (-O: scp run by an
#	exec in the workspace) and in the default SFTP mode (the sftp subsystem).

tid="ws-scp: scp -O and SFTP-mode scp, upload and download, sha256 match"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

[ -x "$SFTP_SERVER" ] || skip "$SFTP_SERVER is not installed (openssh-sftp-server)"
require_cmd scp
ws_setup

mkdir -p "$SCRATCH/local" "$SCRATCH/remote"
head -c 5000000 /dev/urandom >"$SCRATCH/local/src.bin"
head -c 5000000 /dev/urandom >"$SCRATCH/remote/src.bin"
up_want=$(sha256_of "$SCRATCH/local/src.bin")
down_want=$(sha256_of "$SCRATCH/remote/src.bin")

for mode in legacy sftp; do
	case $mode in
	legacy) flag=-O ;;
	sftp) flag=-s ;;
	esac
	scp_run $flag "$SCRATCH/local/src.bin" "$WS_LOGIN@$LOOPBACK:$SCRATCH/remote/up.$mode"
	expect_rc "$mode upload" 0
	expect_eq "$mode upload: sha256" "$(sha256_of "$SCRATCH/remote/up.$mode" 2>/dev/null)" "$up_want"
	scp_run $flag "$WS_LOGIN@$LOOPBACK:$SCRATCH/remote/src.bin" "$SCRATCH/local/down.$mode"
	expect_rc "$mode download" 0
	expect_eq "$mode download: sha256" "$(sha256_of "$SCRATCH/local/down.$mode" 2>/dev/null)" "$down_want"
	# A missing remote file: scp fails with the remote error, exit 1.
	scp_run $flag "$WS_LOGIN@$LOOPBACK:$SCRATCH/remote/missing" "$SCRATCH/local/missing.$mode"
	expect_rc "$mode missing file" 1
	grep -q "No such file or directory" "$SCRATCH/ssh.err" ||
		fail "$mode missing file: no 'No such file or directory': $(head -c 300 "$SCRATCH/ssh.err")"
done

#	regress/ws-sftp.sh: the sftp subsystem (server.sftpBinary run by the workspace):
#	put, get, ls, rename, mkdir/rm, and resumed transfers (reget, reput).

tid="ws-sftp: put/get/ls/rename and resume with reget/reput"
. "$(dirname "$0")/test-exec.sh"
. "$(dirname "$0")/ws-lib.sh"

[ -x "$SFTP_SERVER" ] || skip "$SFTP_SERVER is not installed (openssh-sftp-server)"
require_cmd sftp
ws_setup

L=$SCRATCH/local
R=$SCRATCH/remote
mkdir -p "$L" "$R"
head -c 3000000 /dev/urandom >"$L/a.bin"
want=$(sha256_of "$L/a.bin")

cat >"$SCRATCH/batch1" <<EOB
lcd $L
cd $R
put a.bin
mkdir sub
ls -1
rename a.bin sub/b.bin
ls -1 sub
get sub/b.bin b.copy
rm sub/b.bin
rmdir sub
EOB
sftp_batch "$SCRATCH/batch1"
expect_rc "sftp batch" 0
expect_eq "get: sha256 of the copy" "$(sha256_of "$L/b.copy" 2>/dev/null)" "$want"
# ls output: the batch echoes each command ("sftp> ls -1"), then the names.
ls1=$(sed -n '/^sftp> ls -1$/,/^sftp> rename/p' "$SCRATCH/ssh.out" | grep -v '^sftp>' | tr '\n' ' ')
expect_eq "ls -1 after put and mkdir" "$ls1" "a.bin sub "
ls2=$(sed -n '/^sftp> ls -1 sub$/,/^sftp> get/p' "$SCRATCH/ssh.out" | grep -v '^sftp>' | tr '\n' ' ')
expect_eq "ls -1 sub after rename" "$ls2" "sub/b.bin "
[ -e "$R/a.bin" ] && fail "rename: $R/a.bin still exists"
[ -e "$R/sub" ] && fail "rm/rmdir: $R/sub still exists"

# Resume: each partial file is a MiB of zeros, unlike its source's first MiB.
# A resumed transfer keeps those bytes and appends the rest; a full one would not.
head -c 4194304 /dev/urandom >"$R/big.bin"
head -c 1048576 /dev/zero >"$L/big.part"
cp "$L/big.part" "$R/up.part"
tail -c +1048577 "$R/big.bin" >"$SCRATCH/tail.bin"
head -c 1048576 /dev/urandom | cat - "$SCRATCH/tail.bin" >"$L/up.src"
resumed=$(cat "$L/big.part" "$SCRATCH/tail.bin" | sha256sum | awk '{ print $1 }')
cat >"$SCRATCH/batch2" <<EOB
lcd $L
cd $R
reget big.bin big.part
reput up.src up.part
EOB
sftp_batch "$SCRATCH/batch2"
expect_rc "sftp reget/reput" 0
expect_eq "reget: sha256 of the resumed download" "$(sha256_of "$L/big.part")" "$resumed"
expect_eq "reput: sha256 of the resumed upload" "$(sha256_of "$R/up.part")" "$resumed"

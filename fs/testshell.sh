# The script user/testshell runs with sh -x; its output must equal
# /testshell.key: as in the classic JOS shell, each line but a comment
# (a blank one too) is echoed as "# LINE" before its output.
# Arguments, quoting, comments, < > | ; and &.
echo hello world
echo "quoted   spaces" 'single  quotes' mid"dle"word  # a comment
echo -n no newline; echo ; echo after
echo one > /tsh.out
cat /tsh.out

cat < /tsh.out | num
cat /lorem | grep -c the
echo a b c | cat | wc
mkdir /tshdir ; touch /tshdir/f
ls -lF /tshdir
rm /tshdir/f ; rm /tshdir ; rm /tsh.out
ls -d /bin /motd
num < /motd > /tsh.num ; cat /tsh.num ; rm /tsh.num
echo in the background &

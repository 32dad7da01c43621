#!/bin/sh
# Runs a daemon on Debian's stock /etc/syslog-ng/syslog-ng.conf inside a private mount
# namespace (start it with `unshare -m --propagation private`): /var/log and /dev are fresh
# tmpfs mounts there, so nothing of the host's logs or /dev/log is touched. Sends one marker
# per routing rule to /dev/log (and one to the kernel log when /dev/kmsg exists), waits for
# the last one, stops the daemon and writes "FILE: MARKER" lines for every marker found
# into OUT/routing.txt, plus OUT/modes.txt (mode and group of each file).
#
# usage: run-in-namespace.sh OUT DAEMON [ARGS...]   (DAEMON gets -F -f CONF -R -p -c added)
set -e
out=$1; shift
mount -t tmpfs none /var/log
mount -t tmpfs -o mode=755 none /dev
mknod -m 666 /dev/null c 1 3
[ -n "$KMSG" ] && mknod -m 644 /dev/kmsg c 1 11
"$@" -F -f /etc/syslog-ng/syslog-ng.conf -R "$out/persist" -p "$out/pid" -c "$out/ctl" \
    > "$out/stdout" 2> "$out/stderr" &
pid=$!
i=0
while [ ! -S /dev/log ]; do
    i=$((i + 1)); [ $i -gt 300 ] && { echo "no /dev/log" >&2; kill $pid; exit 1; }
    sleep 0.1
done
tag=marker-$$
for pri in auth.info authpriv.notice cron.info daemon.info daemon.debug kern.warning lpr.info \
    mail.info mail.err news.crit news.err news.notice user.info user.debug uucp.info \
    local0.info local2.info local7.err syslog.info; do
    logger -p "$pri" "$tag $pri"
done
[ -n "$KMSG" ] && echo "<4>$tag kernel.ring" > /dev/kmsg
logger -p user.notice "$tag last"
i=0
until grep -q "$tag last" /var/log/syslog 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 300 ] && break
    sleep 0.1
done
kill $pid; wait $pid || true
cd /var/log
: > "$out/routing.txt"
for f in $(find . -type f | sort); do
    grep -o "$tag .*" "$f" | sed "s|^$tag |${f#./}: |" >> "$out/routing.txt" || true
    stat -c "${f#./} %a %G" "$f" >> "$out/modes.txt"
done
# Two sources: the kernel's and /dev/log's messages may interleave either way.
sort -o "$out/routing.txt" "$out/routing.txt"

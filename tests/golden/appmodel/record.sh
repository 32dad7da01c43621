#!/bin/sh
# Re-records the expected output of each case with syslog-ng 3.38 (syslog-ng-core and
# syslog-ng-scl installed): CASE.conf with SOCK and OUT replaced, CASE.in sent one datagram
# per line, CASE.out what syslog-ng wrote (a message an application's parser refuses
# after its filter took it is dropped, as 3.38 does: so the last line is a marker).
set -e
here=$(cd "$(dirname "$0")" && pwd)
for case in ${*:-own-apps scl-apps}; do
    dir=$(mktemp -d)
    sed "s|SOCK|$dir/log.sock|; s|OUT|$dir/out|" "$here/$case.conf" > "$dir/c.conf"
    syslog-ng -F -f "$dir/c.conf" -R "$dir/p" -p "$dir/pid" -c "$dir/ctl" --no-caps &
    while [ ! -S "$dir/log.sock" ]; do sleep 0.1; done
    python3 "$here/send.py" "$dir/log.sock" "$here/$case.in"
    # Every case ends with "end of input", which no application takes.
    until grep -q "end of input" "$dir/out" 2>/dev/null; do sleep 0.1; done
    kill $!; wait $! || true
    cp "$dir/out" "$here/$case.out"
    rm -rf "$dir"
done

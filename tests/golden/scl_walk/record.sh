#!/bin/sh
# Re-records what syslog-ng 3.38 says of every block of the installed SCL (syslog-ng-core
# and syslog-ng-scl installed, /usr/share/syslog-ng/include/scl): gen.py writes one
# minimal config per case into configs/ and lists them in cases.tsv; each is checked with
# `syslog-ng -s -f test.conf` (run in a temp dir, so a location reads test.conf:L:C) and
# outcomes.tsv gets: dir, kind, block, config, rc, the first line syslog-ng printed (its
# timestamp cut off, tabs made spaces; "-" when it printed nothing). scl.sha256 is what
# the outcomes are of: /etc/syslog-ng/scl.conf and every file of the SCL (the test skips,
# saying why, where the installed SCL is another).
set -e
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/gen.py" "$here"
{ sha256sum /etc/syslog-ng/scl.conf; find /usr/share/syslog-ng/include/scl -type f | sort | xargs sha256sum; } \
    > "$here/scl.sha256"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$here/outcomes.tsv"
printf '# dir\tkind\tblock\tconfig\trc\tmessage\n' > "$out"
grep -v '^#' "$here/cases.tsv" | while IFS="$(printf '\t')" read -r dir kind block conf; do
    cp "$here/configs/$conf" "$tmp/test.conf"
    rc=0
    (cd "$tmp" && syslog-ng -s -f test.conf) > "$tmp/out" 2>&1 || rc=$?
    msg=$(grep -v '^\s*$' "$tmp/out" | head -n 1 \
        | sed -e 's/^\[[0-9T:.+-]*\] //' -e "s|$tmp/||g" | tr '\t' ' ')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$dir" "$kind" "$block" "$conf" "$rc" "${msg:--}" >> "$out"
done

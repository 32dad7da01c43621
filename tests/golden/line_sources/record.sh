#!/usr/bin/env bash
# Records expected/ by running syslog-ng 3.38 on input.txt through the file(), pipe() and
# stdin() sources of sources.conf and stdin.conf. Needs syslog-ng; the Rust test
# (tests/runtime_files.rs) only reads the results.
#
# The local host name becomes @HOST@ (the HOST of messages from local sources). In the default
# file format, lines without a stamp of their own carry the time they were read: that date is
# replaced by @NOW@ (the test checks its shape and the rest of the line byte for byte).
set -euo pipefail
cd "$(dirname "$0")"
host=$(hostname -s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # config, then syslog-ng's standard input
  # exec: `run ... &` then kill must reach syslog-ng itself, not a subshell.
  sed "s|@DIR@|$work|g" "$1" > "$work/syslog-ng.conf"
  exec syslog-ng -F --no-caps -f "$work/syslog-ng.conf" -R "$work/persist" -c "$work/ctl" \
    -p "$work/pid" "${@:2}"
}

for n in def keep np opts; do cp input.txt "$work/in_$n.log"; done
cp small.txt "$work/in_small.log"
run sources.conf < /dev/null & pid=$!
for _ in $(seq 50); do [[ -p "$work/fifo" ]] && break; sleep 0.1; done
cat input.txt > "$work/fifo"
sleep 2
kill "$pid"; wait "$pid" || true
cat input.txt | run stdin.conf

mkdir -p expected
for f in def keep np opts small pipe stdin; do
  sed "s/^$host|/@HOST@|/" "$work/out_$f.txt" > "expected/$f.txt"
done
now=$(date +'%b %e')
sed -E "s/^(... .. ..:..:..) $host /\\1 @HOST@ /; s/^$now ..:..:.. /@NOW@ /" \
  "$work/out_def_std.txt" > expected/def_std.txt
# Lines with their own stamp keep it (10:00:00 in input.txt).
sed -i -E "s/^@NOW@ (@HOST@ (prog\\[12\\]|prog:|kernel: \\[|prog2:))/Nov 24 10:00:00 \\1/" \
  expected/def_std.txt
{ echo "hostname=$host"; syslog-ng --version | head -1; } > expected/meta.txt

#!/usr/bin/env bash
# Re-records the syslog-ng goldens of this corpus. Needs syslog-ng 3.38 installed
# (Debian 12: apt-get install syslog-ng-core syslog-ng-mod-python); the test suite does NOT
# run this script and does not need syslog-ng.
#
#   valid/NAME.conf   -> syslog-ng -s must exit 0; valid/NAME.conf.preprocessed is
#                        `syslog-ng --preprocess-into=NAME.conf.preprocessed -f NAME.conf`
#   errors/NAME.conf  -> errors/NAME.syslog-ng.txt
#   quirks/NAME.conf  -> quirks/NAME.syslog-ng.txt, and NAME.conf.preprocessed when -s passes
#
# A .syslog-ng.txt holds one or more runs. Each run is a line `exit=N`, a line
# `command=...`, then syslog-ng's stderr verbatim (timestamps included). The first run is
# always `syslog-ng -s -f NAME.conf`. When that exits 0, a second run starts syslog-ng for
# real in the foreground (-F) with its state files in a temporary directory, and stops it
# with `timeout` after 5 seconds (exit=124 then means "started and kept running").
#
# Every command runs inside the file's own directory with the bare file name, so paths in
# the output are relative, and with HOME=/root (valid/pragmas-and-defines.conf uses HOME).
set -euo pipefail
cd "$(dirname "$0")"
export HOME=/root
syslog-ng --version | head -2

run_s() {  # $1 = conf file; prints one run
  local rc=0 err
  err=$(syslog-ng -s -f "$1" 2>&1 >/dev/null) || rc=$?
  printf 'exit=%s\ncommand=syslog-ng -s -f %s\n%s\n' "$rc" "$1" "$err"
  return $rc
}

run_f() {  # $1 = conf file; prints one run
  local rc=0 err tmp
  tmp=$(mktemp -d /tmp/sluice-corpus-record.XXXXXX)
  err=$(timeout 5 syslog-ng -F -f "$1" -R "$tmp/persist" -p "$tmp/pid" -c "$tmp/ctl" 2>&1 >/dev/null </dev/null) || rc=$?
  rm -rf "$tmp"
  printf 'exit=%s\ncommand=timeout 5 syslog-ng -F -f %s -R TMP/persist -p TMP/pid -c TMP/ctl\n%s\n' "$rc" "$1" "$err"
}

( cd valid
  for f in *.conf; do
    syslog-ng -s -f "$f" || { echo "valid/$f: syslog-ng -s failed" >&2; exit 1; }
    syslog-ng --preprocess-into="$f.preprocessed" -f "$f"
    echo "valid/$f ok"
  done )

for dir in errors quirks; do
  ( cd "$dir"
    for f in *.conf; do
      out="${f%.conf}.syslog-ng.txt"
      if run_s "$f" > "$out"; then
        run_f "$f" >> "$out"
        if [[ $dir == quirks ]]; then
          syslog-ng --preprocess-into="$f.preprocessed" -f "$f" 2>/dev/null || true
        fi
      fi
      echo "$dir/$f: $(head -1 "$out")"
    done )
done

# Every errors/NAME.conf needs a hand-written NAME.expect (see README.md).
( cd errors
  for f in *.conf; do
    [[ -f "${f%.conf}.expect" ]] || { echo "errors/${f%.conf}.expect missing" >&2; exit 1; }
  done )

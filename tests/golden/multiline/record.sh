#!/usr/bin/env bash
# Records expected/ by running syslog-ng 3.38 on indented.txt, regexp.txt and suffix.txt
# through the multi-line file() and pipe() sources of sources.conf and through stdin() in
# each mode (stdin.conf). Needs syslog-ng; the Rust test (tests/runtime_multiline.rs) only
# reads the results. Also records that 3.38's socket sources refuse multi-line-mode()
# (expected/socket_refused.txt: the exit code and the place syslog-ng points at).
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # config, then syslog-ng's standard input (exec: $! of `run ... &` is syslog-ng)
  exec syslog-ng -F --no-caps -f "$1" -R "$work/persist" -c "$work/ctl" -p "$work/pid" "${@:2}"
}

for n in ind ind_parsed ind_nml ind_small ind_wait; do cp indented.txt "$work/in_$n.log"; done
for n in re pg garbage_only; do cp regexp.txt "$work/in_$n.log"; done
for n in ps mbox; do cp suffix.txt "$work/in_$n.log"; done
cp flush.txt "$work/in_flush.log"
sed "s|@DIR@|$work|g" sources.conf > "$work/sources.conf"
run "$work/sources.conf" < /dev/null & pid=$!
for _ in $(seq 50); do [[ -p "$work/fifo" ]] && break; sleep 0.1; done
cat indented.txt > "$work/fifo"
# multi-line-timeout(1): the partial messages go out after a second or so.
sleep 4
kill "$pid"; wait "$pid" || true

mkdir -p expected
for f in ind ind_parsed ind_nml ind_small ind_wait re pg garbage_only ps mbox flush pipe; do
  touch "$work/out_$f.txt"
  cp "$work/out_$f.txt" "expected/$f.txt"
done

stdin_case() { # name, input, options
  sed "s|@DIR@|$work|g; s|@OPTIONS@|$3|" stdin.conf > "$work/stdin.conf"
  rm -f "$work/out.txt"
  cat "$2" | run "$work/stdin.conf"
  cp "$work/out.txt" "expected/stdin_$1.txt"
}
stdin_case ind indented.txt 'multi-line-mode(indented)'
stdin_case re regexp.txt 'multi-line-mode(regexp) multi-line-prefix("^[0-9]{4}-[0-9]{2}-[0-9]{2} ")'
stdin_case pg regexp.txt 'multi-line-mode(prefix-garbage) multi-line-prefix("^[0-9]{4}-[0-9]{2}-[0-9]{2} ") multi-line-garbage(" -- end --")'
stdin_case flush flush.txt 'multi-line-mode(indented)'
stdin_case ps suffix.txt 'multi-line-mode(prefix-suffix) multi-line-prefix("^From ") multi-line-suffix("END OF MAIL")'

# A stop in the middle of a message: the saved position is the message's start, so the next
# run reads it again, whole (restart.conf; restart.txt is the file before the stop, then
# restart_more.txt is appended).
rm -rf "$work/persist"
sed "s|@DIR@|$work|g" restart.conf > "$work/restart.conf"
cp restart.txt "$work/in_restart.log"
run "$work/restart.conf" < /dev/null & pid=$!
sleep 2
kill "$pid"; wait "$pid" || true
cat restart_more.txt >> "$work/in_restart.log"
run "$work/restart.conf" < /dev/null & pid=$!
sleep 2
kill "$pid"; wait "$pid" || true
cp "$work/out_restart.txt" expected/restart.txt

{
  for d in "tcp(port(25514)" "network(port(25514)" "syslog(port(25514)" "unix-stream(\"/tmp/sluice-ml.sock\""; do
    printf '@version: 3.38\nsource s { %s multi-line-mode(indented)); };\nlog { source(s); };\n' \
      "$d" > "$work/socket.conf"
    rc=0
    syslog-ng -s -f "$work/socket.conf" 2> "$work/err" || rc=$?
    where=$(grep -o 'socket.conf:[0-9:-]*' "$work/err" | head -1)
    echo "${d%%(*} rc=$rc at=$where"
  done
} > expected/socket_refused.txt
syslog-ng --version | head -1 > expected/meta.txt

#!/usr/bin/env bash
# Python plugins under sluice and syslog-ng 3.38, same configs, driven by loggen (200-byte
# messages, 1 connection): tcp -> trivial Python destination (plain and batch mode), and
# tcp -> Python parser -> file. Prints msg/s, messages sent/written, peak RSS and the ratio.
# Needs syslog-ng-core and syslog-ng-mod-python:
#   apt-get install -y syslog-ng-core syslog-ng-mod-python
# Usage: bench/python.sh [SECONDS]   (default 10 per run)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v loggen >/dev/null || { echo "loggen not found: apt-get install -y syslog-ng-core"; exit 2; }
cargo build --release --quiet --bin sluice
sluice=target/release/sluice
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source bench/lib.sh

# run CONF NAME -> prints "rate count lines rss_kb"
run() {
  local conf=$1 name=$2 port out pid
  port=$(free_port); out="$work/$name.out"; rm -f "$out"
  export BENCH_PORT=$port BENCH_OUT=$out
  if [[ $name == sluice ]]; then
    "$sluice" -F -f "$conf" -R "$work/s.persist" -c "$work/s.ctl" -p "$work/s.pid" 2>"$work/$name.err" &
  else
    syslog-ng -F -f "$conf" -R "$work/n.persist" -c "$work/n.ctl" -p "$work/n.pid" 2>"$work/$name.err" &
  fi
  pid=$!
  if ! wait_port "$port"; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; echo "0 0 0 0"; return; fi
  local lg rate count
  lg=$(loggen -i -S -s 200 -r 100000000 -I "$secs" 127.0.0.1 "$port" 2>&1 || true)
  rate=$(sed -n 's/.*average rate = \([0-9.]*\) msg\/sec.*/\1/p' <<<"$lg" | tail -1)
  count=$(sed -n 's/.*count=\([0-9]*\).*/\1/p' <<<"$lg" | tail -1)
  local lines=0
  for _ in $(seq 1200); do
    lines=$(wc -l <"$out" 2>/dev/null || echo 0)
    [[ $lines -ge ${count:-0} ]] && break
    sleep 0.05
  done
  local rss; rss=$(peak_rss_kb "$pid")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  echo "${rate:-0} ${count:-0} $lines $rss"
}

printf '%-14s %-10s %10s %10s %10s %10s %s\n' scenario daemon msg/s sent written peakRSS ratio
for s in dest-plain dest-batch parser; do
  conf=bench/python-$s.conf
  [[ $s == parser ]] || conf=bench/python-$s.conf
  read -r nr nc nl nrss < <(run "$conf" syslog-ng)
  printf '%-14s %-10s %10.0f %10s %10s %8sKB\n' "$s" syslog-ng "$nr" "$nc" "$nl" "$nrss"
  read -r sr sc sl srss < <(run "$conf" sluice)
  ratio=$(python3 -c "print(f'{$sr/$nr:.2f}x syslog-ng')" 2>/dev/null || echo -)
  printf '%-14s %-10s %10.0f %10s %10s %8sKB %s\n' "$s" sluice "$sr" "$sc" "$sl" "$srss" "$ratio"
done

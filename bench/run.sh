#!/usr/bin/env bash
# Runs the same syslog-ng config (bench/tcp-to-file.conf: tcp -> file, flow-control on) under
# sluice and under syslog-ng 3.38, driven by loggen (200-byte messages, 1 and 4 connections),
# and prints msg/s for both, the ratio, peak RSS, and the ceiling: loggen into a sink that
# only reads and discards (bench/sink.rs). Needs syslog-ng-core (which brings loggen):
#   apt-get install -y syslog-ng-core
# Usage: bench/run.sh [SECONDS]   (default 10 per run)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v loggen >/dev/null || { echo "loggen not found: apt-get install -y syslog-ng-core"; exit 2; }
cargo build --release --quiet --bin sluice --example bench_sink
sluice=target/release/sluice
sink=target/release/examples/bench_sink
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source bench/lib.sh

# loggen PORT CONNS -> prints "rate count"
run_loggen() {
  local out
  out=$(loggen -i -S -s 200 -r 100000000 -I "$secs" --active-connections="$2" 127.0.0.1 "$1" 2>&1 || true)
  local rate count
  rate=$(sed -n 's/.*average rate = \([0-9.]*\) msg\/sec.*/\1/p' <<<"$out" | tail -1)
  count=$(sed -n 's/.*count=\([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  echo "${rate:-0} ${count:-0}"
}

# daemon NAME CONNS -> prints "rate count lines rss_kb"
run_daemon() {
  local name=$1 conns=$2 port out pid
  port=$(free_port); out="$work/$name-$conns.log"; rm -f "$out"
  export BENCH_PORT=$port BENCH_OUT=$out
  if [[ $name == sluice ]]; then
    "$sluice" -F -f bench/tcp-to-file.conf -R "$work/s.persist" -c "$work/s.ctl" -p "$work/s.pid" 2>"$work/$name.err" &
  else
    syslog-ng -F -f bench/tcp-to-file.conf -R "$work/n.persist" -c "$work/n.ctl" -p "$work/n.pid" 2>"$work/$name.err" &
  fi
  pid=$!
  if ! wait_port "$port"; then
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    echo "0 0 0 0"; return
  fi
  read -r rate count < <(run_loggen "$port" "$conns")
  # Wait until everything sent is in the file (flow control: nothing may be lost).
  local lines=0
  for _ in $(seq 600); do
    lines=$(wc -l <"$out" 2>/dev/null || echo 0)
    [[ $lines -ge $count ]] && break
    sleep 0.05
  done
  local rss; rss=$(peak_rss_kb "$pid")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  echo "$rate $count $lines $rss"
}

printf '%-6s %-10s %12s %12s %12s %10s %s\n' conns daemon msg/s sent written peakRSS ratio
for conns in 1 4; do
  port=$(free_port)
  "$sink" "$port" >"$work/sink.out" & sinkpid=$!
  wait_port "$port"
  read -r ceil_rate ceil_count < <(run_loggen "$port" "$conns")
  sleep 0.5; kill "$sinkpid" 2>/dev/null; wait "$sinkpid" 2>/dev/null || true
  printf '%-6s %-10s %12.0f %12s %12s %10s\n' "$conns" ceiling "$ceil_rate" "$ceil_count" "$(tail -1 "$work/sink.out" | sed 's/lines=//')" -
  read -r ng_rate ng_count ng_lines ng_rss < <(run_daemon syslog-ng "$conns")
  printf '%-6s %-10s %12.0f %12s %12s %8sKB\n' "$conns" syslog-ng "$ng_rate" "$ng_count" "$ng_lines" "$ng_rss"
  read -r sl_rate sl_count sl_lines sl_rss < <(run_daemon sluice "$conns")
  if [[ $sl_count == 0 ]]; then
    printf '%-6s %-10s %12s %12s %12s %10s %s\n' "$conns" sluice n/a - - - "(no message path yet, or it failed: see $work/sluice.err)"
  else
    ratio=$(python3 -c "print(f'{$sl_rate/$ng_rate:.2f}x syslog-ng, {100*$sl_rate/$ceil_rate:.0f}% of ceiling')" 2>/dev/null || echo -)
    printf '%-6s %-10s %12.0f %12s %12s %8sKB %s\n' "$conns" sluice "$sl_rate" "$sl_count" "$sl_lines" "$sl_rss" "$ratio"
  fi
done

#!/usr/bin/env bash
# Reloads sluice every RELOAD_EVERY seconds while loggen sends a steady TCP and a steady UDP
# stream (RATE msg/s each) through bench/tcp-udp-to-file.conf, then checks that every message
# loggen sent is in the output file: a reload must lose nothing. Prints sent, written and the
# number of reloads. Needs loggen (apt-get install -y syslog-ng-core).
# Usage: bench/reload-under-load.sh [SECONDS] [RATE] [RELOAD_EVERY]   (default 10 20000 1)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}; rate=${2:-20000}; every=${3:-1}
command -v loggen >/dev/null || { echo "loggen not found: apt-get install -y syslog-ng-core"; exit 2; }
cargo build --release --quiet --bin sluice --bin sluice-ctl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/lib.sh
export BENCH_PORT BENCH_UDP_PORT BENCH_OUT
BENCH_PORT=$(free_port); BENCH_UDP_PORT=$(free_port); BENCH_OUT=$work/out.log
target/release/sluice -F -f bench/tcp-udp-to-file.conf -R "$work/p" -c "$work/ctl" -p "$work/pid" 2>"$work/err" &
pid=$!
wait_port "$BENCH_PORT"
loggen -i -S -s 200 -r "$rate" -I "$secs" 127.0.0.1 "$BENCH_PORT" >"$work/tcp.out" 2>&1 &
tcp=$!
loggen -i -D -s 200 -r "$rate" -I "$secs" 127.0.0.1 "$BENCH_UDP_PORT" >"$work/udp.out" 2>&1 &
udp=$!
reloads=0
while kill -0 "$tcp" 2>/dev/null || kill -0 "$udp" 2>/dev/null; do
  sleep "$every"
  target/release/sluice-ctl -c "$work/ctl" reload >/dev/null && reloads=$((reloads + 1))
done
wait "$tcp" "$udp" || true
sent_tcp=$(sed -n 's/.*count=\([0-9]*\).*/\1/p' "$work/tcp.out" | tail -1)
sent_udp=$(sed -n 's/.*count=\([0-9]*\).*/\1/p' "$work/udp.out" | tail -1)
sent=$((sent_tcp + sent_udp))
for _ in $(seq 200); do
  written=$(wc -l <"$BENCH_OUT")
  [[ $written -ge $sent ]] && break
  sleep 0.05
done
kill "$pid"; wait "$pid" 2>/dev/null || true
echo "sent tcp=$sent_tcp udp=$sent_udp total=$sent written=$written reloads=$reloads"
[[ $written -eq $sent ]] && echo "nothing lost" || { echo "LOST $((sent - written))"; exit 1; }

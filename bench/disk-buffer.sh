#!/usr/bin/env bash
# tcp -> file through disk-buffer(reliable(yes)) and disk-buffer(reliable(no)), the same config
# (bench/tcp-to-file-disk.conf) under sluice and syslog-ng 3.38, driven by loggen (200-byte
# messages, CONNECTIONS connections, SECONDS per run). Prints msg/s, sent, written, lost, peak RSS, the
# buffer's peak disk use and the ratios (to syslog-ng, and to sluice's memory queue, measured
# first in the same run). Needs syslog-ng-core (which brings loggen).
# Usage: bench/disk-buffer.sh [SECONDS [CONNECTIONS]]   (default 10 s, 1 connection)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-1}
command -v loggen >/dev/null || { echo "loggen not found: apt-get install -y syslog-ng-core"; exit 2; }
cargo build --release --quiet --bin sluice
sluice=target/release/sluice
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/lib.sh

# run NAME RELIABLE [CONF] -> prints "rate sent written rss_kb disk_kb"
run() {
  local name=$1 conf=${3:-bench/tcp-to-file-disk.conf} port out pid
  port=$(free_port); out="$work/$name.log"; rm -rf "$out" "$work/buf" "$work"/*.persist*
  mkdir -p "$work/buf"
  export BENCH_PORT=$port BENCH_OUT=$out BENCH_RELIABLE=$2 BENCH_DIR=$work/buf
  if [[ $name == sluice ]]; then
    "$sluice" -F -f "$conf" -R "$work/s.persist" -c "$work/s.ctl" -p "$work/s.pid" 2>"$work/$name.err" &
  else
    syslog-ng -F -f "$conf" -R "$work/n.persist" -c "$work/n.ctl" -p "$work/n.pid" 2>"$work/$name.err" &
  fi
  pid=$!
  wait_port "$port" || { kill "$pid"; echo "0 0 0 0 0"; return; }
  local peak=0
  ( while kill -0 "$pid" 2>/dev/null; do du -sk "$work/buf" 2>/dev/null | cut -f1; sleep 0.2; done ) >"$work/du" &
  local du=$!
  local lg rate sent
  lg=$(loggen -i -S -s 200 -r 100000000 -I "$secs" --active-connections="$conns" 127.0.0.1 "$port" 2>&1 || true)
  rate=$(sed -n 's/.*average rate = \([0-9.]*\) msg\/sec.*/\1/p' <<<"$lg" | tail -1)
  sent=$(sed -n 's/.*count=\([0-9]*\).*/\1/p' <<<"$lg" | tail -1)
  local lines=0
  for _ in $(seq 1200); do
    lines=$(wc -l <"$out" 2>/dev/null || echo 0)
    [[ $lines -ge ${sent:-0} ]] && break
    sleep 0.05
  done
  local rss; rss=$(peak_rss_kb "$pid")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  wait "$du" 2>/dev/null || true
  peak=$(sort -n "$work/du" | tail -1)
  echo "${rate:-0} ${sent:-0} $lines $rss ${peak:-0}"
}

printf '%-9s %-10s %10s %10s %10s %6s %9s %9s %s\n' reliable daemon msg/s sent written lost peakRSS peakDisk ratio
# sluice's own memory-queue figure in the same run (bench/tcp-to-file.conf), for reliable(no).
read -r mr ms mw mrss _ < <(run sluice no bench/tcp-to-file.conf)
printf '%-9s %-10s %10.0f %10s %10s %6s %7sKB %9s\n' memory sluice "$mr" "$ms" "$mw" $((ms - mw)) "$mrss" -
for rel in yes no; do
  read -r nr ns nw nrss ndisk < <(run syslog-ng "$rel")
  printf '%-9s %-10s %10.0f %10s %10s %6s %7sKB %7sKB\n' "$rel" syslog-ng "$nr" "$ns" "$nw" $((ns - nw)) "$nrss" "$ndisk"
  read -r sr ss sw srss sdisk < <(run sluice "$rel")
  ratio=$(python3 -c "print(f'{$sr/$nr:.2f}x syslog-ng, {100*$sr/$mr:.0f}% of sluice memory')" 2>/dev/null || echo -)
  printf '%-9s %-10s %10.0f %10s %10s %6s %7sKB %7sKB %s\n' "$rel" sluice "$sr" "$ss" "$sw" $((ss - sw)) "$srss" "$sdisk" "$ratio"
done

#!/usr/bin/env bash
# Python sources under sluice and syslog-ng 3.38, same configs: a python-fetcher() that
# returns N generated messages as fast as it can, and a python() source whose run() posts N
# messages, each into a file. Prints msg/s (N / seconds from the daemon's start until the
# file holds all N lines: start-up included, the same for both), peak RSS and the ratio.
# Needs syslog-ng-core and syslog-ng-mod-python.
# Usage: bench/python-sources.sh [N]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
command -v syslog-ng >/dev/null || { echo "syslog-ng not found: apt-get install -y syslog-ng-core syslog-ng-mod-python"; exit 2; }
cargo build --release --quiet --bin sluice
sluice=target/release/sluice
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/lib.sh

# run CONF NAME -> prints "rate lines rss_kb"
run() {
  local conf=$1 name=$2 out="$work/$2.out" pid start lines=0
  rm -rf "$out" "$work"/*.persist*
  export BENCH_N=$n BENCH_OUT=$out
  start=$(date +%s.%N)
  if [[ $name == sluice ]]; then
    "$sluice" -F -f "$conf" -R "$work/s.persist" -c "$work/s.ctl" -p "$work/s.pid" 2>"$work/$name.err" &
  else
    syslog-ng -F -f "$conf" -R "$work/n.persist" -c "$work/n.ctl" -p "$work/n.pid" 2>"$work/$name.err" &
  fi
  pid=$!
  for _ in $(seq 2400); do
    lines=0; [[ -f $out ]] && lines=$(wc -l <"$out")
    [[ $lines -ge $n ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  local end rss; end=$(date +%s.%N); rss=$(peak_rss_kb "$pid")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  python3 -c "print(f'{$lines/($end-$start):.0f} $lines $rss')"
}

printf '%-10s %-10s %10s %10s %10s %s\n' scenario daemon msg/s written peakRSS ratio
for s in fetcher source; do
  conf=bench/python-$s.conf
  read -r nr nl nrss < <(run "$conf" syslog-ng)
  printf '%-10s %-10s %10s %10s %8sKB\n' "$s" syslog-ng "$nr" "$nl" "$nrss"
  read -r sr sl srss < <(run "$conf" sluice)
  ratio=$(python3 -c "print(f'{$sr/$nr:.2f}x syslog-ng')" 2>/dev/null || echo -)
  printf '%-10s %-10s %10s %10s %8sKB %s\n' "$s" sluice "$sr" "$sl" "$srss" "$ratio"
done

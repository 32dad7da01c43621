#!/bin/sh
# Re-records syslog-ng 3.38's stats rows for drivers.conf (and python.conf) at each
# stats-level, as tests/ctl_compat.rs compares them. Needs syslog-ng-core,
# syslog-ng-mod-python and loggen. The configs name /tmp/sng/b (and /tmp/sng/c) and ports
# 15601-15612; the test maps both to its own.
set -e
here=$(cd "$(dirname "$0")" && pwd)
d=/tmp/sng/b
mkdir -p $d && cd $d
rm -f src.fifo && mkfifo src.fifo
echo hello > in.log
touch pseudo
for L in 0 1 2 3; do
  sed "s/LEVEL/$L/" "$here/drivers.conf" > b$L.conf
  rm -f persist
  syslog-ng -F -f b$L.conf -R $d/persist -c $d/ctl -p $d/pid > sng$L.log 2>&1 &
  sleep 1.5
  loggen -i -S -n 10 127.0.0.1 15601 >/dev/null 2>&1
  loggen -i -S -n 7 127.0.0.1 15603 >/dev/null 2>&1
  python3 -c "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.sendto(b'<13>Dec  4 01:00:00 h p: udp',('127.0.0.1',15602))"
  sleep 1
  syslog-ng-ctl stats -c ctl | sort > "$here/drivers-level$L.csv"
  syslog-ng-ctl stop -c ctl
  sleep 1
done
# exchanges.txt was written by hand from raw exchanges with the same daemon (a python
# client sending each line on the socket and printing the reply).

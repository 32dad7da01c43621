#!/usr/bin/env bash
# Records the golden outputs in expected/ by running syslog-ng 3.38 on inputs/ for every
# source variant in variants.txt. Needs syslog-ng and python3; the Rust tests
# (tests/message_golden.rs) only read the results.
#
# Each output line is one message: NAME=base64(value) pairs separated by spaces, so any byte
# (NUL, newline, invalid UTF-8) survives. syslog-ng runs with TZ=Europe/Budapest so stamps
# without a zone exercise a zone with DST. The peer is 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")"
export TZ=Europe/Budapest

fields=(PRI FACILITY_NUM LEVEL_NUM HOST FULLHOST HOST_FROM PROGRAM PID MSGID SDATA MSG
        S_UNIXTIME S_USEC S_TZOFFSET R_UNIXTIME R_USEC R_TZOFFSET LEGACY_MSGHDR RAWMSG SOURCEIP)
tmpl=""
for f in "${fields[@]}"; do tmpl+="$f=\$(base64-encode \${$f}) "; done
tmpl="${tmpl% }\\n"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p expected
{
  echo "hostname=$(hostname)"
  echo "tz=$TZ"
  syslog-ng --version | head -1
} > expected/meta.txt

while IFS='|' read -r name input driver opts; do
  name=$(echo "$name" | xargs); input=$(echo "$input" | xargs); driver=$(echo "$driver" | xargs)
  [[ -z "$name" || "$name" == \#* ]] && continue
  work=$(mktemp -d)
  port=$(free_port)
  case "$driver" in
    network) src="network(ip(127.0.0.1) port($port) transport(tcp) $opts)";;
    syslog) src="syslog(ip(127.0.0.1) port($port) transport(tcp) $opts)";;
    unix-stream) src="unix-stream(\"$work/sock\" $opts)";;
  esac
  cat > "$work/syslog-ng.conf" <<CONF
@version: 3.38
options { stats-freq(0); };
source s_in { $src; };
destination d_out { file("$work/out" template("$tmpl")); };
log { source(s_in); destination(d_out); };
CONF
  syslog-ng -F -f "$work/syslog-ng.conf" -R "$work/persist" -p "$work/pid" -c "$work/ctl" \
    --no-caps > "$work/stderr" 2>&1 &
  pid=$!
  # Send the input, then a sentinel, and wait for the sentinel to be written.
  python3 - "$driver" "$port" "$work" "inputs/$input" <<'PY'
import os, socket, sys, time
driver, port, work, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = open(path, "rb").read()
sentinel = b"<13>Jan  1 00:00:00 sentinel SENTINEL: end"
if driver == "syslog":
    data += str(len(sentinel)).encode() + b" " + sentinel
else:
    data += sentinel + b"\n"
for _ in range(100):
    try:
        if driver == "unix-stream":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(work + "/sock")
        else:
            s = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("could not connect")
s.sendall(data); s.close()
import base64
def is_sentinel(line):
    return any(b"SENTINEL" in base64.b64decode(kv.split(b"=", 1)[1]) for kv in line.split(b" "))
for _ in range(200):
    try:
        lines = open(work + "/out", "rb").read().splitlines()
    except FileNotFoundError:
        lines = []
    if any(is_sentinel(l) for l in lines):
        with open(work + "/filtered", "wb") as f:
            for l in lines:
                if not is_sentinel(l):
                    f.write(l + b"\n")
        sys.exit(0)
    time.sleep(0.05)
sys.exit("sentinel not seen")
PY
  [ $? -eq 0 ] || { cat "$work/stderr"; cat "$work/syslog-ng.conf"; }
  kill "$pid"; wait "$pid" || true; cat "$work/stderr" >&2 || true
  mv "$work/filtered" "expected/$name.out"
  echo "$name: $(wc -l < "expected/$name.out") messages"
  rm -rf "$work"
done < variants.txt

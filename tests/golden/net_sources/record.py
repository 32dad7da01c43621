#!/usr/bin/env python3
"""Records expected/NAME.out and expected/NAME.stats by running syslog-ng 3.38 on every case
of cases.txt (tests/runtime_udp.rs and tests/runtime_unix.rs only read the results).

Each input line of inputs*.txt is one datagram (an empty line is an empty datagram) with the
escapes \\n \\r \\0 \\\\ \\xHH; over unix-stream each input is sent followed by a newline
unless it ends with one. The output file uses syslog-ng's default file format; it is
normalized so that the tests can compare it byte for byte: this machine's host name becomes
{HOST}, syslog-ng's pid {PID}, and the received-time stamp of messages without a stamp of
their own {NOW}. NAME.stats holds the source's processed (= received) counter.
"""
import os, re, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))

def unescape(line):
    return line.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1")

def inputs(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return [unescape(l.rstrip("\n").encode("utf-8").decode("latin-1")) for l in f]

def free_port(family):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
    return s.getsockname()[1]

def run(name, driver, input_file, mode, work):
    fam = socket.AF_INET6 if mode == "udp6" else socket.AF_INET
    port = free_port(fam)
    sock = os.path.join(work, "s.sock")
    out = os.path.join(work, "out")
    conf = os.path.join(work, "x.conf")
    src = driver.replace("PORT", str(port)).replace("SOCK", sock)
    with open(conf, "w") as f:
        f.write(f"""@version: 3.38
options {{ use-dns(no); stats-freq(0); }};
source s {{ {src}; }};
destination d {{ file("{out}"); }};
log {{ source(s); destination(d); }};
""")
    ctl = os.path.join(work, "ctl")
    p = subprocess.Popen(["syslog-ng", "-F", "--no-caps", "-f", conf, "-R", work + "/persist",
                          "-c", ctl, "-p", work + "/pid"], stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    data = inputs(input_file)
    if mode.startswith("udp"):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        for d in data:
            s.sendto(d, ("::1" if fam == socket.AF_INET6 else "127.0.0.1", port))
            time.sleep(0.01)
    elif mode == "unix-dgram":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for d in data:
            s.sendto(d, sock)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        s.sendall(b"".join(d if d.endswith(b"\n") else d + b"\n" for d in data))
        s.close()
    for _ in range(100):
        if os.path.exists(out) and b"sentinel" in open(out, "rb").read():
            break
        time.sleep(0.05)
    stats = subprocess.run(["syslog-ng-ctl", "stats", "-c", ctl], capture_output=True).stdout
    p.terminate()
    p.wait()
    text = open(out, "rb").read()
    host = socket.gethostname().split(".")[0].encode()
    lines = []
    for line in text.split(b"\n")[:-1]:
        if re.match(rb"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ", line) and not line.startswith(b"Jan  1 "):
            line = b"{NOW}" + line[15:]
        line = re.sub(rb"syslog-ng\[\d+\]", b"syslog-ng[{PID}]", line)
        line = re.sub(rb"^(\{NOW\}|Jan  1 \d\d:\d\d:\d\d) " + re.escape(host) + rb" ",
                      rb"\1 {HOST} ", line)
        lines.append(line + b"\n")
    with open(os.path.join(HERE, "expected", name + ".out"), "wb") as f:
        f.writelines(lines)
    m = re.search(rb"source;s;;a;processed;(\d+)", stats)
    with open(os.path.join(HERE, "expected", name + ".stats"), "w") as f:
        f.write(f"received={m.group(1).decode() if m else '?'}\n")
    print(name, len(lines), "lines")

def main():
    os.makedirs(os.path.join(HERE, "expected"), exist_ok=True)
    with open(os.path.join(HERE, "cases.txt")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, driver, input_file, mode = [c.strip() for c in line.split("|")]
            with tempfile.TemporaryDirectory() as work:
                run(name, driver, input_file, mode, work)

if __name__ == "__main__":
    sys.exit(main())

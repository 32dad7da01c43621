"""Runs syslog-ng 3.38 on the inputs of this directory and writes expected/ (see record.sh).

The normalisation of the /dev/kmsg and /proc/kmsg runs (normalize_rt) is the one
tests/runtime_kmsg.rs applies to sluice's output: keep the two in step.
"""

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

FIELDS = ["PRI", "HOST", "PROGRAM", "PID", "MSGID", "MSG", "S_UNIXTIME", "S_USEC",
          "S_TZOFFSET", "R_UNIXTIME", "R_USEC", "R_TZOFFSET", "RAWMSG", "LEGACY_MSGHDR",
          "FILE_NAME"]
# One line per message: NAME=base64(value) pairs; DOT is the .linux.* pairs as format-json
# writes them (nested at the dots, the leading dot as `_`).
TEMPLATE = (" ".join(f"{f}=$(base64-encode ${{{f}}})" for f in FIELDS)
            + " DOT=$(base64-encode $(format-json --scope none --key .linux.*))\\n")
# The /dev/kmsg and /proc/kmsg runs: fields that vary are normalised afterwards.
RT_TEMPLATE = ("$PRI|$FACILITY|$LEVEL|$PROGRAM|$PID|$HOST|$MSGHDR$MSG|$FILE_NAME|$SOURCE|"
               "$MSGID|${.linux.timestamp}|$S_UNIXTIME.$S_USEC|$R_UNIXTIME.$R_USEC|"
               "$S_TZOFFSET|$R_TZOFFSET\\n")
SYSTEM_OPTS = 'program-override("kernel") flags(kernel) keep-timestamp(no)'
# What the runtime runs inject into /dev/kmsg (after the marker); one write each.
INJECT = [
    b"<5>@MARK@ plain notice\n",
    b"<4>@MARK@ esc \x01 tab\t backslash\\ byte\xff end\n",
    b"<27>@MARK@ daemon.err\n",
    b"@MARK@ no priority\n",
    b"<13>@MARK@-a first line\n@MARK@-b second line\n",
    b"<190>@MARK@ local7.info\n",
    b"<0>@MARK@ facility 0 from user space\n",
]


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out += {"n": b"\n", "t": b"\t", "r": b"\r", "0": b"\0", "\\": b"\\"}.get(
                n, ("\\" + n).encode())
            i += 2
        else:
            out += c.encode()
            i += 1
    return bytes(out)


def read_cases(path):
    cases = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        name, rec = line.split("|", 1)
        cases.append((name, unescape(rec)))
    return cases


class SyslogNg:
    def __init__(self, work, body):
        self.work = work
        conf = os.path.join(work, "syslog-ng.conf")
        with open(conf, "w") as f:
            f.write("@version: 3.38\noptions { stats-freq(0); };\n" + body)
        self.stderr = open(os.path.join(work, "stderr"), "wb")
        self.proc = subprocess.Popen(
            ["syslog-ng", "-F", "-f", conf, "-R", os.path.join(work, "persist"),
             "-p", os.path.join(work, "pid"), "-c", os.path.join(work, "ctl"), "--no-caps"],
            stdout=self.stderr, stderr=self.stderr)
        wait(lambda: os.path.exists(os.path.join(work, "ctl")), "control socket")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        self.stderr.close()
        err = open(os.path.join(self.work, "stderr"), "rb").read()
        if err:
            sys.stderr.write(err.decode(errors="replace"))


def wait(cond, what, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}")


def lines_of(path):
    try:
        return open(path, "rb").read().splitlines()
    except FileNotFoundError:
        return []


def decode_line(line):
    return {k.decode(): base64.b64decode(v) for k, v in
            (kv.split(b"=", 1) for kv in line.split(b" "))}


def record_parse(name, source, send, cases, framed=True):
    """Runs `source`, lets `send` deliver the cases and a sentinel, writes expected/NAME.out."""
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "out")
        body = (f"source s_in {{ {source.replace('@DIR@', work)}; }};\n"
                f"destination d {{ file(\"{out}\" template(\"{TEMPLATE}\")); }};\n"
                "log { source(s_in); destination(d); };\n")
        sng = SyslogNg(work, body)
        send(work)
        wait(lambda: any(b"SENTINEL" in decode_line(l)["MSG"] for l in lines_of(out)),
             "the sentinel")
        sng.stop()
        got = [l for l in lines_of(out) if b"SENTINEL" not in decode_line(l)["MSG"]]
    if framed and len(got) != len(cases):
        sys.exit(f"{name}: {len(cases)} cases but {len(got)} messages")
    # A file's lines are split by the file's framing (a NUL ends a message too): the test
    # frames the same bytes, so its cases are not named one by one.
    names = [c for c, _ in cases] if framed else ["line"] * len(got)
    with open(f"expected/{name}.out", "wb") as f:
        for case, line in zip(names, got):
            f.write(b"CASE=" + base64.b64encode(case.encode()) + b" " + line + b"\n")
    print(f"{name}: {len(got)} messages")


def send_dgrams(cases):
    def send(work):
        path = os.path.join(work, "sock")
        wait(lambda: os.path.exists(path), "the unix-dgram socket")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for _, rec in cases + [("sentinel", b"6,999,0,-;SENTINEL\n")]:
            s.sendto(rec, path)
        s.close()
    return send


def send_lines(cases):
    def send(work):
        with open(os.path.join(work, "in.log"), "ab") as f:
            for _, rec in cases:
                f.write(rec + b"\n")
            f.write(b"6,999,0,-;SENTINEL\n")
    return send


def normalize_rt(line, marker, host):
    """The placeholders of the /dev/kmsg and /proc/kmsg runs (also in tests/runtime_kmsg.rs)."""
    line = line.replace(marker, "@MARK@")
    f = line.split("|")
    if len(f) == 15:
        if f[5] == host:
            f[5] = "@HOST@"
        # A kernel time padded to 5 digits (uptime under 10000 s) parses as PROGRAM `[` and
        # the rest as MESSAGE (procfile.txt shows it): made the same as an unpadded one.
        padded = re.match(r"^kernel: +\d+\.\d{6}\] (.*)$", f[6])
        if f[4] == "" and padded:
            f[4], f[6] = "@KTIME@", "kernel[@KTIME@]: " + padded.group(1)
        f[4] = re.sub(r"^ *\d+\.\d{6}$", "@KTIME@", f[4])
        f[6] = re.sub(r"\[ *\d+\.\d{6}\]", "[@KTIME@]", f[6])
        if f[9].isdigit():
            f[9] = "@SEQ@"
        if f[10].isdigit():
            f[10] = "@TS@"
        if f[11] == f[12]:
            f[11] = f[12] = "@RECVD@"
        if f[13] == f[14]:
            f[13] = f[14] = "@TZ@"
        return "|".join(f)
    line = re.sub(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ", "@DATE@ ", line)
    line = line.replace(f"@DATE@ {host} ", "@DATE@ @HOST@ ", 1)
    line = re.sub(r"^@DATE@ @HOST@ kernel: +\d+\.\d{6}\] ", "@DATE@ @HOST@ kernel[@KTIME@]: ",
                  line)
    return re.sub(r"\[ *\d+\.\d{6}\]", "[@KTIME@]", line)


def kmsg_write(data):
    fd = os.open("/dev/kmsg", os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def record_runtime(name, path, opts):
    host = socket.gethostname().split(".")[0]
    marker = f"kmsg-golden-{os.getpid()}-{time.time_ns()}"
    with tempfile.TemporaryDirectory() as work:
        out, plain = os.path.join(work, "out"), os.path.join(work, "plain")
        body = (f"source s_kmsg {{ file(\"{path}\" {opts}); }};\n"
                f"destination d {{ file(\"{out}\" template(\"{RT_TEMPLATE}\")); "
                f"file(\"{plain}\"); }};\n"
                "log { source(s_kmsg); destination(d); };\n")
        kmsg_write(f"<5>{marker} before start\n".encode())
        sng = SyslogNg(work, body)
        # Ready once a probe comes through (the device is opened at start, asynchronously).
        n = 0

        def probed():
            nonlocal n
            n += 1
            kmsg_write(f"<5>{marker} probe {n}\n".encode())
            time.sleep(0.2)
            return any(f"{marker} probe".encode() in l for l in lines_of(out))
        wait(probed, "a probe record")
        for rec in INJECT:
            kmsg_write(rec.replace(b"@MARK@", marker.encode()))
        kmsg_write(f"<5>{marker} sentinel\n".encode())
        wait(lambda: all(any(b"sentinel" in l and marker.encode() in l for l in lines_of(p))
                         for p in (out, plain)), "the sentinel")
        sng.stop()
        result = []
        for p in (out, plain):
            for l in lines_of(p):
                t = l.decode("utf-8", errors="surrogateescape")
                if marker in t and f"{marker} probe" not in t:
                    result.append(normalize_rt(t, marker, host))
    with open(f"expected/{name}.txt", "w", encoding="utf-8", errors="surrogateescape") as f:
        for l in result:
            f.write(l + "\n")
    print(f"{name}: {len(result)} lines")


def record_procfile():
    """/proc/kmsg's lines from a regular file with system()'s options: how they parse, also
    with the kernel time padded (uptime under 10000 s), which the live run may not show."""
    host = socket.gethostname().split(".")[0]
    with tempfile.TemporaryDirectory() as work:
        out, plain, src = (os.path.join(work, n) for n in ("out", "plain", "in.log"))
        body = (f"source s_kmsg {{ file(\"{src}\" follow-freq(0.1) {SYSTEM_OPTS}); }};\n"
                f"destination d {{ file(\"{out}\" template(\"{RT_TEMPLATE}\")); "
                f"file(\"{plain}\"); }};\n"
                "log { source(s_kmsg); destination(d); };\n")
        sng = SyslogNg(work, body)
        with open(src, "wb") as f:
            for _, line in read_cases("proc_lines.txt"):
                f.write(line + b"\n")
            f.write(b"<5>[    1.000000] SENTINEL\n")
        wait(lambda: all(any(b"SENTINEL" in l for l in lines_of(p)) for p in (out, plain)),
             "the sentinel")
        sng.stop()
        result = []
        for p in (out, plain):
            for l in lines_of(p):
                if b"SENTINEL" not in l:
                    t = l.decode("utf-8", errors="surrogateescape").replace(src, "@FILE@")
                    t = re.sub(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ", "@DATE@ ", t)
                    f = t.split("|")
                    if len(f) == 15:
                        f[5] = "@HOST@" if f[5] == host else f[5]
                        if f[11] == f[12]:
                            f[11] = f[12] = "@RECVD@"
                        if f[13] == f[14]:
                            f[13] = f[14] = "@TZ@"
                        t = "|".join(f)
                    result.append(t.replace(f"@DATE@ {host} ", "@DATE@ @HOST@ ", 1))
    with open("expected/procfile.txt", "w", encoding="utf-8", errors="surrogateescape") as f:
        for l in result:
            f.write(l + "\n")
    print(f"procfile: {len(result)} lines")


def other_proc_kmsg_readers():
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "/proc/kmsg":
                    return pid
        except OSError:
            continue
    return None


def main():
    version = subprocess.run(["syslog-ng", "--version"], capture_output=True,
                             text=True).stdout.splitlines()[0]
    try:
        ktime = open("/sys/module/printk/parameters/time").read().strip()
    except OSError:
        ktime = "?"
    with open("expected/meta.txt", "w") as f:
        f.write(f"hostname={socket.gethostname().split('.')[0]}\ntz={os.environ.get('TZ')}\n"
                f"{version}\nprintk.time={ktime}\n")
    records = read_cases("records.txt")
    lines = read_cases("lines.txt")
    record_parse("dgram_default", 'unix-dgram("@DIR@/sock" format(linux-kmsg))',
                 send_dgrams(records), records)
    record_parse("dgram_system",
                 'unix-dgram("@DIR@/sock" format(linux-kmsg) program-override("kernel") '
                 'flags(kernel, store-raw-message) keep-timestamp(no))',
                 send_dgrams(records), records)
    record_parse("file_system",
                 f'file("@DIR@/in.log" follow-freq(0.1) format(linux-kmsg) {SYSTEM_OPTS})',
                 send_lines(lines), lines, framed=False)
    record_procfile()
    if os.geteuid() != 0 or not os.access("/dev/kmsg", os.W_OK):
        print("devkmsg, prockmsg: not recorded (needs root and a writable /dev/kmsg)")
        return
    record_runtime("devkmsg", "/dev/kmsg", f"{SYSTEM_OPTS} format(linux-kmsg)")
    reader = other_proc_kmsg_readers()
    if reader:
        print(f"prockmsg: not recorded (process {reader} reads /proc/kmsg)")
        return
    record_runtime("prockmsg", "/proc/kmsg", SYSTEM_OPTS)


main()

#!/usr/bin/env python3
"""Records what syslog-ng 3.38's usertty() writes, for tests/runtime_usertty.rs.

Run through record.sh: it needs root and a private mount namespace, because syslog-ng reads
the utmp file at glibc's fixed path (/var/run/utmp) and this script mounts a tmpfs over /run
to put a made-up one there (nothing outside the namespace sees it).

For each line of scenarios.txt one syslog-ng runs with a TCP source, the scenario's
usertty() and a file() destination after it in the same log path (syslog-ng runs usertty()
in the source's thread, before the file's writer, so once the file has every message the
terminals have theirs). input.txt is sent over one connection. What every terminal
received goes to expected/NAME/TTY.bin, syslog-ng's usertty() messages to errors.txt.
"""
import os, select, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
UTMP = "/var/run/utmp"
# glibc's struct utmp on x86_64: ut_type, ut_pid, ut_line[32], ut_id[4], ut_user[32],
# ut_host[256], ut_exit, ut_session, ut_tv (two int32), ut_addr_v6[4], 20 unused bytes.
UTMP_FMT = "<hxxi32s4s32s256shhiii4i20s"
assert struct.calcsize(UTMP_FMT) == 384


def utmp_entry(ut_type, user, line, n):
    return struct.pack(UTMP_FMT, ut_type, 1000 + n, line.encode(), b"t%d" % n, user.encode(),
                       b"", 0, 0, 0, 1700000000, 0, 0, 0, 0, 0, b"")


def scenarios():
    for line in open(os.path.join(HERE, "scenarios.txt"), encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            yield [c.strip() for c in line.split("|")]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class PtyReader(threading.Thread):
    def __init__(self, master):
        super().__init__(daemon=True)
        self.master, self.data, self.stop = master, bytearray(), False

    def run(self):
        while not self.stop:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.data += os.read(self.master, 65536)
                except OSError:
                    return


def record(name, args, entries, outdir):
    work = tempfile.mkdtemp(prefix="ut", dir="/tmp")
    master = slave = None
    reader = None
    files = {}
    blob = b""
    for n, e in enumerate(entries.split(",")):
        ut_type, user, line = e.split(":", 2)
        if line == "PTY":
            master, slave = os.openpty()
            reader = PtyReader(master)
            reader.start()
            line = os.ttyname(slave)[len("/dev/"):]
            files["pty"] = None
        elif line.startswith("@"):
            path = os.path.join(work, line[1:])
            open(path, "wb").close()
            files[line[1:]] = path
            line = path
        assert len(line) <= 32, line
        blob += utmp_entry(int(ut_type), user, line, n)
    with open(UTMP, "wb") as f:
        f.write(blob)
    port = free_port()
    done = os.path.join(work, "done")
    conf = f"""@version: 3.38
options {{ stats-freq(0); use-dns(no); keep-hostname(yes); }};
source s {{ network(ip(127.0.0.1) port({port}) transport(tcp) flags(syslog-protocol)); }};
destination d_tty {{ usertty({args}); }};
destination d_done {{ file("{done}" template("$MSG\\n")); }};
log {{ source(s); destination(d_tty); destination(d_done); }};
"""
    with open(os.path.join(work, "syslog-ng.conf"), "w") as f:
        f.write(conf)
    stderr = open(os.path.join(work, "stderr"), "wb")
    proc = subprocess.Popen(
        ["syslog-ng", "-F", "-f", f"{work}/syslog-ng.conf", "-R", f"{work}/persist",
         "-p", f"{work}/pid", "-c", f"{work}/ctl", "--no-caps", "-e"],
        stdout=stderr, stderr=stderr, env=dict(os.environ, TZ="UTC"))
    try:
        data = open(os.path.join(HERE, "input.txt"), "rb").read()
        n = data.count(b"\n")
        for _ in range(200):
            try:
                s = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.05)
        s.sendall(data)
        s.close()
        for _ in range(400):
            if os.path.exists(done) and open(done, "rb").read().count(b"\n") >= n:
                break
            time.sleep(0.05)
        else:
            sys.exit(f"{name}: syslog-ng did not write every message")
        time.sleep(0.5)  # let the pty reader drain
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    out = os.path.join(outdir, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for key, path in files.items():
        if path is None:
            reader.stop = True
            reader.join()
            got = bytes(reader.data)
        else:
            got = open(path, "rb").read()
        if got:
            with open(os.path.join(out, key + ".bin"), "wb") as f:
                f.write(got)
    errors = [l for l in open(os.path.join(work, "stderr"), encoding="utf-8", errors="replace")
              if "tty" in l.lower() or "usertty" in l]
    errors = [l.split("] ", 1)[-1].replace(work, "WORK") for l in errors]
    with open(os.path.join(out, "errors.txt"), "w") as f:
        f.writelines(errors)
    for fd in (master, slave):
        if fd is not None:
            os.close(fd)
    shutil.rmtree(work)
    print(f"{name}: {sorted(os.listdir(out))}")


def main():
    if os.path.exists(UTMP) and not os.environ.get("USERTTY_NAMESPACED"):
        sys.exit("run through record.sh (it mounts a private /run first)")
    outdir = os.path.join(HERE, "expected")
    os.makedirs(outdir, exist_ok=True)
    for name, args, entries in scenarios():
        record(name, args, entries, outdir)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Records what syslog-ng 3.38 writes for every template case, for tests/template_golden.rs.

Usage: record.py [--cases FILE] [--out DIR] [--only GROUP]

For each input group in groups.txt one syslog-ng runs with a TCP source on a free localhost
port (the group's source options, plus the fixed values from values.txt set by a rewrite and
the tags from `tags()`), and one destination per line of cases.txt:

  name | destination options | template

The template column is the text between the double quotes of `template("...")` in the config
(so `\\n` is a newline, as syslog-ng's lexer reads it); `-` means no template() at all (the
destination's default format). Options starting with `network:` or `syslog:` make the case a
network()/syslog() destination to a local TCP listener instead of a file; what arrives on the
wire is stored. Each case's output is stored whole in expected/GROUP/NAME.out, and
expected/GROUP/_meta.out holds one line per message with what cannot be pinned from outside:
the received stamp and the sequence number.
"""
import argparse, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
META_TEMPLATE = r"$R_UNIXTIME $R_USEC $R_TZOFFSET ${SEQNUM:-0} ${RCPTID:-0}\n"


def table(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append([c.strip() for c in line.split("|", 2)])
    return rows


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Sink(threading.Thread):
    """A TCP listener that appends everything it receives to a file."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.path = path
        open(path, "wb").close()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, open(self.path, "ab") as f:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    f.write(data)
                    f.flush()


def values_block():
    sets = []
    for line in open(os.path.join(HERE, "values.txt"), encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        name, value = line.split("=", 1)
        sets.append(f'set("{value}" value("{name}"));')
    return " ".join(sets)


def compile_error(opts, tmpl):
    """The error syslog-ng reports for a case's destination, or None when it loads."""
    if tmpl == "-":
        return None
    conf = (f'@version: 3.38\nsource s {{ network(port(1)); }};\n'
            f'destination d {{ file("/dev/null" template("{tmpl}")); }};\n'
            f'log {{ source(s); destination(d); }};\n')
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(conf)
    r = subprocess.run(["syslog-ng", "--syntax-only", "-f", f.name], capture_output=True,
                       text=True)
    os.unlink(f.name)
    if r.returncode == 0:
        return None
    for line in (r.stderr + r.stdout).splitlines():
        if "error=" in line:
            msg = line.split("error=", 1)[1]
            return msg.rsplit(" in /", 1)[0]
        if "rror" in line:
            return line.rsplit(" in /", 1)[0]
    return "error"


def run_group(group, input_name, src_opts, cases, outdir):
    work = tempfile.mkdtemp(prefix="tmplgold-")
    port = free_port()
    sinks = []
    dests, logs = [], []
    for name, opts, tmpl in cases + [["_meta", "", META_TEMPLATE]]:
        out = os.path.join(work, name + ".out")
        topt = "" if tmpl == "-" else f'template("{tmpl}")'
        if opts.startswith("network:") or opts.startswith("syslog:"):
            kind, opts = opts.split(":", 1)
            sink = Sink(out)
            sink.start()
            sinks.append(sink)
            d = f'{kind}("127.0.0.1" port({sink.port}) transport(tcp) {topt} {opts})'
        else:
            d = f'file("{out}" {topt} {opts})'
        dests.append(f"destination d_{name} {{ {d}; }};")
        logs.append(f"destination(d_{name});")
    conf = "\n".join(
        [
            "@version: 3.38",
            "options { stats-freq(0); use-dns(no); keep-hostname(yes); };",
            f"source s_in {{ network(ip(127.0.0.1) port({port}) transport(tcp) "
            f'tags("t1", "t2") {src_opts}); }};',
            f"rewrite r_values {{ {values_block()} }};",
            *dests,
            f"log {{ source(s_in); rewrite(r_values); {' '.join(logs)} }};",
        ]
    )
    with open(os.path.join(work, "syslog-ng.conf"), "w") as f:
        f.write(conf + "\n")
    env = dict(os.environ, TZ="Europe/Budapest")
    stderr = open(os.path.join(work, "stderr"), "wb")
    proc = subprocess.Popen(
        ["syslog-ng", "-F", "-f", f"{work}/syslog-ng.conf", "-R", f"{work}/persist",
         "-p", f"{work}/pid", "-c", f"{work}/ctl", "--no-caps"],
        stdout=stderr, stderr=stderr, env=env)
    try:
        data = open(os.path.join(HERE, "inputs", input_name), "rb").read()
        n = len([l for l in data.split(b"\n") if l])
        for _ in range(100):
            try:
                s = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                if proc.poll() is not None:
                    sys.exit(open(os.path.join(work, "stderr")).read() + conf)
                time.sleep(0.1)
        else:
            sys.exit("could not connect")
        s.sendall(data)
        s.close()
        meta = os.path.join(work, "_meta.out")
        for _ in range(400):
            if os.path.exists(meta) and open(meta, "rb").read().count(b"\n") >= n:
                break
            time.sleep(0.05)
        else:
            sys.exit(f"{group}: only part of the messages arrived")
        # Every destination has its own queue: wait until no output grows any more.
        outs = [os.path.join(work, c[0] + ".out") for c in cases]
        sizes, stable = None, 0
        while stable < 6:
            time.sleep(0.1)
            now = [os.path.getsize(o) if os.path.exists(o) else -1 for o in outs]
            stable = stable + 1 if now == sizes else 0
            sizes = now
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    for sink in sinks:
        sink.sock.close()
    dst = os.path.join(outdir, group)
    os.makedirs(dst, exist_ok=True)
    for name, _, _ in cases + [["_meta", "", ""]]:
        src = os.path.join(work, name + ".out")
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(dst, name + ".out"))
        else:
            open(os.path.join(dst, name + ".out"), "wb").close()
    err = open(os.path.join(work, "stderr"), "rb").read()
    shutil.rmtree(work)
    return err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=os.path.join(HERE, "cases.txt"))
    ap.add_argument("--out", default=os.path.join(HERE, "expected"))
    ap.add_argument("--only")
    a = ap.parse_args()
    cases = table(a.cases)
    os.makedirs(a.out, exist_ok=True)
    # Cases syslog-ng refuses to load are recorded with their error and left out of the run.
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(16) as ex:
        errors = list(ex.map(lambda c: compile_error(c[1], c[2]), cases))
    with open(os.path.join(a.out, "compile_errors.txt"), "w") as f:
        for c, e in zip(cases, errors):
            if e:
                f.write(f"{c[0]} | {e}\n")
                print(f"{c[0]}: does not compile: {e}")
    cases = [c for c, e in zip(cases, errors) if not e]
    with open(os.path.join(a.out, "meta.txt"), "w") as f:
        f.write(f"hostname={socket.gethostname()}\n")
        f.write(f"fqdn={socket.getfqdn()}\n")
        f.write("tz=Europe/Budapest\n")
        f.write(subprocess.run(["syslog-ng", "--version"], capture_output=True,
                               text=True).stdout.splitlines()[0] + "\n")
    for group, input_name, src_opts in table(os.path.join(HERE, "groups.txt")):
        if a.only and group != a.only:
            continue
        err = run_group(group, input_name, src_opts, cases, a.out)
        print(f"{group}: {len(cases)} cases")
        if err.strip():
            sys.stderr.write(err.decode(errors="replace"))


if __name__ == "__main__":
    main()

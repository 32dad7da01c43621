#!/usr/bin/env python3
"""Records what syslog-ng 3.38 writes for the cases of cases.txt, for
tests/template_functions_golden.rs.

One syslog-ng runs with `@include "scl.conf"` (the SCL defines format-gelf and
format-ewmm), the statements of defs.conf, a TCP source (flags(syslog-protocol),
tags("t1", "t2")), a rewrite setting values.txt, and one file() destination per case, plus
`_meta` writing `$R_UNIXTIME $R_ISODATE $LOGHOST` per message. input.txt is sent over one connection.
Each case's output goes to expected/NAME.out with the received seconds replaced by
`@R_UNIXTIME@`, the received stamp by `@R_ISODATE@` and the machine's name (after `<PRI>1 STAMP `, where format-ewmm puts
$LOGHOST) by `@LOGHOST@`; the test does the same to sluice's output.

Needs syslog-ng 3.38 with syslog-ng-scl and syslog-ng-mod-graphite.
"""
import os, shutil, signal, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


def rows(name, cols):
    out = []
    for line in open(os.path.join(HERE, name), encoding="utf-8"):
        line = line.rstrip("\n")
        if line.strip() and not line.lstrip().startswith("#"):
            out.append([c.strip() for c in line.split("|", cols - 1)])
    return out


def config(work, port):
    """The configuration; tests/template_functions_golden.rs builds the same text."""
    defs = "".join(l for l in open(os.path.join(HERE, "defs.conf"), encoding="utf-8")
                   if not l.startswith("#"))
    pairs = [l[0].split("=", 1) for l in rows("values.txt", 1)]
    sets = " ".join(f'set("{v}" value("{n}"));' for n, v in pairs)
    dests, logs = [], []
    for name, opts, tmpl in rows("cases.txt", 3) + [["_meta", "", r"$R_UNIXTIME $R_ISODATE $LOGHOST\n"]]:
        dests.append(f'destination d_{name} {{ file("{work}/{name}.out" {opts} '
                     f'template("{tmpl}")); }};')
        logs.append(f"destination(d_{name});")
    return "\n".join([
        "@version: 3.38",
        '@include "scl.conf"',
        "options { stats-freq(0); use-dns(no); keep-hostname(yes); };",
        defs,
        f"source s_in {{ network(ip(127.0.0.1) port({port}) transport(tcp) "
        f'flags(syslog-protocol) tags("t1", "t2")); }};',
        f"rewrite r_values {{ {sets} }};",
        *dests,
        f"log {{ source(s_in); rewrite(r_values); {' '.join(logs)} }};",
        "",
    ])


def normalize(data, meta):
    """The output with the run's received seconds and host name replaced."""
    for line in meta.decode().splitlines():
        stamp, iso, host = line.split(" ", 2)
        data = data.replace(stamp.encode(), b"@R_UNIXTIME@")
        data = data.replace(iso.encode(), b"@R_ISODATE@")
        data = data.replace(f" {host} @syslog-ng ".encode(), b" @LOGHOST@ @syslog-ng ")
    return data


def main():
    work = tempfile.mkdtemp(prefix="tfgold-")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with open(os.path.join(work, "syslog-ng.conf"), "w", encoding="utf-8") as f:
        f.write(config(work, port))
    stderr = open(os.path.join(work, "stderr"), "wb")
    proc = subprocess.Popen(
        ["syslog-ng", "-F", "-e", "-f", f"{work}/syslog-ng.conf", "-R", f"{work}/persist",
         "-p", f"{work}/pid", "-c", f"{work}/ctl", "--no-caps"],
        stdout=stderr, stderr=stderr, env=dict(os.environ, TZ="UTC"))
    try:
        data = open(os.path.join(HERE, "input.txt"), "rb").read()
        n = data.count(b"\n")
        for _ in range(200):
            try:
                c = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                if proc.poll() is not None:
                    sys.exit(open(os.path.join(work, "stderr")).read())
                time.sleep(0.05)
        c.sendall(data)
        c.close()
        meta = os.path.join(work, "_meta.out")
        for _ in range(400):
            if os.path.exists(meta) and open(meta, "rb").read().count(b"\n") >= n:
                break
            time.sleep(0.05)
        else:
            sys.exit("syslog-ng did not write every message")
        time.sleep(0.5)  # the other files' writers
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    outdir = os.path.join(HERE, "expected")
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    meta = open(os.path.join(work, "_meta.out"), "rb").read()
    for name, _, _ in rows("cases.txt", 3):
        path = os.path.join(work, name + ".out")
        got = open(path, "rb").read() if os.path.exists(path) else b""
        with open(os.path.join(outdir, name + ".out"), "wb") as f:
            f.write(normalize(got, meta))
    shutil.rmtree(work)
    print(f"recorded {len(rows('cases.txt', 3))} cases")


if __name__ == "__main__":
    main()

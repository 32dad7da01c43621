"""Runs syslog-ng on each case and records which destination got which message.

A case (cases/NAME.conf) is a syslog-ng configuration with a header of comments:

    # fields: PROGRAM MSG .kv.a TAGS      values written for each delivered message
    # input: <13>2024-01-01T00:00:00+01:00 host prog[1]: text      sent to s_in
    # input2: ...                                                   sent to s_in2
    # peer: ::1                            the address to send from and to (default 127.0.0.1)

and placeholders: @DIR@ (this directory, for files a case reads), @PORT@ and @PORT2@ (the tcp ports of s_in and s_in2), @OUT@ (a directory
for file destinations) and @TEMPLATE@ (a template that writes the fields). syslog-ng runs with
`-F` and temporary -R/-p/-c; the inputs of s_in are sent on one connection, then those of
s_in2; when the output files stop growing syslog-ng is stopped.

expected/NAME.out has one line per delivered message, grouped by destination file name in
sorted order, in the order syslog-ng wrote them:

    d1 PROGRAM=base64 MSG=base64 ...

and expected/NAME.now the time (Unix seconds) the case was recorded at, which the Rust test
uses as the received time of every input.
"""
import base64, os, shutil, signal, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def parse_case(text):
    fields, inputs = ["PROGRAM", "MSG"], {"": [], "2": []}
    peer = "127.0.0.1"
    for line in text.splitlines():
        if line.startswith("# peer:"):
            peer = line.split(":", 1)[1].strip()
        if line.startswith("# fields:"):
            fields = line.split(":", 1)[1].split()
        elif line.startswith("# input:"):
            inputs[""].append(line.split(":", 1)[1][1:])
        elif line.startswith("# input2:"):
            inputs["2"].append(line.split(":", 1)[1][1:])
    return fields, inputs, peer


def template_for(fields):
    return " ".join(f"{f}=$(base64-encode ${{{f}}})" for f in fields) + "\\n"


def send(port, lines, peer="127.0.0.1"):
    if not lines:
        return
    for _ in range(100):
        try:
            s = socket.create_connection((peer, port))
            break
        except OSError:
            time.sleep(0.05)
    else:
        sys.exit("could not connect")
    s.sendall(b"".join(l.encode("utf-8", "surrogateescape") + b"\n" for l in lines))
    s.close()


def snapshot(out):
    return {n: os.path.getsize(os.path.join(out, n)) for n in os.listdir(out)}


def wait_quiet(out, settle=0.6, limit=10.0):
    start = time.time()
    last, since = None, time.time()
    while time.time() - start < limit:
        cur = snapshot(out)
        if cur != last:
            last, since = cur, time.time()
        elif time.time() - since >= settle:
            return
        time.sleep(0.05)


def record(name):
    text = open(os.path.join(HERE, "cases", name + ".conf")).read()
    fields, inputs, peer = parse_case(text)
    work = tempfile.mkdtemp()
    out = os.path.join(work, "out")
    os.mkdir(out)
    port, port2 = free_port(), free_port()
    conf = (text.replace("@PORT@", str(port)).replace("@PORT2@", str(port2))
            .replace("@OUT@", out).replace("@TEMPLATE@", template_for(fields))
            .replace("@DIR@", HERE))
    with open(os.path.join(work, "syslog-ng.conf"), "w") as f:
        f.write(conf)
    started = int(time.time())
    proc = subprocess.Popen(
        ["syslog-ng", "-F", "-f", os.path.join(work, "syslog-ng.conf"), "-R", os.path.join(work, "persist"),
         "-p", os.path.join(work, "pid"), "-c", os.path.join(work, "ctl"), "--no-caps"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        send(port, inputs[""], peer)
        wait_quiet(out)
        send(port2, inputs["2"], peer)
        wait_quiet(out)
    finally:
        proc.send_signal(signal.SIGTERM)
        log = proc.communicate(timeout=10)[0].decode(errors="replace")
    lines = []
    for dest in sorted(os.listdir(out)):
        for l in open(os.path.join(out, dest), "rb").read().splitlines():
            lines.append(dest.encode() + b" " + l)
    with open(os.path.join(HERE, "expected", name + ".out"), "wb") as f:
        f.write(b"".join(l + b"\n" for l in lines))
    # The Rust test uses this as the received time (year of dates without one, "now").
    with open(os.path.join(HERE, "expected", name + ".now"), "w") as f:
        f.write(f"{started}\n")
    noisy = [l for l in log.splitlines() if "rror" in l or "WARNING" in l]
    print(f"{name}: {len(lines)} deliveries" + ("".join("\n    " + l for l in noisy)))
    shutil.rmtree(work)


def main():
    names = sys.argv[1:] or sorted(f[:-5] for f in os.listdir(os.path.join(HERE, "cases")) if f.endswith(".conf"))
    with open(os.path.join(HERE, "expected", "meta.txt"), "w") as f:
        f.write("tz=" + os.environ.get("TZ", "") + "\n")
        f.write(subprocess.run(["syslog-ng", "--version"], capture_output=True, text=True).stdout.splitlines()[0] + "\n")
    for n in names:
        record(n)


if __name__ == "__main__":
    main()

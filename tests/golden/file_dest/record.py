"""Records what syslog-ng 3.38 leaves on disk for each case; tests/runtime_file_dest.rs runs
sluice on the same cases and compares. Needs syslog-ng and python3; the Rust tests only read
expected/.

A case is cases/NAME.conf (placeholders @OUT@, the output directory, and @PORT@, the tcp
port) and cases/NAME.input (bytes sent on one connection). Some cases start from files made
by `setup` below (the Rust test makes the same). syslog-ng runs with TZ=UTC; when the output
directory stops changing it is stopped and the directory is dumped into expected/NAME.txt:
one entry per path under it, sorted by name,

    d REL MODE                 a directory (mode in octal)
    f REL MODE LEN\\n<bytes>\\n  a file and its content
    l REL -> TARGET            a symlink (the output directory in TARGET written as OUT)
"""
import os, socket, stat, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


def setup(name, out):
    """Files a case starts from."""
    if name == "perms":
        p = os.path.join(out, "existing.log")
        open(p, "wb").write(b"old\n")
        os.chmod(p, 0o644)
        p = os.path.join(out, "keep.log")
        open(p, "wb").write(b"kept\n")
        os.chmod(p, 0o644)
    elif name == "overwrite":
        p = os.path.join(out, "old.log")
        open(p, "wb").write(b"stale\n")
        old = time.time() - 7200
        os.utime(p, (old, old))
        open(os.path.join(out, "recent.log"), "wb").write(b"kept\n")


def dump(out):
    entries = []
    for root, dirs, files in os.walk(out):
        for n in dirs + files:
            p = os.path.join(root, n)
            entries.append((os.path.relpath(p, out), p))
    text = b""
    for rel, p in sorted(entries):
        st = os.lstat(p)
        mode = "%o" % stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(p).replace(out, "OUT")
            text += f"l {rel} -> {target}\n".encode()
        elif stat.S_ISDIR(st.st_mode):
            text += f"d {rel} {mode}\n".encode()
        else:
            data = open(p, "rb").read()
            text += f"f {rel} {mode} {len(data)}\n".encode() + data + b"\n"
    return text


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def record(name):
    work = tempfile.mkdtemp()
    out = os.path.join(work, "out")
    os.mkdir(out)
    setup(name, out)
    port = free_port()
    conf = open(os.path.join(HERE, "cases", name + ".conf")).read()
    conf = conf.replace("@OUT@", out).replace("@PORT@", str(port))
    open(os.path.join(work, "syslog-ng.conf"), "w").write(conf)
    env = dict(os.environ, TZ="UTC")
    d = subprocess.Popen(
        ["syslog-ng", "-F", "--no-caps", "-f", work + "/syslog-ng.conf", "-R", work + "/persist",
         "-p", work + "/pid", "-c", work + "/ctl"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(work + "/stderr", "wb"))
    data = open(os.path.join(HERE, "cases", name + ".input"), "rb").read()
    for _ in range(100):
        try:
            s = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit("could not connect")
    s.sendall(data)
    s.close()
    last, stable = None, 0
    while stable < 10:
        time.sleep(0.1)
        now = dump(out)
        stable = stable + 1 if now == last else 0
        last = now
    d.terminate()
    d.wait()
    open(os.path.join(HERE, "expected", name + ".txt"), "wb").write(last)
    print(name, len(last), "bytes")


if __name__ == "__main__":
    os.makedirs(os.path.join(HERE, "expected"), exist_ok=True)
    names = sys.argv[1:] or sorted(n[:-5] for n in os.listdir(os.path.join(HERE, "cases"))
                                   if n.endswith(".conf"))
    for n in names:
        record(n)

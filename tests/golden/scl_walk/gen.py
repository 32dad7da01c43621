#!/usr/bin/env python3
"""Writes one minimal configuration per block of the installed SCL (syslog-ng 3.38's
/usr/share/syslog-ng/include/scl) into configs/, and cases.tsv listing them.

Every block of context source, destination, parser or rewrite is used once, with each
mandatory parameter (declared `name()`, no default) given the dummy value of VALUES
below (EXTRA adds arguments a block passes on through `...` and needs), in a log path
with an internal() source or a file("/dev/null") destination. A few cases more cover
what the SCL defines besides blocks: its template functions, its applications (through
app-parser()), its confgen generators, and scl.conf on its own.

Run by record.sh; the test (tests/scl_walk.rs) reads configs/ and never this script.
"""

import os
import re
import sys

SCL = "/usr/share/syslog-ng/include/scl"

# Dummy values of mandatory block parameters, by parameter name: plausible for what the
# block does with it (a URL where it builds a request, a path where it reads a file).
VALUES = {
    "bot-id": '"123456:dummy-bot"',
    "chat-id": '"123456"',
    "collector": '"dummy-collector"',
    "deployment": '"us1"',
    "filename": '"/var/log/scl-walk.log"',
    "hdfs_file": '"/tmp/scl-walk.log"',
    "hdfs_uri": '"hdfs://localhost:8020"',
    "hook-url": '"https://localhost/hooks/dummy"',
    "index": '"scl-walk"',
    "kafka_bootstrap_servers": '"localhost:9092"',
    "plugin": '"scl-walk"',
    "prefix": '".scl-walk."',
    "regex": '"[0-9]{16}"',
    # Bare words: genlb's script puts each into network("..."), quotes and all.
    "targets": "localhost ip6-localhost",
    "template": '"$MSG"',
    "tls": 'peer-verify(required-untrusted)',
    "token": '"dummy-token"',
    "topic": '"scl-walk"',
    "type": '"scl-walk"',
    "url": '"http://localhost:8080/"',
    "value": '"MESSAGE"',
}

# Arguments a block needs besides its mandatory ones (passed on through `...`).
EXTRA = {
    ("kafka", "kafka"): 'topic("scl-walk") kafka-bootstrap-servers("localhost:9092")',
}

HEADER = '@version: 3.38\n@include "scl.conf"\n\n'


def balanced(text, i):
    """The index after the parenthesis that closes the one at text[i]."""
    depth, quote, j = 0, None, i
    while j < len(text):
        c = text[j]
        if quote:
            if c == "\\" and quote == '"':
                j += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ValueError("unbalanced parenthesis")


def params(text):
    """The declared parameters of a block header: [(name, default or None for ...)]."""
    out, i = [], 0
    param = re.compile(r"\s*([A-Za-z_][\w-]*)\s*\(")
    varargs = re.compile(r"\s*\.\.\.\s*")
    while text[i:].strip():
        m = param.match(text, i)
        if m:
            end = balanced(text, m.end() - 1)
            out.append((m.group(1), text[m.end() : end - 1].strip()))
            i = end
            continue
        m = varargs.match(text, i)
        if m:
            out.append(("...", None))
            i = m.end()
            continue
        raise ValueError("cannot read block parameters: %r" % text[i:])
    return out


def blocks():
    """(dir, kind, name, mandatory parameters) of every block, in SCL order."""
    for d in sorted(os.listdir(SCL)):
        path = os.path.join(SCL, d)
        if not os.path.isdir(path):
            continue
        for f in sorted(os.listdir(path)):
            if not f.endswith(".conf"):
                continue
            with open(os.path.join(path, f)) as fh:
                text = re.sub(r"(?m)^\s*#.*$", "", fh.read())
            header = re.compile(
                r"\bblock\s+(source|destination|parser|rewrite)\s+([A-Za-z0-9_-]+)\s*\("
            )
            for m in header.finditer(text):
                end = balanced(text, m.end() - 1)
                mandatory = [n for n, v in params(text[m.end() : end - 1]) if v == ""]
                yield d, m.group(1), m.group(2), mandatory


def call(d, name, mandatory):
    args = []
    for p in mandatory:
        if p not in VALUES:
            sys.exit("no dummy value for parameter %s() of %s/%s: add it to VALUES" % (p, d, name))
        args.append("%s(%s)" % (p, VALUES[p]))
    if (d, name) in EXTRA:
        args.append(EXTRA[(d, name)])
    return "%s(%s)" % (name, " ".join(args))


def config(kind, obj):
    """The configuration using `obj` (a driver call; kind root: scl.conf and nothing more)."""
    if kind == "source":
        body = "source s_test { %s; };\nlog { source(s_test); destination { file(\"/dev/null\"); }; };\n" % obj
    elif kind == "destination":
        body = "destination d_test { %s; };\nlog { source { internal(); }; destination(d_test); };\n" % obj
    elif kind in ("parser", "rewrite"):
        body = "log {\n    source { internal(); };\n    %s { %s; };\n    destination { file(\"/dev/null\"); };\n};\n" % (kind, obj)
    elif kind == "template-function":
        body = "log { source { internal(); }; destination { file(\"/dev/null\" template(\"$(%s)\")); }; };\n" % obj
    elif kind == "root":
        body = "log { source { internal(); }; destination { file(\"/dev/null\"); }; };\n"
    else:
        raise ValueError(kind)
    return HEADER + body


def cases():
    """(dir, kind, block, config text) of every case."""
    yield "-", "root", "scl.conf", config("root", None)
    for d, kind, name, mandatory in blocks():
        yield d, kind, name, config(kind, call(d, name, mandatory))
    # What the SCL defines besides blocks.
    for d, fn in [("cim", "format-cim"), ("ewmm", "format-ewmm"), ("graylog2", "format-gelf")]:
        yield d, "template-function", fn, config("template-function", fn)
    for topic in ["syslog", "syslog-raw"]:
        yield "-", "parser", "app-parser(%s)" % topic, config(
            "parser", "app-parser(topic(%s))" % topic
        )
    yield "getvirtconsole", "destination", "getvirtconsole", config("destination", "getvirtconsole()")
    # Not here: syslogconf() (a root-context confgen), whose outcome depends on whether
    # the machine has an /etc/syslog.conf for it to convert.


def main(out):
    confs = os.path.join(out, "configs")
    os.makedirs(confs, exist_ok=True)
    for f in os.listdir(confs):
        os.remove(os.path.join(confs, f))
    with open(os.path.join(out, "cases.tsv"), "w") as tsv:
        tsv.write("# dir\tkind\tblock\tconfig\n")
        for d, kind, name, text in cases():
            file = re.sub(r"[^A-Za-z0-9_.-]+", "_", "%s--%s--%s" % (d.replace("-", "all") if d == "-" else d, kind, name)).strip("_") + ".conf"
            with open(os.path.join(confs, file), "w") as fh:
                fh.write(text)
            tsv.write("%s\t%s\t%s\t%s\n" % (d, kind, name, file))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))

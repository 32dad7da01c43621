#!/bin/bash
D=$(cd $(dirname $0); pwd)
gen() { tag=$1; ver=$2; port=$3; typed=$4
cat > $D/conf-$tag.conf <<CONF
@version: $ver
source s_tcp { network(transport(tcp) port($port)); };
destination d_py { python(class("TypeDest")); };
parser p_json { json-parser(prefix(".json.")); };
parser p_py { python(class("SetParser")); };
rewrite r_set {
$typed
};
log { source(s_tcp); parser(p_json); rewrite(r_set); parser(p_py); destination(d_py); };
python {
import os
OUT = os.path.join("$D", os.environ.get("TAG", "$tag") + ".values.log")
def out(s):
    with open(OUT, "a") as f:
        f.write(s + "\n")
NAMES = ["MESSAGE", "HOST", "PROGRAM", "PID", "MISSING_NAME",
         "num_int", "num_double", "flag_bool", "lst", "plain",
         ".json.i", ".json.f", ".json.b", ".json.s", ".json.n", ".json.arr", ".json.obj.k",
         "X_str", "X_bytes", "X_int", "X_none", "X_float", "X_bool"]
class SetParser(object):
    def init(self, options):
        return True
    def parse(self, msg):
        for name, val in [("X_str", "s"), ("X_bytes", b"b"), ("X_int", 42), ("X_none", None), ("X_float", 1.5), ("X_bool", True)]:
            try:
                msg[name] = val
                out("parser: msg[%r] = %r -> ok" % (name, val))
            except Exception as e:
                out("parser: msg[%r] = %r -> %s: %s" % (name, val, type(e).__name__, e))
        return True
class TypeDest(object):
    def init(self, options):
        out("dir(LogMessage instance) will follow at first send")
        return True
    def send(self, msg):
        out("dir(msg)=%r" % ([n for n in dir(msg) if not n.startswith("__")],))
        try:
            out("msg.keys()=%r" % (sorted(msg.keys()),))
        except Exception as e:
            out("msg.keys() -> %s: %s" % (type(e).__name__, e))
        for n in NAMES:
            try:
                v = msg[n]
                out("%-14s %-8s %r" % (n, type(v).__name__, v))
            except Exception as e:
                out("%-14s EXC      %s: %s" % (n, type(e).__name__, e))
        return True
};
CONF
}
T='    set("5" value("num_int") type(int));
    set("2.5" value("num_double") type(double));
    set("true" value("flag_bool") type(boolean));
    set("a,b" value("lst") type(list));
    set("x" value("plain"));'
U='    set("5" value("num_int"));
    set("2.5" value("num_double"));
    set("true" value("flag_bool"));
    set("a,b" value("lst"));
    set("x" value("plain"));'
gen v338-typed 3.38 25701 "$T"
gen v338-untyped 3.38 25702 "$U"
gen v40-typed 4.0 25703 "$T"
gen v40-untyped 4.0 25704 "$U"

#!/bin/bash
# conf-<method>.conf: the named method raises RuntimeError("boom in <method>")
D=$(cd $(dirname $0); pwd)
port=25200
for m in init open send flush close deinit is_opened; do
port=$((port+1))
cat > $D/conf-$m.conf <<CONF
@version: 3.38
source s_tcp { network(transport(tcp) port($port) flags(no-parse)); };
destination d_py { python(class("ExcDest")); };
log { source(s_tcp); destination(d_py); };
python {
import time, os
T0 = float(os.environ.get("T0", "0"))
RAISE = "$m"
def rec(s):
    with open("$D/$m.calls.log", "a") as f:
        f.write("%.3f %s\n" % (time.monotonic() - T0, s))
def maybe(name):
    if name == RAISE:
        rec(name + " -> raise RuntimeError")
        raise RuntimeError("boom in " + name)
class ExcDest(object):
    def init(self, options):
        maybe("init"); rec("init -> True"); return True
    def deinit(self):
        maybe("deinit"); rec("deinit")
    def open(self):
        maybe("open"); rec("open -> True"); return True
    def is_opened(self):
        maybe("is_opened"); rec("is_opened -> True"); return True
    def close(self):
        maybe("close"); rec("close")
    def send(self, msg):
        maybe("send"); rec("send MSG=%r -> QUEUED" % (msg["MESSAGE"],)); return self.QUEUED
    def flush(self):
        maybe("flush"); rec("flush -> SUCCESS"); return self.SUCCESS
};
CONF
done

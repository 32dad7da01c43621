#!/bin/bash
D=$(cd $(dirname $0); pwd)
gen() { tag=$1; port=$2; isop=$3
cat > $D/conf-$tag.conf <<CONF
@version: 3.38
source s_tcp { network(transport(tcp) port($port) flags(no-parse)); };
destination d_py { python(class("OpenFails")); };
log { source(s_tcp); destination(d_py); };
python {
import time, os
T0 = float(os.environ.get("T0", "0"))
def rec(s):
    with open(os.path.join("$D", os.environ.get("TAG", "$tag") + ".calls.log"), "a") as f:
        f.write("%.3f %s\n" % (time.monotonic() - T0, s))
class OpenFails(object):
    def init(self, options):
        self.n = 0; self.opened = False
        rec("init"); return True
    def deinit(self):
        rec("deinit")
    def open(self):
        self.n += 1
        r = self.n > 2
        self.opened = r
        rec("open #%d -> %r" % (self.n, r)); return r
$isop
    def close(self):
        rec("close"); self.opened = False
    def send(self, msg):
        rec("send MSG=%r -> True" % (msg["MESSAGE"],)); return True
};
CONF
}
I='    def is_opened(self):
        rec("is_opened -> %r" % self.opened); return self.opened'
gen with-is_opened 25101 "$I"
gen without-is_opened 25102 ""

#!/bin/bash
# generates one conf per return value variant: conf-<tag>.conf
D=$(cd $(dirname $0); pwd)
gen() { tag=$1; ret=$2; flush=$3; port=$4
cat > $D/conf-$tag.conf <<CONF
@version: 3.38
options { stats-level(1); };
source s_tcp { network(transport(tcp) port($port) flags(no-parse)); };
destination d_py { python(class("RetDest")); };
log { source(s_tcp); destination(d_py); };
python {
import time, os
T0 = float(os.environ.get("T0", "0"))
def rec(s):
    with open("$D/$tag.calls.log", "a") as f:
        f.write("%.3f %s\n" % (time.monotonic() - T0, s))
class RetDest(object):
    def init(self, options):
        rec("init options=%r" % (options,)); return True
    def deinit(self):
        rec("deinit")
    def open(self):
        rec("open -> True"); return True
    def is_opened(self):
        rec("is_opened -> True"); return True
    def close(self):
        rec("close")
    def send(self, msg):
        r = $ret
        rec("send MSG=%r -> %r" % (msg["MESSAGE"], r)); return r
$flush
};
CONF
}
F='    def flush(self):
        r = self.SUCCESS
        rec("flush -> %r" % (r,)); return r'
gen True True "" 25001
gen False False "" 25002
gen None None "" 25003
gen SUCCESS self.SUCCESS "" 25004
gen ERROR self.ERROR "" 25005
gen DROP self.DROP "" 25006
gen NOT_CONNECTED self.NOT_CONNECTED "" 25007
gen RETRY self.RETRY "" 25008
gen QUEUED self.QUEUED "" 25009
gen QUEUED_flush self.QUEUED "$F" 25010
gen int42 42 "" 25011
gen string '"ok"' "" 25012

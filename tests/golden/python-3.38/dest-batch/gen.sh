#!/bin/bash
D=$(cd $(dirname $0); pwd)
gen() { tag=$1; port=$2; opts=$3
cat > $D/conf-$tag.conf <<CONF
@version: 3.38
source s_tcp { network(transport(tcp) port($port) flags(no-parse)); };
destination d_py { python(class("BatchDest") $opts); };
log { source(s_tcp); destination(d_py); };
python {
import time, os
T0 = float(os.environ.get("T0", "0"))
def rec(s):
    with open(os.path.join("$D", os.environ.get("TAG", "$tag") + ".calls.log"), "a") as f:
        f.write("%.3f %s\n" % (time.monotonic() - T0, s))
class BatchDest(object):
    def init(self, options):
        self.bulk = []; rec("init"); return True
    def open(self):
        rec("open"); return True
    def close(self):
        rec("close")
    def deinit(self):
        rec("deinit")
    def send(self, msg):
        self.bulk.append(msg["MESSAGE"].decode().split(": ", 1)[1])
        rec("send %s -> QUEUED (pending=%d)" % (self.bulk[-1], len(self.bulk))); return self.QUEUED
    def flush(self):
        rec("flush [%s] -> SUCCESS" % ",".join(self.bulk)); self.bulk = []; return self.SUCCESS
};
CONF
}
gen lines3 25401 "batch-lines(3)"
gen timeout500-lines100 25402 "batch-timeout(500) batch-lines(100)"
gen lines3-timeout500 25403 "batch-lines(3) batch-timeout(500)"

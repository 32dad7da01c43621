#!/bin/bash
D=$(cd $(dirname $0); pwd)
port=25900
for v in True False None raise; do
port=$((port+1))
case $v in raise) body='raise ValueError("boom in parse")';; *) body="return $v";; esac
cat > $D/conf-$v.conf <<CONF
@version: 3.38
source s_tcp { network(transport(tcp) port($port)); };
parser p_py { python(class("MyParser") options("k" "v")); };
destination d_parsed { file("$D/$v.parsed.out" template("parsed: \${PROGRAM} set_value=\${set_value} msg=\${MESSAGE}\n")); };
destination d_fallback { file("$D/$v.fallback.out" template("fallback: set_value=\${set_value} msg=\${MESSAGE}\n")); };
destination d_other { file("$D/$v.otherpath.out" template("otherpath: set_value=\${set_value} msg=\${MESSAGE}\n")); };
log { source(s_tcp); parser(p_py); destination(d_parsed); };
log { source(s_tcp); destination(d_fallback); flags(fallback); };
CONF
if [ $v = False ]; then cat >> $D/conf-$v.conf <<CONF
# second variant file conf-False-2paths.conf adds an unconditional second path
CONF
fi
cat >> $D/conf-$v.conf <<CONF
python {
class MyParser(object):
    def init(self, options):
        self.options = options
        return True
    def parse(self, msg):
        msg["set_value"] = "from-python-" + self.options["k"]
        $body
};
CONF
done
# False variant with an additional unconditional log path (shows the parser's change is/isn't visible elsewhere)
sed -e 's#^log { source(s_tcp); destination(d_fallback); flags(fallback); };#log { source(s_tcp); destination(d_other); };\nlog { source(s_tcp); destination(d_fallback); flags(fallback); };#' -e "s#False\.#False-2paths.#g" -e 's/port(25902)/port(25905)/' $D/conf-False.conf > $D/conf-False-2paths.conf

#!/bin/bash
# usage: startfail.sh DIR CONF TAG  -- runs `syslog-ng -s` and `syslog-ng -F ... -e -v` (killed after 3s if it starts)
D=$(cd $1; pwd); C=$2; T=$3
mkdir -p $D/state-$T
{ echo "\$ syslog-ng -s -f \$D/$C"; /usr/sbin/syslog-ng -s -f $D/$C 2>&1; echo "rc=$?"; } > $D/$T.syntax-only.out
{ echo "\$ syslog-ng -F -f \$D/$C -R \$D/state-$T/persist -p \$D/state-$T/pid -c \$D/state-$T/ctl --no-caps -e -v"
  timeout -s TERM 3 /usr/sbin/syslog-ng -F -f $D/$C -R $D/state-$T/persist -p $D/state-$T/pid -c $D/state-$T/ctl --no-caps -e -v 2>&1 | grep -v -e 'Module loaded' -e 'fully qualified'; echo "rc=${PIPESTATUS[0]}"; } > $D/$T.foreground.out
sed -i "s#$D#\$D#g; s/^\[[0-9T:.+-]*\] //" $D/$T.syntax-only.out $D/$T.foreground.out

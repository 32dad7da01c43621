#!/usr/bin/python3
"""Harness: start syslog-ng in foreground, feed TCP messages, collect stats, SIGTERM.
usage: drive.py DIR [--conf syslog-ng.conf] [--port P] [--msgs N] [--gap S] [--pre S] [--post S]
                   [--extra-args '-v'] [--reload-at S] [--tag NAME]
All times are CLOCK_MONOTONIC seconds relative to T0 (exported to syslog-ng's env as T0)."""
import argparse, os, subprocess, time, socket, signal, sys
ap = argparse.ArgumentParser()
ap.add_argument('dir'); ap.add_argument('--conf', default='syslog-ng.conf')
ap.add_argument('--port', type=int, default=0); ap.add_argument('--msgs', type=int, default=3)
ap.add_argument('--gap', type=float, default=0.0); ap.add_argument('--pre', type=float, default=1.0)
ap.add_argument('--post', type=float, default=3.0); ap.add_argument('--extra', default='-e')
ap.add_argument('--reload-at', type=float, default=None); ap.add_argument('--tag', default='run')
ap.add_argument('--msgtext', default='hello %d')
a = ap.parse_args()
d = os.path.abspath(a.dir); os.makedirs(os.path.join(d, 'state-' + a.tag), exist_ok=True)
st = os.path.join(d, 'state-' + a.tag)
for f in ('persist', 'pid', 'ctl'):
    try: os.unlink(os.path.join(st, f))
    except FileNotFoundError: pass
T0 = time.monotonic()
env = dict(os.environ, T0=repr(T0), SCEN=d, TAG=a.tag)
def t(): return time.monotonic() - T0
drv = open(os.path.join(d, a.tag + '.driver.log'), 'w')
def dl(s): drv.write('%.3f %s\n' % (t(), s)); drv.flush()
cmd = ['/usr/sbin/syslog-ng', '-F', '-f', os.path.join(d, a.conf), '-R', st + '/persist',
       '-p', st + '/pid', '-c', st + '/ctl', '--no-caps'] + a.extra.split()
dl('cmd: ' + ' '.join(cmd).replace(d, '$D'))
err = open(os.path.join(d, a.tag + '.stderr.raw'), 'w')
p = subprocess.Popen(cmd, stderr=err, stdout=open(os.path.join(d, a.tag + '.stdout'), 'w'), env=env, cwd=d)
time.sleep(a.pre)
if p.poll() is not None:
    dl('syslog-ng exited early rc=%d' % p.returncode); a.port = 0; a.reload_at = None; a.post = 0
if a.port and a.msgs:
    s = socket.create_connection(('127.0.0.1', a.port))
    for i in range(1, a.msgs + 1):
        s.sendall(('<13>Jan  1 00:00:00 myhost prog[1]: ' + (a.msgtext % i if '%d' in a.msgtext else a.msgtext) + '\n').encode())
        dl('sent msg %d' % i)
        if a.gap: time.sleep(a.gap)
    s.close()
if a.reload_at is not None:
    time.sleep(a.reload_at)
    r = subprocess.run(['syslog-ng-ctl', 'reload', '-c', st + '/ctl'], capture_output=True, text=True)
    dl('reload -> rc=%d %s' % (r.returncode, (r.stdout + r.stderr).strip()))
    if a.port and a.msgs:
        time.sleep(1)
        s = socket.create_connection(('127.0.0.1', a.port))
        for i in range(1, a.msgs + 1):
            s.sendall(('<13>Jan  1 00:00:00 myhost prog[1]: after-reload %d\n' % i).encode())
            dl('sent after-reload msg %d' % i)
        s.close()
time.sleep(a.post)
if p.poll() is None:  # still running
    r = subprocess.run(['syslog-ng-ctl', 'stats', '-c', st + '/ctl'], capture_output=True, text=True)
    lines = [l for l in r.stdout.splitlines() if ('python' in l or 'dst.' in l or 'center' in l) ]
    open(os.path.join(d, a.tag + '.stats'), 'w').write('\n'.join(lines) + '\n')
    dl('SIGTERM')
    p.send_signal(signal.SIGTERM)
    try: p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill(); dl('had to SIGKILL')
if p.returncode is not None and not a.port and a.post == 0: pass
else: dl('exit rc=%d' % p.returncode)
err.close()
# trimmed stderr: drop leading "[timestamp] " prefix
import re
raw = open(os.path.join(d, a.tag + '.stderr.raw')).read()
raw = re.sub(r'^\[\d{4}-\d\d-\d\dT[\d:.+-]+\] ', '', raw, flags=re.M)
raw = raw.replace(d, '$D')
open(os.path.join(d, a.tag + '.stderr'), 'w').write(raw)
os.unlink(os.path.join(d, a.tag + '.stderr.raw'))

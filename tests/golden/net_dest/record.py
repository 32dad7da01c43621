#!/usr/bin/env python3
"""Records tests/golden/net_dest/expected/*.bin by running syslog-ng 3.38 on dest.conf.

Every @name@ in dest.conf is filled in: in_* with a port the inputs are sent to, t_* with
the port of a TCP listener, u_* of a UDP one, x_* with the path of a UNIX stream listener,
ux_* of a UNIX datagram one. input3164.txt goes to in_3164 one line each, input5424.txt to
in_5424 with octet counting. A stream listener's file is every byte it received; a datagram
listener's is each datagram as `LEN SP BYTES` (the same shape as octet counting).
tests/runtime_net_dest.rs runs sluice on the same files and compares.
"""
import os, re, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))

def free_port():
    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close(); return p

def main():
    conf = open(os.path.join(HERE, 'dest.conf')).read()
    names = sorted(set(re.findall(r'@([a-z0-9_]+)@', conf)))
    tmp = tempfile.mkdtemp(prefix='net_dest_')
    values, got, socks = {}, {}, []
    for n in names:
        if n.startswith('x_') or n.startswith('ux_'):
            values[n] = os.path.join(tmp, n + '.sock')
        else:
            values[n] = str(free_port())
    for n in names:
        got[n] = bytearray() if not n.startswith(('u_', 'ux_')) else []
        if n.startswith('t_') or n.startswith('x_'):
            if n.startswith('t_'):
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(('127.0.0.1', int(values[n])))
            else:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(values[n])
            s.listen(5)
            def serve(s=s, n=n):
                while True:
                    try: c, _ = s.accept()
                    except OSError: return
                    while True:
                        b = c.recv(65536)
                        if not b: break
                        got[n].extend(b)
            threading.Thread(target=serve, daemon=True).start()
        elif n.startswith('u_') or n.startswith('ux_'):
            if n.startswith('u_'):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', int(values[n])))
            else:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(values[n])
            def serve_d(s=s, n=n):
                while True:
                    try: got[n].append(s.recv(1 << 17))
                    except OSError: return
            threading.Thread(target=serve_d, daemon=True).start()
        else:
            continue
        socks.append(s)
    text = re.sub(r'@([a-z0-9_]+)@', lambda m: values[m.group(1)], conf)
    cfg = os.path.join(tmp, 'dest.conf'); open(cfg, 'w').write(text)
    p = subprocess.Popen(['syslog-ng', '-F', '--no-caps', '-f', cfg, '-R', tmp + '/p', '-c', tmp + '/ctl',
                          '-p', tmp + '/pid'], stderr=subprocess.DEVNULL)
    try:
        def send(port, data):
            for _ in range(100):
                try:
                    c = socket.create_connection(('127.0.0.1', port)); break
                except OSError: time.sleep(0.05)
            c.sendall(data); c.close()
        send(int(values['in_3164']), open(os.path.join(HERE, 'input3164.txt'), 'rb').read())
        framed = b''
        for line in open(os.path.join(HERE, 'input5424.txt'), 'rb').read().splitlines():
            framed += str(len(line)).encode() + b' ' + line
        send(int(values['in_5424']), framed)
        # Settle: nothing new for a second.
        last, stable = None, 0
        while stable < 10:
            now = [len(got[n]) for n in names]
            stable = stable + 1 if now == last else 0
            last = now; time.sleep(0.1)
    finally:
        p.terminate(); p.wait()
    for n in names:
        if n.startswith('in_'): continue
        data = got[n]
        if isinstance(data, list):
            data = b''.join(str(len(d)).encode() + b' ' + d for d in data)
        open(os.path.join(HERE, 'expected', n + '.bin'), 'wb').write(bytes(data))
        print(n, len(data))

if __name__ == '__main__':
    main()

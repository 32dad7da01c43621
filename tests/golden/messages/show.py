#!/usr/bin/env python3
"""Prints a golden file readably: python3 show.py expected/default.out [FIELD...]"""
import base64, sys
want = sys.argv[2:]
for i, line in enumerate(open(sys.argv[1], "rb").read().splitlines()):
    kv = dict(p.split(b"=", 1) for p in line.split(b" "))
    vals = {k.decode(): base64.b64decode(v) for k, v in kv.items()}
    keys = want or [k for k in vals if vals[k]]
    print(i, " ".join(f"{k}={vals[k]!r}"[0:200] for k in keys if k in vals))

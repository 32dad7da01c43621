#!/usr/bin/env bash
# Records the golden outputs of the template tests (expected/) by running syslog-ng 3.38 on
# inputs/ for every case in cases.txt. Needs syslog-ng and python3; the Rust tests
# (tests/template_golden.rs) only read the results. See record.py for the layout.
set -euo pipefail
cd "$(dirname "$0")"
exec python3 record.py "$@"

#!/usr/bin/env bash
# Records tests/golden/template_functions/expected with syslog-ng 3.38 (see record.py).
# Needs syslog-ng, syslog-ng-scl, syslog-ng-mod-graphite and python3; the Rust test
# (tests/template_functions_golden.rs) only reads the results.
set -euo pipefail
cd "$(dirname "$0")"
exec python3 record.py "$@"

#!/usr/bin/env bash
# Records tests/golden/pipeline/expected/*.out by running syslog-ng 3.38 on every case in
# cases/ (or on the cases named on the command line). Needs syslog-ng and python3; the Rust
# test (tests/pipeline_golden.rs) only reads the results. See record.py for the case format.
set -euo pipefail
cd "$(dirname "$0")"
export TZ=Europe/Budapest
exec python3 record.py "$@"

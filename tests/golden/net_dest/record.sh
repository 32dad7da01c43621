#!/usr/bin/env bash
# Records tests/golden/net_dest/expected/*.bin with syslog-ng 3.38 (see record.py). Needs
# syslog-ng and python3; the Rust test (tests/runtime_net_dest.rs) only reads the results.
set -euo pipefail
cd "$(dirname "$0")"
export TZ=UTC
exec python3 record.py "$@"

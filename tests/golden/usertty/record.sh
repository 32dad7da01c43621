#!/usr/bin/env bash
# Records tests/golden/usertty/expected with syslog-ng 3.38 (see record.py). Needs root,
# syslog-ng and python3; the Rust test (tests/runtime_usertty.rs) only reads the results.
# syslog-ng reads utmp at its fixed path, so the recorder runs in a private mount
# namespace with a tmpfs over /run holding a made-up /run/utmp.
set -euo pipefail
cd "$(dirname "$0")"
exec unshare -m sh -c 'mount --make-rprivate / && mount -t tmpfs tmpfs /run &&
    USERTTY_NAMESPACED=1 exec python3 record.py "$@"' record "$@"

#!/usr/bin/env bash
# Records expected/ by running syslog-ng 3.38 (record.py does the work):
#
# * dgram_default, dgram_system: every record of records.txt sent as one datagram to a
#   unix-dgram() source with format(linux-kmsg) — the same framing syslog-ng uses for
#   /dev/kmsg (one read, one record), so records with KEY=VALUE lines stay whole. _system
#   adds system()'s options (program-override("kernel") flags(kernel) keep-timestamp(no)) and
#   store-raw-message.
# * file_system: lines.txt as a regular file read by file(... format(linux-kmsg)) with
#   system()'s options: a regular file is newline-framed, so each line is one message.
# * procfile: proc_lines.txt (lines as /proc/kmsg gives them) from a regular file with
#   system()'s options, the kernel time padded and not (a live run shows only one of them).
# * devkmsg, prockmsg (root only, and only when /dev/kmsg is writable): system()'s two
#   driver calls on the real /dev/kmsg and /proc/kmsg, with records injected by writing
#   /dev/kmsg. What varies from run to run (host, dates, sequence numbers, kernel times, the
#   run's marker) is replaced by placeholders, the same way tests/runtime_kmsg.rs does.
#
# Needs syslog-ng and python3; the Rust tests only read the results. TZ=Europe/Budapest, so
# stamps carry an offset with DST.
set -euo pipefail
cd "$(dirname "$0")"
export TZ=Europe/Budapest
mkdir -p expected
python3 record.py "$@"

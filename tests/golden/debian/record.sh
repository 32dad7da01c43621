#!/bin/sh
# Records where syslog-ng 3.38 writes each marker with Debian's stock configuration
# (root, syslog-ng-core + syslog-ng-scl installed): routing.txt and modes.txt here.
set -e
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
KMSG=1 unshare -m --propagation private "$here/run-in-namespace.sh" "$dir" syslog-ng --no-caps
cp "$dir/routing.txt" "$dir/modes.txt" "$here/"
rm -rf "$dir"

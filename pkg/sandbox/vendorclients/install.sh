#!/usr/bin/env bash
# Installs the vendors' client libraries pinned by package.json and
# package-lock.json (beside this script) into .testservers/vendorclients/
# at the repository root (gitignored), once: again only when the lockfile
# changes. Prints the export line that points the tier at them:
#   eval "$(bash pkg/sandbox/vendorclients/install.sh)"
# Nothing is installed globally; install scripts of dependencies are not
# run (the two that have one, core-js and core-js-pure, only print).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
dir="$root/.testservers/vendorclients"
if ! cmp -s "$here/package-lock.json" "$dir/installed.lock" || [ ! -d "$dir/node_modules" ]; then
  printf 'vendorclients: installing @hubspot/api-client and jsforce (npm ci)\n' >&2
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  cp "$here/package-lock.json" "$dir/installed.lock"
fi
echo "export CRMSYNC_TEST_NODE_MODULES=$dir/node_modules"

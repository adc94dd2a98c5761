#!/usr/bin/env bash
# Install Ace by DAISY (the EPUB accessibility checker the tests run) into tools/ace/node_modules,
# at the version pinned in tools/ace/package-lock.json. No browser is downloaded: Ace runs with the
# system's Chromium (tools/setup-system.sh installs Debian's `chromium`), and --ignore-scripts skips
# the Electron post-install, which would need the internet. Without npm it says so and goes on
# (the Ace tests are then skipped with that reason).
set -u
cd "$(dirname "$0")/ace"
stamp=node_modules/.pubpipe-installed
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ -d node_modules/@daisy/ace-core ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm is missing; Ace by DAISY is not installed (its tests will be skipped)" >&2
  exit 0
fi
echo "setup: installing Ace by DAISY (npm, tools/ace)"
if PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null; then
  touch "$stamp"
else
  echo "setup: npm could not install Ace by DAISY (its tests will be skipped)" >&2
fi
exit 0

#!/usr/bin/env bash
# Browser tests drive Debian's Chromium; Playwright's own browser download cannot work offline.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" = "0" ]; then
  echo "Installing Debian's chromium for the end-to-end tests..."
  apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
else
  echo "Chromium is missing at $CHROMIUM; install it with: sudo apt-get install -y chromium" >&2
  exit 1
fi

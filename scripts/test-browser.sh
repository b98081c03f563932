#!/usr/bin/env bash
# Install Debian's Chromium and ChromeDriver for the browser tests of the web pages
# (tests/web/test_browser*.py; without them those tests skip, and CI fails on a skip).
# Needs root; does nothing when both are there.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2

#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (headless). Installs it when missing; needs root,
# as on the project's machines and CI.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "chromium is missing: installing Debian's package (apt-get install -y chromium)" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: install it yourself with 'sudo apt-get install -y chromium'" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version

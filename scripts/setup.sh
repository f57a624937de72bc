#!/usr/bin/env bash
# One-step set-up and demo: installs ngspice when it is missing (Debian/Ubuntu, as root), installs the npm
# dependencies (which builds dist/), then runs `bmru compare` on the shipped example model and clip with the
# embedded 180 nm card. Extra arguments go to `bmru compare` (e.g. -p gf180mcu).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v "${BMRU_NGSPICE:-ngspice}" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ngspice not found: installing Debian's ngspice package" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ngspice >/dev/null
  else
    echo "ngspice not found. Install it (Debian/Ubuntu: sudo apt-get install -y ngspice) or set BMRU_NGSPICE to its path." >&2
    exit 2
  fi
fi

npm ci --no-audit --no-fund
node bin/bmru.js compare "$@"

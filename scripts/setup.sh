#!/usr/bin/env bash
# One-step set-up and demo: installs ngspice when it is missing (Debian/Ubuntu, as root), and espeak-ng and sox
# for the synthetic keyword set (`bmru kws-data`) when it can, installs the npm dependencies, builds
# dist/, then runs `bmru compare` on the shipped example model and clip with the embedded 180 nm card.
# Extra arguments go to `bmru compare` (e.g. -p gf180mcu).
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

# Optional: only `bmru kws-data` needs them, so their absence is a note, not a stop.
missing=()
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "${missing[*]} not found: installing Debian's packages (for bmru kws-data)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: ${missing[*]} not found; bmru kws-data needs them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]})" >&2
  fi
fi

npm ci --no-audit --no-fund
npm run build
node bin/bmru.js compare "$@"

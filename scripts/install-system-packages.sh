#!/usr/bin/env bash
# Debian packages the test suite uses, and wrk for `make bench`. Installs only what is missing; needs root (CI is root).
set -euo pipefail
PACKAGES=(make qpdf poppler-utils chromium fonts-dejavu-core wrk)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"

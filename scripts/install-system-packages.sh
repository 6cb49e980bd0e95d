#!/usr/bin/env bash
# Installs the Debian packages a make target needs, only those missing.
#   install-system-packages.sh run    what `make run` needs (a Python that can make a venv)
#   install-system-packages.sh test   what `make test` needs: Chromium for the browser tests,
#                                     qpdf and poppler-utils for the PDF checks, the fonts
#   install-system-packages.sh bench  the test set plus wrk for the HTTP benchmarks
# As root it installs them; with sudo it uses sudo; otherwise it stops and prints the command.
set -euo pipefail
purpose=${1:-test}
case "$purpose" in
  run)   PACKAGES=() ;;
  test)  PACKAGES=(qpdf poppler-utils chromium fonts-dejavu-core) ;;
  bench) PACKAGES=(qpdf poppler-utils chromium fonts-dejavu-core wrk) ;;
  *) echo "usage: $0 run|test|bench" >&2; exit 2 ;;
esac
# A Python without ensurepip (Debian's own python3 without python3-venv) cannot make .venv.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  PACKAGES+=(python3-venv)
fi
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "make $purpose needs these Debian packages: ${missing[*]}" >&2
  echo "run:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages for make $purpose: ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

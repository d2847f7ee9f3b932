#!/bin/sh
# Installs what fortisim needs to build, run and test, from Debian 12's packages, when missing.
# Runs on a bare Debian (as root, or with sudo present); a second run installs nothing.
#   sh scripts/install-deps.sh           what building, running and most tests need
#   sh scripts/install-deps.sh --tests   also Chromium, for the web console's browser test
set -eu
packages="g++ cmake make libboost1.81-dev libssl-dev openssl nlohmann-json3-dev libcli11-dev \
doctest-dev libre2-dev libqrencode-dev libpng-dev libsqlite3-dev libldns-dev pkg-config curl \
ca-certificates python3 python3-jsonschema zbar-tools dnsutils"
[ "${1:-}" = "--tests" ] && packages="$packages chromium"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "fortisim: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null

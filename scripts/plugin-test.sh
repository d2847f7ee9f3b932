#!/bin/sh
# Tests the pytest plugin (python/) as a user installs it: makes a fresh venv in a temporary
# folder (Debian's python3 with its system packages: python3-pytest, python3-requests), installs
# ./python there offline, then runs python/tests and examples/pytest with the plugin, from that
# folder. The binary is $FORTISIM_BIN if set, else $FORTISIM_BUILD/fortisim (default
# build/fortisim, built first if missing). Installs the Debian packages it needs when missing.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FORTISIM_BUILD:-$root/build}
missing=""
for p in python3-venv python3-setuptools python3-wheel python3-pytest python3-requests; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "fortisim plugin-test: installing$missing" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ -z "${FORTISIM_BIN:-}" ]; then
  [ -x "$build/fortisim" ] || sh "$root/scripts/build.sh"
  FORTISIM_BIN=$build/fortisim
fi
export FORTISIM_BIN

work=$(mktemp -d "${TMPDIR:-/tmp}/fortisim-plugin-XXXXXX")
trap 'rm -rf "$work"' EXIT
# Debian's python3, the one python3-pytest belongs to (a pyenv or venv python3 on PATH lacks it).
python=/usr/bin/python3
[ -x "$python" ] || python=python3
echo "plugin-test: venv in $work/venv, pip install ./python"
"$python" -m venv --system-site-packages "$work/venv"
# From a copy of python/ without what an earlier install left (pip builds in the tree it is given).
mkdir "$work/src"
cp -R "$root/python" "$work/src/python"
rm -rf "$work/src/python/build" "$work/src/python/src/"*.egg-info
(cd "$work/src" && "$work/venv/bin/pip" install -q --no-build-isolation --no-index ./python)
export PYTHONDONTWRITEBYTECODE=1

cd "$work"
echo "plugin-test: python/tests with $FORTISIM_BIN"
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/python/tests"
echo "plugin-test: examples/pytest with $FORTISIM_BIN"
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/examples/pytest"

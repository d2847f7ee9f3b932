#!/bin/sh
# Installs what fortisim needs from Debian 12's packages, when missing: the packages of
# scripts/packages.txt (the one list; the Dockerfile reads it too) of the kinds given, every kind
# by default, or those of $FORTISIM_DEPS. Runs on a bare Debian (as root, or with sudo present); a
# second run installs nothing.
#   sh scripts/install-deps.sh               build, run and test: the quick start
#   FORTISIM_DEPS="build test" sh scripts/build.sh    what the Dockerfile's build stage installs
#   sh scripts/install-deps.sh run           only what the installed binary needs
#   sh scripts/install-deps.sh --list run    print those package names, install nothing
#   sh scripts/install-deps.sh browser       Chromium, for the web console's browser test
#                                            (scripts/test.sh; not a default kind: it is large)
#   sh scripts/install-deps.sh image         setcap, for the container image (not a default kind)
set -eu
list=$(dirname "$0")/packages.txt
print=false
if [ "${1:-}" = "--list" ]; then
  print=true
  shift
fi
# shellcheck disable=SC2086
[ $# -eq 0 ] && set -- ${FORTISIM_DEPS:-build run test}
for kind in "$@"; do
  case $kind in
    build | run | test | browser | image) ;;
    *) echo "install-deps.sh: unknown kind '$kind': expected build, run, test, browser or image" >&2 && exit 2 ;;
  esac
done
# Column 1 the package, column 2 its kind; comments and blank lines skipped.
packages=$(awk -v kinds=" $* " '!/^[ \t]*(#|$)/ && index(kinds, " " $2 " ") { print $1 }' "$list")
if $print; then
  echo "$packages"
  exit 0
fi
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

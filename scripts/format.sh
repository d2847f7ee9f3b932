#!/bin/sh
# Formats every C++ file of the project with the house .clang-format; with --check, changes
# nothing and fails if any file is not formatted (what CI runs).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! command -v clang-format >/dev/null; then
  [ "$(id -u)" -ne 0 ] && sudo=sudo || sudo=
  $sudo apt-get install -y -qq --no-install-recommends clang-format >/dev/null
fi
files() { find protocol pki server client fixture tests bench examples \( -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null || true; }
if [ "${1:-}" = "--check" ]; then
  files | xargs clang-format --dry-run --Werror
  echo "formatting: ok"
else
  files | xargs clang-format -i
fi

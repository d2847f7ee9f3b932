#!/usr/bin/env python3
"""Fails, naming file and line, where a source file breaks a rule the include roots cannot enforce:

- a quoted include that climbs out of its folder ("../x.hpp", "./x.hpp"): the compiler looks
  beside the including file first, so such an include would reach a room above without the build
  noticing;
- Boost.Asio or Boost.Beast in protocol/, pki/ or server/core/: the rooms below server/net/ are
  pure logic and must compile without them.

Usage: check_includes.py SOURCE_DIR
"""
import pathlib
import re
import sys

ROOMS = ["protocol", "pki", "server", "client", "fixture"]
NO_ASIO = ["protocol", "pki", "server/core"]
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def problems(root: pathlib.Path):
    for room in ROOMS:
        for path in sorted((root / room).rglob("*")):
            if path.suffix not in (".cpp", ".hpp"):
                continue
            rel = path.relative_to(root).as_posix()
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                quote, target = m.groups()
                if quote == '"' and (target.startswith("../") or target.startswith("./") or "/../" in target):
                    yield f"{rel}:{number}: quoted include climbs out of its folder: {target}"
                if quote == "<" and re.match(r"boost/(asio|beast)\b", target) and any(
                    rel.startswith(r + "/") for r in NO_ASIO
                ):
                    yield f"{rel}:{number}: {target} below server/net/ (pure-logic rooms have no Asio or Beast)"


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    found = list(problems(root))
    for p in found:
        print(p)
    print(f"include rules: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks every shipped scenario against the published JSON Schema (scenarios/schema.json) with a
packaged validator (Debian's python3-jsonschema). Scenario files may hold // and /* */ comments."""
import json
import pathlib
import re
import sys

import jsonschema


def strip_comments(text: str) -> str:
    # Remove comments outside strings.
    out, i, in_str = [], 0, False
    while i < len(text):
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        elif text.startswith("/*", i):
            i = text.find("*/", i) + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def main() -> int:
    folder = pathlib.Path(sys.argv[1])
    schema = json.loads((folder / "schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    failed = 0
    files = sorted(p for p in folder.glob("*.json") if p.name != "schema.json")
    for path in files:
        doc = json.loads(strip_comments(path.read_text()))
        errors = list(validator.iter_errors(doc))
        for e in errors:
            print(f"{path.name}: $.{'.'.join(str(p) for p in e.absolute_path)}: {e.message}")
        failed += bool(errors)
    # The schema must also reject what fortisim rejects.
    for bad in ({"sede": 1}, {"rules": [{"then": {"action": "explode"}}]}, {"licenses": [{"activation_code": "nope"}]}):
        if not list(validator.iter_errors(bad)):
            print(f"schema accepts a bad scenario: {bad}")
            failed += 1
    print(f"{len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Write `.env` from `.env.example`, filling every `<generate>` value with a fresh secret.

An existing `.env` is never overwritten.
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "<generate>"


def render(template: str) -> str:
    lines = []
    for line in template.splitlines():
        if PLACEHOLDER in line and not line.lstrip().startswith("#"):
            line = line.replace(PLACEHOLDER, secrets.token_urlsafe(32))
        lines.append(line)
    return "\n".join(lines) + "\n"


def missing_lines(template: str, existing: str) -> list:
    """Settings of the template that an older .env lacks (rendered, secrets generated)."""
    have = {line.split("=", 1)[0].strip() for line in existing.splitlines()
            if "=" in line and not line.lstrip().startswith("#")}
    return [line for line in render(template).splitlines()
            if "=" in line and not line.lstrip().startswith("#") and line.split("=", 1)[0].strip() not in have]


def main() -> int:
    target = ROOT / ".env"
    template = (ROOT / ".env.example").read_text()
    if target.exists():
        existing = target.read_text()
        added = missing_lines(template, existing)
        if added:  # new settings since this .env was written: append them, change nothing else
            target.write_text(existing.rstrip("\n") + "\n" + "\n".join(added) + "\n")
            print(".env exists: kept it, added " + ", ".join(line.split("=", 1)[0] for line in added))
        else:
            print(".env exists: keeping it")
            target.touch()  # newer than .env.example: make won't ask again
        return 0
    target.write_text(render(template))
    target.chmod(0o600)
    print("wrote .env with freshly generated secrets")
    return 0


if __name__ == "__main__":
    sys.exit(main())

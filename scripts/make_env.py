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


def main() -> int:
    target = ROOT / ".env"
    if target.exists():
        print(".env exists: keeping it")
        return 0
    target.write_text(render((ROOT / ".env.example").read_text()))
    target.chmod(0o600)
    print("wrote .env with freshly generated secrets")
    return 0


if __name__ == "__main__":
    sys.exit(main())

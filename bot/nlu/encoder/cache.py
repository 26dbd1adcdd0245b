"""Sentence vectors kept on disk between trainings, keyed by the encoder graph and the text.

The sentiment model trains on ~57,000 texts; encoding them is a minute or two of a training run.
They change only when the corpus or the encoder does, so the vectors are kept in
``NLU_VECTOR_CACHE`` (default ``var/cache/sentence-vectors``), one file pair per encoder graph
(its sha-256): ``<fingerprint>.texts.json`` and ``<fingerprint>.npy``. A text is looked up
exactly; new texts are encoded and appended. A damaged cache is rebuilt, never trusted.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from bot.nlu.encoder.runtime import SentenceEncoder

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    configured = os.environ.get("NLU_VECTOR_CACHE")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "var" / "cache" / "sentence-vectors"


def encode_cached(encoder: SentenceEncoder, texts: Sequence[str], workers: int = 2,
                  cache_dir: Optional[Path] = None) -> np.ndarray:
    """``encoder.encode(texts)``, reusing vectors computed for the same text by the same graph."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    names_path = folder / f"{encoder.fingerprint}.texts.json"
    vectors_path = folder / f"{encoder.fingerprint}.npy"
    known, vectors = _read(names_path, vectors_path, encoder.dimension)
    index = {text: row for row, text in enumerate(known)}
    missing = sorted({text for text in texts if text not in index})
    if missing:
        fresh = encoder.encode(missing, workers=workers)
        known = known + missing
        vectors = np.vstack([vectors, fresh]) if len(vectors) else fresh
        index.update({text: len(known) - len(missing) + i for i, text in enumerate(missing)})
        _write(folder, names_path, vectors_path, known, vectors)
    logger.debug("sentence vectors: %d cached, %d encoded", len(texts) - len(missing), len(missing))
    return vectors[[index[text] for text in texts]] if texts else np.zeros((0, encoder.dimension), np.float32)


def _read(names_path: Path, vectors_path: Path, dimension: int):
    try:
        names = json.loads(names_path.read_text(encoding="utf-8"))
        vectors = np.load(vectors_path, allow_pickle=False)
        if (isinstance(names, list) and vectors.ndim == 2 and vectors.shape == (len(names), dimension)
                and vectors.dtype == np.float32):
            return names, vectors
        logger.warning("sentence vector cache %s does not match its texts; rebuilding it", vectors_path)
    except (OSError, ValueError):
        pass
    return [], np.zeros((0, dimension), np.float32)


def _write(folder: Path, names_path: Path, vectors_path: Path, names, vectors: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    tmp_names, tmp_vectors = names_path.with_suffix(f".{pid}.tmp"), folder / f"{vectors_path.stem}.{pid}.tmp.npy"
    tmp_names.write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
    np.save(tmp_vectors, vectors.astype(np.float32, copy=False))
    os.replace(tmp_vectors, vectors_path)  # vectors first: a reader seeing new names finds their rows
    os.replace(tmp_names, names_path)

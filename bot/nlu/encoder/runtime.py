"""Run the quantised encoder: texts in, L2-normalised 384-dimensional sentence vectors out."""
from __future__ import annotations

import hashlib
from typing import List, Sequence

import numpy as np

from bot.nlu.encoder.graph import INPUTS

MAX_TOKENS = 128  # all-MiniLM-L6-v2 was trained on up to 128 word pieces; longer texts are cut


class SentenceEncoder:
    """An onnxruntime session over the graph of :mod:`bot.nlu.encoder.graph` plus its tokenizer.

    One intra-op thread: a message is one to three milliseconds of work, and splitting that
    across cores costs more in hand-offs than it saves (training spreads texts over threads
    instead, see ``encode``).
    """

    def __init__(self, model: bytes, tokenizer_json: str) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        # names this exact graph: the key of cached vectors (bot.nlu.encoder.cache)
        self.fingerprint = hashlib.sha256(model).hexdigest()
        self.model, self.tokenizer_json = model, tokenizer_json  # what a trained model stores
        self._tokenizer = Tokenizer.from_str(tokenizer_json)
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def token_ids(self, text: str) -> List[int]:
        return self._tokenizer.encode(text).ids

    def encode(self, texts: Sequence[str], workers: int = 1) -> np.ndarray:
        """One row per text (float32, unit length), each encoded on its own as ``encode_one`` does.

        Not padded into batches: the int8 graph quantises activations with one scale per call, so a
        text's vector would depend on the other texts of its batch (cosine ~0.99). One text per call
        gives training exactly the vectors that serving computes. ``workers`` threads share the
        session (onnxruntime releases the GIL while it runs).
        """
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        if workers <= 1:
            rows = [self.encode_one(text) for text in texts]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=workers) as pool:
                rows = list(pool.map(self.encode_one, texts, chunksize=64))
        return np.stack(rows).astype(np.float32, copy=False)

    def encode_one(self, text: str) -> np.ndarray:
        """One text, no padding: the serving path."""
        tokens = np.asarray([self.token_ids(text)], np.int64)
        return self._session.run(None, dict(zip(INPUTS, (tokens, np.ones_like(tokens)))))[0][0]


def encoder_from_weights() -> SentenceEncoder:
    """The int8 encoder built from the weights (``bot.nlu.encoder.weights``): a few seconds."""
    from bot.nlu.encoder.graph import quantized_model
    from bot.nlu.encoder.weights import weights_dir

    folder = weights_dir()
    return SentenceEncoder(quantized_model(folder), (folder / "tokenizer.json").read_text(encoding="utf-8"))

"""Experiment (not part of the assistant): every layer of the frozen encoder as sentiment features.

The assistant's sentiment heads read all-MiniLM-L6-v2's *final* sentence vector (mean pooled, L2
normalised) beside word and character n-grams. Sentence-transformers tune that final vector for
similarity, which may wash sentiment out of it; earlier layers may keep more. This script adds the
mean-pooled hidden state of the embedding layer and of each of the six layers (7 x 384) as outputs of
the assistant's own int8 graph (``bot/nlu/encoder/graph.py``, one text per call as in serving) and
measures, on GoEmotions dev with every threshold chosen on the project's calibration slice of train:

1. a logistic regression on the encoder features alone (negative group), per set of layers;
2. the assistant's own sentiment training (``train_model``: n-grams + lexicon + vector) with the
   standardised 2,688 layer features in place of the final vector, at several block weights.

    PYTHONPATH=. .venv/bin/python scripts/experiments/sentiment_layer_features.py [--scales 0.5 1 2]

Writes ``results/layer_features/metrics.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.nlu.sentiment import evaluation as ev  # noqa: E402
from bot.nlu.sentiment.corpus import goemotions_targets, load_corpus, shared_data_dir  # noqa: E402

DIM = 384
LAYER_NAMES = ["emb"] + [f"l{i}.x2" for i in range(6)]  # node names in bot/nlu/encoder/graph.py
# blocks of ``LayerEncoder.features``: 0 the final vector, 1 the embeddings, 2-7 layers 0-5
PROBES = {"final vector": [0], "layer 5": [7], "layer 3": [5], "layers 3-5": [5, 6, 7],
          "embeddings + layers 1, 3, 5": [1, 3, 5, 7], "embeddings + all 6 layers": [1, 2, 3, 4, 5, 6, 7]}
HEAD = "negative"


class LayerEncoder:
    """The int8 graph with one more output per layer: the mean of its hidden states (one text a call)."""

    def __init__(self) -> None:
        import onnxruntime
        from onnx import TensorProto, helper, numpy_helper
        from tokenizers import Tokenizer

        from bot.nlu.encoder.graph import build_graph, quantize
        from bot.nlu.encoder.runtime import MAX_TOKENS
        from bot.nlu.encoder.weights import weights_dir

        folder = weights_dir()
        model = build_graph(folder)
        graph = model.graph
        graph.initializer.append(numpy_helper.from_array(np.array([1], np.int64), "layer_mean_axis"))
        self.outputs = ["embedding"]
        for name in LAYER_NAMES:
            graph.node.append(helper.make_node("ReduceMean", [name, "layer_mean_axis"], [name + ".mean"], keepdims=0))
            graph.output.append(helper.make_tensor_value_info(name + ".mean", TensorProto.FLOAT, ["batch", DIM]))
            self.outputs.append(name + ".mean")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(quantize(model), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def features(self, text: str) -> np.ndarray:
        """Block 0: the final vector; blocks 1-7: the mean of the embeddings and of layers 0-5."""
        ids = np.asarray([self.tokenizer.encode(text).ids], np.int64)
        rows = self.session.run(self.outputs, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        return np.concatenate([row[0] for row in rows]).astype(np.float32)

    def many(self, texts: Sequence[str]) -> np.ndarray:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return np.stack(list(pool.map(self.features, texts, chunksize=64)))


def columns(blocks: List[int]) -> np.ndarray:
    return np.concatenate([np.arange(b * DIM, (b + 1) * DIM) for b in blocks])


def f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    return ev.binary_scores(gold, predicted)["f1"]


def probe(train_x, train_y, cal_x, cal_y, dev_x, dev_y) -> Dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    model = LogisticRegression(C=0.05, max_iter=2000).fit(scaler.transform(train_x), train_y)
    p_cal = model.predict_proba(scaler.transform(cal_x))[:, 1]
    p_dev = model.predict_proba(scaler.transform(dev_x))[:, 1]
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    cal = [f1(p_cal >= t, cal_y) for t in grid]
    threshold = float(grid[int(np.argmax(cal))])
    return {"calibration_f1": round(max(cal), 3), "dev_f1": round(f1(p_dev >= threshold, dev_y), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="*", default=[0.5, 1.0, 2.0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "layer_features")
    args = parser.parse_args()
    os.environ["NLU_VECTOR_CACHE"] = tempfile.mkdtemp()  # the layer features never enter the real cache
    from bot.nlu.sentiment.training import TrainingParams, train_model

    encoder = LayerEncoder()
    examples = [e for e in load_corpus() if e.source == "goemotions"]
    dev = ev.GoEmotionsData.read(shared_data_dir() / "goemotions" / "dev.tsv",
                                 shared_data_dir() / "goemotions" / "labels.txt")
    started = time.time()
    feats = encoder.many([e.text for e in examples] + dev.texts)
    seconds = time.time() - started
    print(f"encoded {len(feats)} texts in {seconds:.0f} s", flush=True)
    x, x_dev = feats[:len(examples)], feats[len(examples):]
    split = np.array([e.split for e in examples])
    y = np.array([e.targets[HEAD] for e in examples])
    y_dev = np.array([goemotions_targets(emotions)[HEAD] for emotions in dev.emotions])
    train, cal = split == "train", split == "calibration"
    metrics: Dict[str, object] = {"encode_seconds": round(seconds), "probes": {}, "training": {}}
    for name, blocks in PROBES.items():
        cols = columns(blocks)
        result = probe(x[train][:, cols], y[train], x[cal][:, cols], y[cal], x_dev[:, cols], y_dev)
        metrics["probes"][name] = result
        print(f"encoder only, {name:28} negative F1: calibration {result['calibration_f1']:.3f}, "
              f"dev {result['dev_f1']:.3f}", flush=True)

    cols = columns(PROBES["embeddings + all 6 layers"])
    mean, std = x[train][:, cols].mean(0), x[train][:, cols].std(0) + 1e-6

    def standardise(rows: np.ndarray) -> np.ndarray:
        """Rows about unit length, like the final vector the training's block weight is tuned for."""
        return ((rows[..., cols] - mean) / std / np.sqrt(len(cols))).astype(np.float32)

    class Standardised:
        """What ``train_model`` expects of an encoder."""

        fingerprint, dimension = "layer-features", len(cols)

        def encode_one(self, text: str) -> np.ndarray:
            return standardise(encoder.features(text))

        def encode(self, texts: Sequence[str], workers: int = 2) -> np.ndarray:
            return standardise(encoder.many(texts))

    layers = Standardised()
    dev_vectors = standardise(x_dev)
    runs = [("final vector (main)", 2.0, None)] + [(f"all 7 layers, weight {s:g}", s, layers) for s in args.scales]
    for name, scale, own in runs:
        started = time.time()
        model = train_model(params=replace(TrainingParams(), encoder_scale=scale), encoder=own)
        vectors = dev_vectors if own is not None else model.encoder.encode(dev.texts, workers=2)
        report = ev.goemotions_report(dev, [model.predict(t, v) for t, v in zip(dev.texts, vectors)])
        result = {"dev_negative_f1": round(report["negative_group"]["f1"], 3),
                  "dev_anger_or_annoyance_f1": round(report["anger_or_annoyance"]["f1"], 3),
                  "dev_positive_f1": round(report["positive_group"]["f1"], 3),
                  "calibration": model.info["calibration_scores"], "seconds": round(time.time() - started)}
        metrics["training"][name] = result
        print(f"sentiment model, {name:26} dev F1 negative {result['dev_negative_f1']:.3f}, "
              f"anger-or-annoyance {result['dev_anger_or_annoyance_f1']:.3f}, positive "
              f"{result['dev_positive_f1']:.3f} ({result['seconds']} s)", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"wrote {args.out / 'metrics.json'}")


if __name__ == "__main__":
    main()

"""Experiment (not part of the assistant): how far does fine-tuning the sentence encoder take sentiment?

The assistant's sentiment heads read a *frozen* all-MiniLM-L6-v2 vector plus n-grams (docs/sentiment.md);
on GoEmotions dev they reach negative-group F1 0.648 against a goal of 0.70. This script fine-tunes the
whole encoder (6 layers, mean pooling, the weights the project already unpacks into
``.venv/share/all-minilm-l6-v2``) with three sigmoid heads - negative group, anger-or-annoyance,
positive group - on GoEmotions train as the project ships it (``data/sentiment/goemotions_train.tsv``),
chooses each threshold on a held-out slice of train (4,000 comments, never on dev), and prints the F1
on GoEmotions dev at those thresholds.

Runs in its own Python 3.11 environment with PyTorch's CPU build (``make finetune-experiment``):

    make finetune-experiment EPOCHS=1          # ~11 min an epoch on 2 quiet cores

Writes ``results/finetune/metrics.json``, and ``results/finetune/encoder/``: the fine-tuned weights in
the original key names with the tokenizer (a drop-in ``NLU_ENCODER_DIR``) and the heads (``head_*.npy``),
which ``scripts/experiments/score_finetuned_int8.py`` scores through the assistant's own int8 graph.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path
from typing import List, Tuple

import shutil

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = Path(os.environ.get("NLU_ENCODER_DIR") or ROOT / ".venv" / "share" / "all-minilm-l6-v2")
TRAIN = ROOT / "data" / "sentiment" / "goemotions_train.tsv"
LABELS = ROOT / "data" / "sentiment" / "goemotions_labels.txt"
# GoEmotions dev, as scripts/eval_sentiment.py reads it ($SHARED_DATA_DIR or <repo>/../shared/data)
DEV = Path(os.environ.get("SHARED_DATA_DIR") or ROOT.parent / "shared" / "data") / "goemotions" / "dev.tsv"
# the groups of bot/nlu/sentiment/corpus.py (this environment cannot import the assistant's package)
NEGATIVE = set("anger annoyance disappointment disapproval disgust embarrassment fear grief nervousness remorse "
               "sadness".split())
POSITIVE = set("admiration amusement approval caring desire excitement gratitude joy love optimism pride "
               "relief".split())
ANGER_ANNOYANCE = {"anger", "annoyance"}
HEADS = ("negative", "anger_annoyance", "positive")
CALIBRATION = 4000
BATCH = 32
MAX_TOKENS = 64


def load(path: Path, names: List[str]) -> Tuple[List[str], np.ndarray]:
    texts, targets = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        text, ids = line.split("\t")[:2]
        emotions = {names[int(i)] for i in ids.split(",")}
        texts.append(text)
        targets.append([bool(emotions & NEGATIVE), bool(emotions & ANGER_ANNOYANCE), bool(emotions & POSITIVE)])
    return texts, np.array(targets, dtype=np.float32)


class Layer(nn.Module):
    """One BERT layer (post-norm), as all-MiniLM-L6-v2 has it."""

    def __init__(self, d: int = 384, heads: int = 12, ff: int = 1536) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1 = nn.LayerNorm(d, eps=1e-12)
        self.f1, self.f2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        attended = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                                  attn_mask=mask[:, None, None, :].bool())
        x = self.ln1(x + self.o(attended.transpose(1, 2).reshape(b, t, d)))
        return self.ln2(x + self.f2(F.gelu(self.f1(x))))


class Encoder(nn.Module):
    """all-MiniLM-L6-v2 with mean pooling over the real tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.we, self.pe, self.te = nn.Embedding(30522, 384), nn.Embedding(512, 384), nn.Embedding(2, 384)
        self.ln = nn.LayerNorm(384, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(6))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.ln(self.we(ids) + self.pe(torch.arange(ids.shape[1]))[None] + self.te(torch.zeros_like(ids)))
        for layer in self.layers:
            x = layer(x, mask)
        m = mask[..., None].float()
        return (x * m).sum(1) / m.sum(1).clamp(min=1)

    @staticmethod
    def key_names() -> dict:
        """Our parameter names -> the checkpoint's (without a ``bert.`` prefix)."""
        names = {"we.weight": "embeddings.word_embeddings.weight", "pe.weight": "embeddings.position_embeddings.weight",
                 "te.weight": "embeddings.token_type_embeddings.weight", "ln.weight": "embeddings.LayerNorm.weight",
                 "ln.bias": "embeddings.LayerNorm.bias"}
        parts = [("q", "attention.self.query"), ("k", "attention.self.key"), ("v", "attention.self.value"),
                 ("o", "attention.output.dense"), ("ln1", "attention.output.LayerNorm"), ("f1", "intermediate.dense"),
                 ("f2", "output.dense"), ("ln2", "output.LayerNorm")]
        for i in range(6):
            for ours, theirs in parts:
                for kind in ("weight", "bias"):
                    names[f"layers.{i}.{ours}.{kind}"] = f"encoder.layer.{i}.{theirs}.{kind}"
        return names

    def load_pretrained(self, folder: Path) -> None:
        state = {k.removeprefix("bert."): v for k, v in load_file(str(folder / "model.safetensors")).items()}
        self.load_state_dict({ours: state[theirs] for ours, theirs in self.key_names().items()})

    def export(self, pretrained: Path, out: Path) -> None:
        """The checkpoint folder again, with these weights: the assistant's graph builder reads it."""
        out.mkdir(parents=True, exist_ok=True)
        original = load_file(str(pretrained / "model.safetensors"))
        prefix = "bert." if any(k.startswith("bert.") for k in original) else ""
        mine = self.state_dict()
        for ours, theirs in self.key_names().items():
            original[prefix + theirs] = mine[ours].contiguous()
        save_file(original, str(out / "model.safetensors"))
        for path in pretrained.iterdir():
            if path.is_file() and path.name != "model.safetensors":
                shutil.copy(path, out / path.name)


def batch_of(tokenizer: Tokenizer, texts: List[str]) -> Tuple[torch.Tensor, torch.Tensor]:
    encodings = tokenizer.encode_batch(texts)
    width = max(len(e.ids) for e in encodings)
    ids = torch.zeros(len(texts), width, dtype=torch.long)
    mask = torch.zeros(len(texts), width, dtype=torch.long)
    for row, e in enumerate(encodings):
        ids[row, :len(e.ids)] = torch.tensor(e.ids)
        mask[row, :len(e.ids)] = 1
    return ids, mask


def probabilities(encoder: Encoder, head: nn.Linear, tokenizer: Tokenizer, texts: List[str]) -> np.ndarray:
    encoder.eval()
    out = np.zeros((len(texts), len(HEADS)), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.no_grad():
        for start in range(0, len(order), 128):
            rows = order[start:start + 128]
            out[rows] = torch.sigmoid(head(encoder(*batch_of(tokenizer, [texts[i] for i in rows])))).numpy()
    encoder.train()
    return out


def f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    tp = float((predicted & (gold == 1)).sum())
    return 2 * tp / max(1.0, float(predicted.sum() + (gold == 1).sum()))


def best_threshold(p: np.ndarray, gold: np.ndarray) -> Tuple[float, float]:
    return max((f1(p >= t, gold), float(t)) for t in np.arange(0.05, 0.95, 0.01))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "results" / "finetune"))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    names = LABELS.read_text(encoding="utf-8").split()
    texts, targets = load(TRAIN, names)
    dev_texts, dev_targets = load(DEV, names)
    order = list(range(len(texts)))
    random.shuffle(order)
    calibration, train = order[:CALIBRATION], order[CALIBRATION:]

    tokenizer = Tokenizer.from_file(str(WEIGHTS / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    encoder, head = Encoder(), nn.Linear(384, len(HEADS))
    encoder.load_pretrained(WEIGHTS)
    params = list(encoder.parameters()) + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = int(math.ceil(len(train) / BATCH) * args.epochs)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    weights = torch.tensor([1.0, 2.0, 1.0])  # anger-or-annoyance is rare (~12 %)
    started, step = time.time(), 0
    while step < steps:
        random.shuffle(train)
        batches = []
        for start in range(0, len(train), BATCH * 50):  # similar lengths together: less padding
            chunk = sorted(train[start:start + BATCH * 50], key=lambda i: len(texts[i]))
            batches += [chunk[i:i + BATCH] for i in range(0, len(chunk), BATCH)]
        random.shuffle(batches)
        for rows in batches:
            if step >= steps:
                break
            logits = head(encoder(*batch_of(tokenizer, [texts[i] for i in rows])))
            loss = F.binary_cross_entropy_with_logits(logits, torch.tensor(targets[rows]), pos_weight=weights)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            if step % 100 == 0:
                print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - started:.0f} s", flush=True)
    seconds = time.time() - started

    cal_p = probabilities(encoder, head, tokenizer, [texts[i] for i in calibration])
    dev_p = probabilities(encoder, head, tokenizer, dev_texts)
    metrics = {"epochs": args.epochs, "lr": args.lr, "steps": steps, "train_seconds": round(seconds),
               "train_comments": len(train), "calibration_comments": len(calibration), "dev_comments": len(dev_texts)}
    for k, name in enumerate(HEADS):
        cal_f1, threshold = best_threshold(cal_p[:, k], targets[calibration][:, k])
        metrics[name] = {"threshold": round(threshold, 2), "calibration_f1": round(cal_f1, 3),
                         "dev_f1": round(f1(dev_p[:, k] >= threshold, dev_targets[:, k]), 3)}
        print(f"{name:16} threshold {threshold:.2f} (calibration F1 {cal_f1:.3f}) -> GoEmotions dev F1 "
              f"{metrics[name]['dev_f1']:.3f}", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    encoder.export(WEIGHTS, out / "encoder")
    np.save(out / "encoder" / "head_weight.npy", head.weight.detach().numpy())
    np.save(out / "encoder" / "head_bias.npy", head.bias.detach().numpy())
    print(f"trained {steps} steps in {seconds:.0f} s; wrote {out / 'metrics.json'}", flush=True)


if __name__ == "__main__":
    main()

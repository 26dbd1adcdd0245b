#!/usr/bin/env python
"""Added latency of the sentiment component per message.

Times ``SentimentAnalyzer.process([message])`` on single messages (the way
Rasa's predict graph calls it for each user turn) and prints p50/p95/p99. In the
pipeline the message already carries the sentence encoder's vector (added by
``SentenceEncoderFeaturizer`` for the intent classifier); the encoder is timed on
its own line, and the sum is what sentiment would cost without that sharing.

    RASA_TELEMETRY_ENABLED=false PYTHONPATH=. .venv/bin/python \
        scripts/bench_sentiment.py [--model DIR | --subset N] [--n 3000] [--json out.json]

Without ``--model`` a model is trained from the shipped corpus first (use
``--subset`` to train on fewer GoEmotions rows; latency barely depends on it).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def percentile(sorted_values: List[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def bench_messages(n: int) -> List[str]:
    from bot.nlu.sentiment.corpus import default_corpus_dir, read_billing, read_goemotions, shared_data_dir

    texts = [t for t, _, _ in read_billing(default_corpus_dir() / "billing_messages.tsv")]
    dev = shared_data_dir() / "goemotions" / "dev.tsv"
    source = dev if dev.exists() else default_corpus_dir() / "goemotions_train.tsv"
    for text, _, _ in read_goemotions(source):
        texts.append(text)
        if len(texts) >= n:
            break
    return (texts * (n // max(1, len(texts)) + 1))[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="saved SentimentModel dir")
    parser.add_argument("--subset", type=int, default=None, help="train on N GoEmotions rows")
    parser.add_argument("--n", type=int, default=3000, help="messages to time")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.sentiment.component import SentimentAnalyzer
    from bot.nlu.sentiment.model import SentimentModel
    from bot.nlu.sentiment.training import train_model

    import tempfile

    if args.model:
        model = SentimentModel.load(args.model).with_own_encoder()
    else:
        model = train_model(max_train_examples=args.subset)

    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        resource = Resource("sentiment")
        component = SentimentAnalyzer.create(
            SentimentAnalyzer.get_default_config(), storage, resource,
            ExecutionContext(GraphSchema({}), "bench"),
        )
        component._model = model

        texts = bench_messages(args.n)
        encoder = model.encoder if model.needs_vector else None

        def message_for(text: str):
            message = Message(data={TEXT: text})
            if encoder is not None:  # what SentenceEncoderFeaturizer adds
                vector = encoder.encode_one(text)
                message.add_features(Features(vector[None, :], FEATURE_TYPE_SENTENCE, TEXT, "encoder"))
            return message

        for text in texts[:200]:  # warm-up
            component.process([message_for(text)])

        timings_ms: List[float] = []
        encoder_ms: List[float] = []
        for text in texts:
            if encoder is not None:
                started = time.perf_counter_ns()
                encoder.encode_one(text)
                encoder_ms.append((time.perf_counter_ns() - started) / 1e6)
            message = message_for(text)
            started = time.perf_counter_ns()
            component.process([message])
            timings_ms.append((time.perf_counter_ns() - started) / 1e6)

    timings_ms.sort()
    report: Dict[str, float] = {
        "n": len(timings_ms),
        "mean_chars": round(statistics.mean(len(t) for t in texts), 1),
        "p50_ms": round(percentile(timings_ms, 0.50), 4),
        "p95_ms": round(percentile(timings_ms, 0.95), 4),
        "p99_ms": round(percentile(timings_ms, 0.99), 4),
        "mean_ms": round(statistics.mean(timings_ms), 4),
        "max_ms": round(timings_ms[-1], 4),
    }
    print(
        f"SentimentAnalyzer.process, single messages (n={report['n']}, mean {report['mean_chars']} chars): "
        f"p50 {report['p50_ms']:.3f} ms, p95 {report['p95_ms']:.3f} ms, "
        f"p99 {report['p99_ms']:.3f} ms, max {report['max_ms']:.3f} ms"
    )
    if encoder_ms:
        encoder_ms.sort()
        report["encoder_p50_ms"] = round(percentile(encoder_ms, 0.50), 4)
        report["encoder_p95_ms"] = round(percentile(encoder_ms, 0.95), 4)
        report["encoder_mean_ms"] = round(statistics.mean(encoder_ms), 4)
        print(
            f"sentence encoder (shared with the intent classifier), same messages: "
            f"p50 {report['encoder_p50_ms']:.3f} ms, p95 {report['encoder_p95_ms']:.3f} ms, "
            f"mean {report['encoder_mean_ms']:.3f} ms"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

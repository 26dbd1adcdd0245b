"""Latency of the billing entity extractor per message (p50 / p95 / p99).

    PYTHONPATH=. .venv/bin/python scripts/bench_entities.py [--n 600] [--repeat 3]

Times both the plain spaCy pipeline (``bot.nlu.entities.extract``) and the
Rasa component (``BillingEntityExtractor.process`` on one ``Message``, which
is what the extractor adds to each parse) over a few hundred varied billing
messages, after a warm-up. Building the pipeline is a one-off cost at model
load and is reported separately.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TEMPLATES = [
    "I was charged {amount} on {date} for invoice {invoice}",
    "why is invoice {invoice} {amount}??",
    "my account {account} was billed twice {date}",
    "please refund {amount} to account {account}",
    "you can reach me at {phone} or {email}",
    "my zip is {zip}",
    "{zip}",
    "hi, I have a question about my bill",
    "I want to dispute a charge",
    "the charge of {amount} on {date} is wrong, call {phone}",
    "I paid {amount} {date} but invoice {invoice} still says unpaid",
    "can I talk to a human please",
    "this is the third time I'm writing about {invoice}",
    "I have 2 questions about my last statement",
    "email me at {email} about the {amount} credit",
    "the bill for {date} was {amount} instead of {amount}",
    "I never authorised the {amount} payment from {date}, my account number is {account} and zip {zip}",
    "yes",
    "no, that's not right",
    "thanks, bye",
]
VALUES = {
    "amount": ["$1,240.00", "1240 dollars", "49 bucks", "$49", "49.00 USD", "USD 49", "€20",
               "twenty dollars", "$98", "1,240", "£15.50"],
    "date": ["Oct 3", "October 3rd", "3 Oct", "10/03", "2026-10-03", "today", "yesterday",
             "last Tuesday", "next Friday", "on the 3rd", "last month", "3 days ago"],
    "invoice": ["INV-0142", "INV0142", "inv 142", "number 0142", "#142", "no. 142", "INV-1000123"],
    "account": ["1001", "number 1001", "#1001", "ACC-1001"],
    "phone": ["(415) 555-0101", "415-555-0101", "415.555.0101", "+1 415 555 0101", "4155550101"],
    "email": ["jane.doe@example.com", "Bob@Example.ORG"],
    "zip": ["94110", "02134", "94110-1234"],
}


def messages(n: int, seed: int = 7) -> list:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        template = rng.choice(TEMPLATES)
        text = template
        for key, options in VALUES.items():
            while "{" + key + "}" in text:
                text = text.replace("{" + key + "}", rng.choice(options), 1)
        out.append(text)
    return out


def percentiles(samples_ms: list) -> str:
    qs = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return (
        f"p50 {qs[49]:.3f} ms  p95 {qs[94]:.3f} ms  p99 {qs[98]:.3f} ms  "
        f"mean {statistics.fmean(samples_ms):.3f} ms  max {max(samples_ms):.3f} ms"
    )


def bench(fn, texts, repeat: int) -> list:
    for text in texts[:50]:  # warm-up
        fn(text)
    samples = []
    for _ in range(repeat):
        for text in texts:
            t0 = time.perf_counter()
            fn(text)
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="number of distinct messages")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-rasa", action="store_true", help="skip the Rasa component timing")
    args = parser.parse_args()

    from bot.nlu.entities import build_nlp, extract

    t0 = time.perf_counter()
    nlp = build_nlp()
    build_ms = (time.perf_counter() - t0) * 1000
    texts = messages(args.n)
    today = date(2026, 10, 10)
    found = sum(len(extract(t, today, nlp=nlp)) for t in texts)
    print(f"{len(texts)} messages x {args.repeat}, {found} entities per pass; "
          f"pipeline build {build_ms:.0f} ms (once, at model load)")
    print("extract()                         ", percentiles(
        bench(lambda t: extract(t, today, nlp=nlp), texts, args.repeat)))

    if not args.no_rasa:
        from rasa.shared.nlu.training_data.message import Message

        from bot.nlu.entities import BillingEntityExtractor

        component = BillingEntityExtractor({"reference_date": today.isoformat()})
        print("BillingEntityExtractor.process()  ", percentiles(
            bench(lambda t: component.process([Message(data={"text": t})]), texts, args.repeat)))


if __name__ == "__main__":
    main()

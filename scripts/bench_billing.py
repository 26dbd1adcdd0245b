#!/usr/bin/env python
"""Benchmark the billing core: seed time and lookup latency on SQLite and PostgreSQL.

    python scripts/bench_billing.py                              # 100,000 customers, both backends
    python scripts/bench_billing.py --customers 10000 --backend sqlite --json var/bench.json

Each backend gets a fresh database (SQLite: a file under var/bench/; PostgreSQL: a new database
created on --pg-url's server and dropped afterwards unless --keep). Seeding runs the migrations,
inserts the demo accounts and bulk-loads the generated customers (executemany on SQLite, COPY on
PostgreSQL). Lookups are timed through the public API, each call in its own session, on random
existing keys. Goal: seed <= 180 s, p95 <= 5 ms per lookup.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import psycopg2  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.billing.db import dispose_engines, session_scope  # noqa: E402
from bot.billing.findings import findings_for_invoice  # noqa: E402
from bot.billing.lookup import (  # noqa: E402
    get_balance,
    get_customer_by_account,
    get_customer_by_email,
    get_customer_by_phone,
    get_invoice,
)
from bot.billing.models import Customer, Invoice  # noqa: E402
from bot.billing.seed import seed_database  # noqa: E402

SEED_GOAL_S = 180.0
P95_GOAL_MS = 5.0


def _pg_admin(url: str):
    u = make_url(url)
    conn = psycopg2.connect(host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                            password=u.password, dbname=u.database or "postgres", connect_timeout=5)
    conn.autocommit = True
    return conn


def _percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def _samples(url: str, n: int, rng: random.Random) -> Dict[str, List[str]]:
    with session_scope(url) as s:
        max_customer = s.execute(select(func.max(Customer.id))).scalar_one()
        max_invoice = s.execute(select(func.max(Invoice.id))).scalar_one()
        cids = [rng.randint(1, max_customer) for _ in range(n)]
        iids = [rng.randint(1, max_invoice) for _ in range(n)]
        customers = {row.id: row for row in s.execute(
            select(Customer.id, Customer.account_number, Customer.email, Customer.phone).where(Customer.id.in_(cids)))}
        numbers = dict(s.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(iids))).all())
    picked = [customers[c] for c in cids if c in customers]
    return {"invoice": [numbers[i] for i in iids if i in numbers], "account": [c.account_number for c in picked],
            "email": [c.email for c in picked], "phone": [c.phone for c in picked]}


def _time(fn: Callable[[str], object], keys: List[str], warmup: int = 50) -> Dict[str, float]:
    for key in keys[:warmup]:
        assert fn(key) is not None, key
    timings = []
    for key in keys:
        start = time.perf_counter()
        result = fn(key)
        timings.append((time.perf_counter() - start) * 1000)
        assert result is not None, key
    return {"n": len(timings), "p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(_percentile(timings, 95), 3), "max_ms": round(max(timings), 3)}


def bench(url: str, customers: int, samples: int, rng_seed: int) -> Dict[str, object]:
    started = time.perf_counter()
    report = seed_database(url, customers=customers)
    seed_s = time.perf_counter() - started
    keys = _samples(url, samples, random.Random(rng_seed))
    lookups = {
        "invoice_by_number": _time(lambda k: get_invoice(k, database_url=url), keys["invoice"]),
        "customer_by_account": _time(lambda k: get_customer_by_account(k, database_url=url), keys["account"]),
        "customer_by_email": _time(lambda k: get_customer_by_email(k, database_url=url), keys["email"]),
        "customer_by_phone": _time(lambda k: get_customer_by_phone(k, database_url=url), keys["phone"]),
        "findings_for_invoice": _time(lambda k: findings_for_invoice(k, database_url=url), keys["invoice"]),
        "balance_by_account": _time(lambda k: get_balance(k, database_url=url), keys["account"]),
    }
    return {"seed_seconds": round(seed_s, 1), "counts": report.counts, "lookups": lookups,
            "seed_ok": seed_s <= SEED_GOAL_S,
            "lookups_ok": all(v["p95_ms"] <= P95_GOAL_MS for v in lookups.values())}


def _print(name: str, result: Dict[str, object]) -> None:
    counts = result["counts"]
    print(f"\n== {name}: seeded {counts['customers']:,} customers / {counts['invoices']:,} invoices / "
          f"{counts['invoice_lines']:,} lines / {counts['payments']:,} payments in {result['seed_seconds']} s "
          f"({'ok' if result['seed_ok'] else 'ABOVE'} goal {SEED_GOAL_S:.0f} s)")
    print(f"   {'lookup':<22} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for lookup, t in result["lookups"].items():
        flag = "" if t["p95_ms"] <= P95_GOAL_MS else "  ABOVE goal"
        print(f"   {lookup:<22} {t['n']:>6} {t['p50_ms']:>8.3f} {t['p95_ms']:>8.3f} {t['max_ms']:>8.3f}{flag}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--samples", type=int, default=2000, help="lookups timed per kind")
    parser.add_argument("--pg-url", default=os.environ.get(
        "BILLING_BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"),
        help="server to create the benchmark database on (its database is only used to CREATE/DROP)")
    parser.add_argument("--sqlite-dir", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--json", dest="json_path", help="write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--rng-seed", type=int, default=7)
    args = parser.parse_args(argv)

    results: Dict[str, object] = {"customers": args.customers}
    if args.backend in ("sqlite", "both"):
        directory = Path(args.sqlite_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"billing_bench_{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        try:
            results["sqlite"] = bench(url, args.customers, args.samples, args.rng_seed)
            _print("SQLite", results["sqlite"])
        finally:
            dispose_engines(url)
            if not args.keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
    if args.backend in ("postgres", "both"):
        name = f"billing_bench_{uuid.uuid4().hex[:8]}"
        admin = _pg_admin(args.pg_url)
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        url = str(make_url(args.pg_url).set(database=name))
        try:
            results["postgres"] = bench(url, args.customers, args.samples, args.rng_seed)
            _print("PostgreSQL", results["postgres"])
        finally:
            dispose_engines(url)
            if not args.keep:
                with admin.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(results, indent=2))
    ok = all(r["seed_ok"] and r["lookups_ok"] for k, r in results.items() if k in ("sqlite", "postgres"))
    print("\nall goals met" if ok else "\nsome goals NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m bot.billing.seed [--customers N] [--reset] [--database-url URL]``.

Runs the migrations, then seeds (nothing happens on an already seeded database unless --reset).
``--customers`` defaults to ``SEED_CUSTOMERS`` from the environment/.env, else 1000.
"""
from __future__ import annotations

import argparse
import os
from datetime import date
from typing import List, Optional

from bot.billing.config import load_env
from bot.billing.seed import DEFAULT_CUSTOMERS, DEFAULT_RNG_SEED, seed_database


def main(argv: Optional[List[str]] = None) -> int:
    load_env()
    parser = argparse.ArgumentParser(prog="python -m bot.billing.seed",
                                     description="Migrate, then seed demo accounts and generated customers.")
    parser.add_argument("--customers", type=int, default=int(os.environ.get("SEED_CUSTOMERS", DEFAULT_CUSTOMERS)),
                        help="generated customers besides the six demo accounts (default: SEED_CUSTOMERS or 1000)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the billing schema first")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: DATABASE_URL or var/billing.db)")
    parser.add_argument("--rng-seed", type=int, default=DEFAULT_RNG_SEED, help="seed of the data generator")
    parser.add_argument("--today", type=date.fromisoformat, help="pretend the seed runs on this day (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    if args.customers < 0:
        parser.error("--customers must be >= 0")
    report = seed_database(args.database_url, customers=args.customers, reset=args.reset,
                           rng_seed=args.rng_seed, today=args.today)
    if not report.seeded:
        print(f"billing database already seeded on {report.seeded_on}; nothing to do (use --reset to recreate)")
    else:
        counts = ", ".join(f"{n} {t}" for t, n in report.counts.items())
        print(f"billing database seeded in {report.seconds:.1f} s: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The outcome report: ``make report`` (``python -m bot.analytics.report``).

Reads the events the consumer stored (ANALYTICS_DATABASE_URL) and the handoff reasons from the
billing database (DATABASE_URL), prints the figures, and writes results/report/summary.json plus
plots (resolutions by kind, escalations by reason, sentiment at start vs end, CSAT).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, Dict, Optional

from dotenv import load_dotenv

from bot.analytics.outcomes import conversations, summary
from bot.analytics.store import load_events
from bot.billing.handoffs import list_handoffs


def handoff_reasons(database_url: Optional[str] = None) -> Dict[str, str]:
    reasons: Dict[str, str] = {}
    for status in ("open", "assigned", "resolved", "handed_back", "cancelled"):
        for h in list_handoffs(status=status, limit=100_000, database_url=database_url):
            reasons[h.conversation_id] = (h.context or {}).get("reason_code") or h.reason_code
    return reasons


def plots(figures: Dict[str, Any], sentiments: list, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for ax, key, title in ((axes[0][0], "resolutions_by_kind", "Resolutions by kind"),
                           (axes[0][1], "escalations_by_reason", "Escalations by reason"),
                           (axes[1][1], "csat_distribution", "CSAT (1-5)")):
        data = figures[key] or {"none": 0}
        ax.bar(list(data), list(data.values()), color="#0b3d91")
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=30)
    ax = axes[1][0]
    if sentiments:
        ax.scatter([s[0] for s in sentiments], [s[1] for s in sentiments], alpha=0.6, color="#c2185b")
    ax.plot([-1, 1], [-1, 1], color="#999", linewidth=1)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_xlabel("first message")
    ax.set_ylabel("last message")
    ax.set_title("Sentiment at start vs end")
    fig.tight_layout()
    fig.savefig(out / "outcomes.png", dpi=110)
    plt.close(fig)


def main(argv: Optional[list] = None) -> int:
    load_dotenv(override=False)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/report"))
    parser.add_argument("--analytics-url", default=None)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    events = load_events(args.analytics_url)
    figures = summary(events, handoff_reasons(args.database_url))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(figures, indent=2))
    sentiments = [(c.sentiment[0], c.sentiment[-1]) for c in conversations(events).values() if c.sentiment]
    plots(figures, sentiments, args.out)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(f"wrote {args.out}/summary.json and {args.out}/outcomes.png ({len(events)} events)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

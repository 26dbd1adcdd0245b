"""The servers' garbage collector, settled once they are up.

A Rasa server holds ~560,000 objects the cyclic garbage collector tracks once its model is loaded
(the pipeline, the domain, the libraries), the action server ~190,000; none of them become garbage
while it serves. CPython's default thresholds (700, 10, 10) still walk them: each full collection of
the Rasa server took 270-390 ms, about one per 300 turns, and the young generations another ~0.4 ms
a turn - 1.4 ms of GC per turn in all (a gc.callbacks probe, ``make bench`` single at c=1 and c=10 on
2026-12-03). When a server is up, ``settle`` collects once, moves everything that survived into the
permanent generation (``gc.freeze``, never walked again) and raises the thresholds, so a turn's own
short-lived cycles are collected in larger, rarer batches: 0.14 ms of GC per turn, and no full
collection during the run. (End-to-end runs on this machine vary more than that between runs; one
pair minutes apart gave c=1 p50 29.6 -> 24.7 ms and c=10 34.2 -> 46.7 messages/s.)

Objects that exist at that moment and later become cyclic garbage are never collected (reference
counting still frees the rest): a server's start-up objects live as long as the process.
"""
from __future__ import annotations

import gc
import logging
from typing import Any

logger = logging.getLogger(__name__)

THRESHOLDS = (10_000, 20, 20)  # CPython's defaults: (700, 10, 10)
LISTENER_EVENT = "after_server_start"
# The Sanic apps of the two servers (Rasa's ``rasa.server.create_app``, rasa-sdk's
# ``rasa_sdk.endpoint.create_app``): a test that serves a channel on an app of its own settles nothing.
SERVER_APPS = frozenset({"rasa_server", "rasa_sdk"})
_settled = False


def settle() -> int:
    """Collect, freeze what survives, raise the thresholds (once per process); objects frozen."""
    global _settled
    if _settled:
        return 0
    _settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    frozen = gc.get_freeze_count()
    logger.info("garbage collector settled: %d start-up objects frozen, thresholds %s", frozen, THRESHOLDS)
    return frozen


async def _settle_listener(app: Any, *_: Any) -> None:
    if getattr(app, "name", None) in SERVER_APPS:
        settle()


def settle_after_start(app_or_blueprint: Any) -> None:
    """Settle the collector when the Sanic server of ``app_or_blueprint`` has started, if it is one of
    ``SERVER_APPS`` (for the Rasa server: after its model is loaded, which happens before the server
    starts)."""
    app_or_blueprint.listener(LISTENER_EVENT)(_settle_listener)


def settle_when_serving(app_name: str) -> bool:
    """Settle when the Sanic app ``app_name`` of this process starts serving; ``False`` if there is
    no such app (an import outside that server, e.g. in tests)."""
    from sanic import Sanic
    from sanic.exceptions import SanicException

    try:
        app = Sanic.get_app(app_name)
    except SanicException:
        return False
    settle_after_start(app)
    return True


__all__ = ["SERVER_APPS", "THRESHOLDS", "settle", "settle_after_start", "settle_when_serving"]

"""Work a channel goes on with after answering its webhook: kept, logged, and waited for at shutdown.

The event loop keeps only weak references to tasks, so each one is held here until it ends; a
failure is logged (nobody awaits the task); a stopping server gives the tasks a grace period, so an
accepted message still gets its reply (SMS) or its turn stored (REST).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Set

from sanic import Blueprint

logger = logging.getLogger(__name__)


class PendingTasks:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._tasks: Set["asyncio.Task[Any]"] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def track(self, task: "asyncio.Task[Any]", what: str) -> None:
        """Hold ``task`` until it ends; log it as ``what`` if it fails."""
        self._tasks.add(task)

        def done(finished: "asyncio.Task[Any]") -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("%s: %s failed", self.channel, what, exc_info=finished.exception())

        task.add_done_callback(done)

    async def wait(self) -> None:
        """Until every task tracked so far (and any tracked meanwhile) has ended (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def drain_on_stop(self, blueprint: Blueprint, grace_s: float) -> None:
        """Wait up to ``grace_s`` for the tasks when the server stops."""

        @blueprint.listener("before_server_stop")
        async def drain(*_: Any) -> None:
            try:
                await asyncio.wait_for(self.wait(), grace_s)
            except asyncio.TimeoutError:
                logger.warning("%s: shutting down with %d task(s) still running", self.channel, len(self))


__all__ = ["PendingTasks"]

"""The base class of every custom action: a billing database that cannot be reached gets an honest reply.

Without it, a database error inside an action makes the action server answer 500; Rasa logs it,
drops the action's events and the customer hears nothing. Here the action's half-written messages
are discarded, the customer is told the account cannot be reached right now (with the phone line,
since a handoff itself needs the database), and no slot changes — the conversation resumes where
it was once the database is back. A connection that broke while the database restarted is
detected by SQLAlchemy (``connection_invalidated``): the action runs once more on a fresh one
(money operations are idempotent by key, so a second run never moves money twice).
"""
from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from typing import Any, Awaitable, Callable, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.dialogue.replies import TROUBLE_REACHING_ACCOUNT

logger = logging.getLogger(__name__)

Run = Callable[[Any, CollectingDispatcher, Tracker, Dict[Text, Any]], Awaitable[List[EventType]]]


def _guarded(run: Run) -> Run:
    @functools.wraps(run)
    async def wrapper(self: Action, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: Dict[Text, Any]) -> List[EventType]:
        kept = len(dispatcher.messages)
        try:
            return await run(self, dispatcher, tracker, domain)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                return _apologise(self, dispatcher, tracker, kept, exc)
            logger.warning("%s: billing database connection was reset, running once more", self.name())
            del dispatcher.messages[kept:]
        except SQLAlchemyError as exc:  # pool timeouts and the like
            return _apologise(self, dispatcher, tracker, kept, exc)
        try:
            return await run(self, dispatcher, tracker, domain)
        except SQLAlchemyError as exc:
            return _apologise(self, dispatcher, tracker, kept, exc)

    return wrapper


def _apologise(action: Action, dispatcher: CollectingDispatcher, tracker: Tracker, kept: int,
               exc: Exception) -> List[EventType]:
    logger.error("%s for %s: billing database unavailable (%s: %s)", action.name(), tracker.sender_id,
                 type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    del dispatcher.messages[kept:]
    dispatcher.utter_message(text=TROUBLE_REACHING_ACCOUNT)
    return []


class BillingAction(Action, ABC):
    """``Action`` whose ``run`` answers honestly when the billing database is unavailable."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "run" in cls.__dict__:
            cls.run = _guarded(cls.__dict__["run"])  # type: ignore[method-assign]

    @abstractmethod
    def name(self) -> Text:
        ...

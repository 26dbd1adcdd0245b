"""Builders for escalation tests: customer turns and rasa_sdk-style tracker events (Rasa 3.6 shapes)."""
from __future__ import annotations

import itertools
from typing import Any, Dict, List, Optional

from bot.escalation import BotTurn, CustomerTurn, Sentiment

CALM = Sentiment("neutral", 0.0, "calm")
POSITIVE = Sentiment("positive", 0.7, "calm")
ANNOYED = Sentiment("negative", -0.5, "frustrated")
ANGRY = Sentiment("negative", -0.9, "angry")


def turn(text: str = "hello", intent: Optional[str] = "inform", confidence: Optional[float] = 0.95,
         sentiment: Optional[Sentiment] = CALM) -> CustomerTurn:
    return CustomerTurn(text=text, intent=intent, confidence=confidence, sentiment=sentiment)


def ack(after_turn: int) -> BotTurn:
    return BotTurn(after_turn=after_turn, text="I'm sorry about this.", response="utter_empathize", acknowledgement=True)


def offer(after_turn: int) -> BotTurn:
    return BotTurn(after_turn=after_turn, text="I can connect you now, or keep helping?", escalation_offer=True)


class Events:
    """Appends events the way a Rasa 3.6 tracker (``tracker.events`` in rasa_sdk) records them."""

    def __init__(self) -> None:
        self._clock = itertools.count(1_700_000_000)
        self.events: List[Dict[str, Any]] = []
        self.session_start()

    def _ts(self) -> float:
        return float(next(self._clock))

    def session_start(self) -> "Events":
        self.events += [
            {"event": "action", "timestamp": self._ts(), "name": "action_session_start", "policy": None,
             "confidence": 1.0, "action_text": None, "hide_rule_turn": False},
            {"event": "session_started", "timestamp": self._ts()},
            {"event": "action", "timestamp": self._ts(), "name": "action_listen", "policy": None,
             "confidence": None, "action_text": None, "hide_rule_turn": False},
        ]
        return self

    def user(self, text: str, intent: str = "inform", confidence: float = 0.93,
             sentiment: Optional[Sentiment] = CALM) -> "Events":
        parse_data: Dict[str, Any] = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "intent_ranking": [{"name": intent, "confidence": confidence}],
            "message_id": f"m{len(self.events)}",
            "metadata": {},
        }
        if sentiment is not None:
            parse_data["sentiment"] = {"label": sentiment.label, "score": sentiment.score, "tone": sentiment.tone}
        self.events.append({"event": "user", "timestamp": self._ts(), "metadata": {}, "text": text,
                            "parse_data": parse_data, "input_channel": "rest", "message_id": parse_data["message_id"]})
        self.events.append({"event": "user_featurization", "timestamp": self._ts(),
                            "use_text_for_featurization": False})
        if sentiment is not None:
            self.slot("tone", sentiment.tone).slot("sentiment_score", sentiment.score)
        return self

    def action(self, name: str) -> "Events":
        self.events.append({"event": "action", "timestamp": self._ts(), "name": name,
                            "policy": "RulePolicy", "confidence": 1.0, "action_text": None, "hide_rule_turn": False})
        return self

    def utter(self, response: str, text: str = "...", **metadata: Any) -> "Events":
        """A domain response: an action event, then the bot event carrying ``utter_action``."""
        self.action(response)
        self.events.append({"event": "bot", "timestamp": self._ts(), "metadata": {"utter_action": response, **metadata},
                            "text": text, "data": {"elements": None, "quick_replies": None, "buttons": None,
                                                   "attachment": None, "image": None, "custom": None}})
        return self

    def say(self, text: str, action: str = "action_escalate", **metadata: Any) -> "Events":
        """A custom action's ``dispatcher.utter_message(text=..., **metadata)``."""
        self.action(action)
        self.events.append({"event": "bot", "timestamp": self._ts(), "metadata": dict(metadata), "text": text,
                            "data": {"elements": None, "quick_replies": None, "buttons": None, "attachment": None,
                                     "image": None, "custom": None}})
        return self

    def slot(self, name: str, value: Any) -> "Events":
        self.events.append({"event": "slot", "timestamp": self._ts(), "name": name, "value": value})
        return self

    def listen(self) -> "Events":
        return self.action("action_listen")

    def raw(self, event: Dict[str, Any]) -> "Events":
        self.events.append(event)
        return self

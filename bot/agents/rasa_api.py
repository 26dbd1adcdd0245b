"""The Rasa HTTP API calls the agent side needs (token-protected, ``--enable-api``).

- the transcript: customer, bot and agent messages from the tracker (including what the customer
  wrote while the conversation was paused, which Rasa records but does not answer);
- an agent reply: a ``bot`` event appended with ``execute_side_effects=true&output_channel=latest``,
  so Rasa delivers it on the channel the customer last wrote on (SMS, socket.io, REST outbox);
- hand back: the reply with the summary plus ``resume`` (``ConversationResumed``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp

from bot.escalation.packet import AGENT_MESSAGE_KEY, transcript


class RasaApiError(Exception):
    """The Rasa server could not be reached or refused the call."""


class RasaApi:
    def __init__(self, base_url: str, token: str, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def _url(self, conversation_id: str, suffix: str = "") -> str:
        # "+" stays as it is: an SMS conversation id is the E.164 number (+14155550101), and "%2B"
        # would reach Rasa as a different conversation.
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='+@:')}/tracker{suffix}"

    async def _request(self, method: str, url: str, params: Dict[str, str], body: Any = None) -> Any:
        params = {**params, "token": self.token}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.request(method, url, params=params, json=body) as resp:
                    if resp.status >= 400:
                        raise RasaApiError(f"Rasa answered {resp.status} to {method} {url.split('?')[0]}")
                    return await resp.json(content_type=None)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise RasaApiError(f"Rasa server unreachable: {exc}") from exc

    async def tracker(self, conversation_id: str) -> Dict[str, Any]:
        return await self._request("GET", self._url(conversation_id), {"include_events": "ALL"})

    async def transcript(self, conversation_id: str) -> List[Dict[str, Any]]:
        return transcript((await self.tracker(conversation_id)).get("events") or [], limit=None)

    async def send_agent_message(self, conversation_id: str, text: str, agent: str,
                                 extra_events: Optional[List[Dict[str, Any]]] = None) -> None:
        """Append the agent's message as a bot event and deliver it on the customer's latest channel."""
        events = [{"event": "bot", "text": text, "metadata": {AGENT_MESSAGE_KEY: agent}}] + list(extra_events or [])
        await self._request("POST", self._url(conversation_id, "/events"),
                            {"execute_side_effects": "true", "output_channel": "latest"}, events)

    async def append(self, conversation_id: str, events: List[Dict[str, Any]]) -> None:
        await self._request("POST", self._url(conversation_id, "/events"), {}, events)

"""Keep-alive connections to the action server: reused, same answers and errors, a closed pooled
connection does not fail the next call."""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, List, Set, Tuple

import aiohttp
import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.runtime import http_pool


async def start(port: int = 0) -> Tuple[web.AppRunner, int, Set[int], List[dict]]:
    peers: Set[int] = set()
    bodies: List[dict] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername")[1])
        if request.query.get("token") != "s3cret":
            return web.json_response({"error": "unauthorised"}, status=401)
        body = await request.json()
        bodies.append(body)
        return web.json_response({"events": [], "responses": [{"text": f"ran {body['next_action']}"}]})

    async def plain(_request: web.Request) -> web.Response:
        return web.Response(text="not json")

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/plain", plain)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1], peers, bodies


@pytest.fixture(autouse=True)
def pooled():
    http_pool.install()
    yield
    http_pool.install()  # bot.runtime keeps it installed in the process


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run ``scenario`` on a fresh event loop and close that loop's pooled sessions afterwards."""
    async def main() -> None:
        try:
            await scenario()
        finally:
            await http_pool.close_sessions()

    asyncio.run(main())


def test_calls_reuse_one_connection_and_return_the_json() -> None:
    async def scenario() -> None:
        runner, port, peers, bodies = await start()
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="s3cret")
        try:
            tracker = {"events": [{"event": "user", "text": "é / \"quoted\" \u2603", "timestamp": 1.5e-7,
                                   "parse_data": {"intent": {"confidence": 0.30000000000000004}}}]}
            for i in range(5):
                reply = await endpoint.request(json={"next_action": f"action_{i}", "tracker": tracker},
                                               method="post")
                assert reply == {"events": [], "responses": [{"text": f"ran action_{i}"}]}
            assert [b["next_action"] for b in bodies] == [f"action_{i}" for i in range(5)]
            assert all(b["tracker"] == tracker for b in bodies)  # the same JSON as json.dumps sends
            assert len(peers) == 1  # Rasa's own request opened five connections
        finally:
            await runner.cleanup()

    run(scenario)


def test_errors_and_non_json_answers_are_rasas() -> None:
    async def scenario() -> None:
        runner, port, _peers, _bodies = await start()
        try:
            wrong = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="wrong")
            with pytest.raises(ClientResponseError) as error:
                await wrong.request(json={"next_action": "x"}, method="post")
            assert error.value.status == 401
            plain = EndpointConfig(f"http://127.0.0.1:{port}")
            assert await plain.request(method="get", subpath="plain") is None
        finally:
            await runner.cleanup()

    run(scenario)


def test_a_restarted_server_is_reached_on_a_new_connection() -> None:
    async def scenario() -> None:
        runner, port, _peers, _bodies = await start()
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="s3cret")
        try:
            await endpoint.request(json={"next_action": "before"}, method="post")
            await runner.cleanup()  # the pooled connection is now closed by the server
            runner, _port, _peers, bodies = await start(port)
            reply = await endpoint.request(json={"next_action": "after"}, method="post")
            assert reply["responses"] == [{"text": "ran after"}]
            assert [b["next_action"] for b in bodies] == ["after"]  # sent once
        finally:
            await runner.cleanup()

    run(scenario)


def test_no_server_raises_a_connection_error() -> None:
    async def scenario() -> None:
        endpoint = EndpointConfig("http://127.0.0.1:9/webhook")
        with pytest.raises(aiohttp.ClientConnectionError):
            await endpoint.request(json={}, method="post")

    run(scenario)

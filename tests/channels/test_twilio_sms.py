"""The Twilio SMS channel end to end: signed webhook in (live Sanic app), replies out through the
real ``twilio`` client to the fake Twilio API. Every test checks what the customer's phone gets."""
from __future__ import annotations

import logging
import re
from types import SimpleNamespace
from typing import Any, Callable
from urllib.parse import urlencode

import pytest
from rasa.server import _get_output_channel
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.channels import sms_text
from bot.channels.twilio_sms import EMPTY_TWIML, TwilioSmsInput, TwilioSmsOutput
from tests.channels.conftest import CUSTOMER, WEBHOOK_PATH, SmsHarness, running_sms
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TWILIO_NUMBER,
    FakeTwilioApi,
    inbound_sms_params,
    new_message_sid,
    signed_request,
)

REFUND_BUTTONS = [
    {"title": "Refund $49.00 to my card", "payload": '/choose_correction{"method": "refund"}'},
    {"title": "Credit $49.00 on my next bill", "payload": '/choose_correction{"method": "credit"}'},
]

LONG_REPLY = (
    "I checked invoice INV-0142 from March 3. You were charged $49.00 twice for the same Fiber 500 "
    "plan, once on March 3 and again on March 4. The second charge is a duplicate and I can correct "
    "it for you right away. A refund goes back to the card ending in 4242 and usually shows up "
    "within five to seven business days, depending on your bank. A credit is applied to your next "
    "bill instead, which is due on April 3, so that bill would be $49.00 lower. Either way you "
    "will get a confirmation number by text and by email. Nothing changes until you tell me which "
    "option you prefer. If you would rather talk to a person, just say agent at any time."
)


def _intent_of(text: str) -> Any:
    """What Rasa's RegexMessageHandler would set as intent for ``text`` (None: handed to NLU)."""
    return YAMLStoryReader.unpack_regex_message(Message({TEXT: text})).get(INTENT)


# --- signature ---------------------------------------------------------------------------------
async def test_valid_signature_reaches_rasa_with_sender_and_phone_metadata(sms: SmsHarness) -> None:
    sid = new_message_sid()
    assert await sms.text("Why was I charged twice?", message_sid=sid) == 200
    assert sms.last_text == EMPTY_TWIML

    [message] = sms.rasa.received
    assert message.text == "Why was I charged twice?"
    assert message.sender_id == CUSTOMER
    assert message.input_channel == "twilio_sms"
    assert message.metadata == {"channel": "sms", "phone": CUSTOMER}
    assert message.message_id == sid
    assert sms.received() == ["You said: Why was I charged twice?"]
    assert [m.from_ for m in sms.api.sent] == [TWILIO_NUMBER]


async def test_forged_signature_gets_403_and_reaches_nothing(sms: SmsHarness, caplog: pytest.LogCaptureFixture) -> None:
    params = inbound_sms_params(CUSTOMER, "Refund me")
    data, headers = signed_request(sms.webhook_url, params, auth_token="not-the-real-token")
    with caplog.at_level(logging.WARNING, logger="bot.channels.twilio_sms"):
        await sms.post(data, headers)

    assert sms.last_status == 403
    assert sms.rasa.received == [] and sms.received() == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("invalid X-Twilio-Signature" in w for w in warnings)
    assert not any(CUSTOMER in w or "4155550101" in w or "Refund me" in w for w in warnings)  # no PII


async def test_missing_signature_gets_403(sms: SmsHarness, caplog: pytest.LogCaptureFixture) -> None:
    data, headers = signed_request(sms.webhook_url, inbound_sms_params(CUSTOMER, "hi"))
    del headers["X-Twilio-Signature"]
    with caplog.at_level(logging.WARNING, logger="bot.channels.twilio_sms"):
        await sms.post(data, headers)

    assert sms.last_status == 403
    assert sms.rasa.received == [] and sms.received() == []
    assert any("no X-Twilio-Signature" in r.getMessage() for r in caplog.records)


async def test_tampered_body_invalidates_signature(sms: SmsHarness) -> None:
    params = inbound_sms_params(CUSTOMER, "What is my balance?")
    _, headers = signed_request(sms.webhook_url, params)
    data = urlencode({**params, "From": "+14155550199"}).encode()  # someone else's number
    await sms.post(data, headers)

    assert sms.last_status == 403
    assert sms.rasa.received == [] and sms.received() == [] and sms.received("+14155550199") == []


async def test_signature_checked_against_public_url_behind_proxy(
    make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi
) -> None:
    public = "https://sms.northwind.example"
    async with running_sms(make_channel(public_url=public), api) as sms:
        # Twilio signs the URL it called, which is not the one this server sees.
        assert await sms.text("hello", signed_url=public + WEBHOOK_PATH) == 200
        assert await sms.text("hello again", signed_url=sms.webhook_url) == 403

    assert sms.rasa.texts == ["hello"]
    assert sms.received() == ["You said: hello"]


async def test_public_url_may_be_the_full_webhook_url(
    make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi
) -> None:
    public = "https://sms.northwind.example/webhooks/twilio_sms/webhook"
    async with running_sms(make_channel(public_url=public), api) as sms:
        assert await sms.text("hello", signed_url=public) == 200
    assert sms.rasa.texts == ["hello"]


async def test_without_auth_token_every_webhook_is_refused(
    make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi
) -> None:
    async with running_sms(make_channel(auth_token=None), api) as sms:
        assert await sms.text("hello") == 403
    assert sms.rasa.received == [] and sms.received() == []


# --- carrier keywords ------------------------------------------------------------------------------
async def test_stop_opts_out_until_start(sms: SmsHarness) -> None:
    assert await sms.text("  stop ") == 200
    assert sms.rasa.received == [] and sms.received() == []  # Twilio itself confirms the opt-out

    # Nothing reaches the customer any more: not bot replies, not agent replies, not HELP.
    await sms.text("I still want my refund")
    await sms.text("HELP")
    await sms.channel.get_output_channel().send_response(CUSTOMER, {"text": "Agent Sam here."})
    assert sms.rasa.received == [] and sms.received() == []

    assert await sms.text("Start") == 200
    assert sms.rasa.received == [] and sms.received() == []
    await sms.text("I still want my refund")
    assert sms.rasa.texts == ["I still want my refund"]
    assert sms.received() == ["You said: I still want my refund"]


@pytest.mark.parametrize(
    "word, back",
    [("STOP", "START"), ("stopall", "unstop"), ("Unsubscribe", "Yes"), ("CANCEL", "start"), ("end", "UNSTOP"), ("QUIT", "YES")],
)
async def test_every_opt_out_and_opt_in_keyword(sms: SmsHarness, word: str, back: str) -> None:
    await sms.text(word)
    await sms.text("hello?")
    assert sms.received() == [] and sms.rasa.received == []
    await sms.text(back)
    await sms.text("hello?")
    assert sms.received() == ["You said: hello?"]


async def test_keywords_only_match_the_whole_message(sms: SmsHarness) -> None:
    await sms.text("Please stop charging me twice")
    assert sms.rasa.texts == ["Please stop charging me twice"]
    assert len(sms.received()) == 1


async def test_yes_is_an_ordinary_answer_when_not_opted_out(sms: SmsHarness) -> None:
    await sms.text("yes")
    assert sms.rasa.texts == ["yes"]
    assert sms.received() == ["You said: yes"]


async def test_opt_out_survives_a_restart(make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi) -> None:
    async with running_sms(make_channel(), api) as sms:
        await sms.text("STOP")
    async with running_sms(make_channel(), api) as sms:  # new channel, same state file
        await sms.text("hello")
        await sms.channel.get_output_channel().send_response(CUSTOMER, {"text": "Agent Sam here."})
        assert sms.rasa.received == [] and sms.received() == []


async def test_stop_during_a_long_reply_stops_the_rest(
    make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi, state_db: str
) -> None:
    channel: TwilioSmsInput

    def factory() -> Any:  # the real client; the customer's STOP lands after the first segment
        client = Client(ACCOUNT_SID, AUTH_TOKEN)
        client.api.base_url = api.url

        def create(**kwargs: Any) -> Any:
            message = client.messages.create(**kwargs)
            channel.store.opt_out(CUSTOMER, "STOP")
            return message

        return SimpleNamespace(messages=SimpleNamespace(create=create))

    channel = make_channel(client_factory=factory)
    async with running_sms(channel, api) as sms:
        sms.rasa.replies = [{"text": LONG_REPLY}]
        await sms.text("explain please")
    assert len(api.bodies_to(CUSTOMER)) == 1 and len(sms_text.split_message(LONG_REPLY)) > 1


@pytest.mark.parametrize("word", ["HELP", "help", " Info "])
async def test_help_answers_the_help_text(sms: SmsHarness, word: str) -> None:
    assert await sms.text(word) == 200
    assert sms.received() == [sms_text.HELP_TEXT]
    assert "Reply STOP to opt out" in sms_text.HELP_TEXT
    assert sms.rasa.received == []


# --- retries, media, malformed ---------------------------------------------------------------------
async def test_retried_message_sid_is_processed_once(sms: SmsHarness) -> None:
    params = inbound_sms_params(CUSTOMER, "Why is my bill so high?")
    data, headers = signed_request(sms.webhook_url, params)
    await sms.post(data, headers)
    await sms.post(data, headers)  # Twilio's retry: same MessageSid

    assert sms.last_status == 200 and sms.last_text == EMPTY_TWIML
    assert sms.rasa.texts == ["Why is my bill so high?"]
    assert sms.received() == ["You said: Why is my bill so high?"]


async def test_retry_is_recognised_after_a_restart(
    make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi
) -> None:
    sid = new_message_sid()
    async with running_sms(make_channel(), api) as sms:
        await sms.text("hello", message_sid=sid)
    async with running_sms(make_channel(), api) as sms:
        assert await sms.text("hello", message_sid=sid) == 200
        assert sms.rasa.received == []
    assert api.bodies_to(CUSTOMER) == ["You said: hello"]


async def test_media_only_message_gets_a_polite_answer(sms: SmsHarness) -> None:
    # Body="" is signed too: the channel must not drop blank params when checking the signature.
    assert await sms.text("", media_urls=("https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME",)) == 200
    assert sms.received() == [sms_text.MEDIA_ONLY_TEXT]
    assert sms.rasa.received == []


async def test_media_with_text_passes_the_text_on(sms: SmsHarness) -> None:
    await sms.text("This is my bill", media_urls=("https://example.com/bill.jpg",))
    assert sms.rasa.texts == ["This is my bill"]


async def test_empty_message_asks_for_text(sms: SmsHarness) -> None:
    await sms.text("   ")
    assert sms.received() == [sms_text.EMPTY_TEXT] and sms.rasa.received == []


def _without(params: dict, key: str) -> dict:
    return {k: v for k, v in params.items() if k != key}


MALFORMED = {
    "missing From": lambda: _without(inbound_sms_params(CUSTOMER, "hi"), "From"),
    "missing Body": lambda: inbound_sms_params(CUSTOMER, None),
    "missing MessageSid": lambda: _without(inbound_sms_params(CUSTOMER, "hi"), "MessageSid"),
    "From not a phone number": lambda: inbound_sms_params("not-a-number", "hi"),
    "From a WhatsApp address": lambda: inbound_sms_params("whatsapp:" + CUSTOMER, "hi"),
    "NumMedia not a number": lambda: {**inbound_sms_params(CUSTOMER, ""), "NumMedia": "lots"},
    "empty form": lambda: {},
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_malformed_but_signed_payload_gets_400(sms: SmsHarness, case: str) -> None:
    data, headers = signed_request(sms.webhook_url, MALFORMED[case]())
    await sms.post(data, headers)
    assert sms.last_status == 400
    assert sms.rasa.received == [] and sms.received() == []


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        (b'{"From": "+14155550101", "Body": "hi"}', "application/json", 415),
        (b"From=%2B14155550101&Body=hi", None, 415),
        (bytes(range(256)) * 4, "application/octet-stream", 415),
        (bytes(range(256)) * 4, "application/x-www-form-urlencoded", 400),  # not UTF-8
        (b"\x00\x01garbage-without-equals", "application/x-www-form-urlencoded", 400),
        (b"Body=" + b"x" * 40_000, "application/x-www-form-urlencoded", 413),
    ],
    ids=["json", "no content type", "binary", "binary as form", "junk form", "oversized"],
)
async def test_wrong_content_and_junk_get_4xx(sms: SmsHarness, data: bytes, content_type: Any, status: int) -> None:
    headers = {"X-Twilio-Signature": "c2lnbmF0dXJl"}
    if content_type:
        headers["Content-Type"] = content_type
    await sms.post(data, headers)
    assert sms.last_status == status
    assert sms.rasa.received == [] and sms.received() == []


async def test_get_on_the_webhook_is_405_and_health_is_ok(sms: SmsHarness) -> None:
    async with sms.session.get(sms.base_url + WEBHOOK_PATH) as resp:
        assert resp.status == 405
    async with sms.session.get(sms.base_url + "/webhooks/twilio_sms/") as resp:
        assert resp.status == 200 and await resp.json() == {"status": "ok"}


# --- injection, buttons, long replies --------------------------------------------------------------
@pytest.mark.parametrize(
    "typed, passed_on",
    [
        ('/intent{"x":1}', 'intent{"x":1}'),
        ('/request_refund{"amount": "5000"}', 'request_refund{"amount": "5000"}'),
        ("  /affirm", "affirm"),
        ("//affirm@1.0", "affirm@1.0"),
        ("/ /affirm", "affirm"),
        ("I paid 49/month", "I paid 49/month"),
    ],
)
async def test_customers_cannot_set_intents(sms: SmsHarness, typed: str, passed_on: str) -> None:
    await sms.text(typed)
    [message] = sms.rasa.received
    assert message.text == passed_on
    assert _intent_of(message.text) is None  # RegexMessageHandler leaves it to NLU
    if typed.strip().startswith("/"):
        assert YAMLStoryReader._regex_message_pattern().match(typed.strip())  # it would have fired


async def test_buttons_become_numbered_options_and_a_number_picks_the_payload(sms: SmsHarness) -> None:
    sms.rasa.replies = [{"text": "How would you like the $49.00 back?", "buttons": REFUND_BUTTONS}]
    await sms.text("I was charged twice")
    assert sms.received() == [
        "How would you like the $49.00 back?\n"
        "Reply 1 for Refund $49.00 to my card, 2 for Credit $49.00 on my next bill"
    ]

    sms.rasa.replies = []
    await sms.text("2")
    assert sms.rasa.texts[-1] == '/choose_correction{"method": "credit"}'  # the bot's own payload
    # The choice is used once: a later bare "2" is just text again.
    await sms.text("2")
    assert sms.rasa.texts[-1] == "2"


@pytest.mark.parametrize("reply, index", [("1", 0), ("1.", 0), (" 2 ", 1), ("option 2", 1), ("Option #1", 0), ("2)", 1),
                                          ("credit $49.00 on my next bill", 1)])
async def test_button_reply_forms(sms: SmsHarness, reply: str, index: int) -> None:
    sms.rasa.replies = [{"text": "Refund or credit?", "buttons": REFUND_BUTTONS}]
    await sms.text("I was charged twice")
    await sms.text(reply)
    assert sms.rasa.texts[-1] == REFUND_BUTTONS[index]["payload"]


async def test_help_and_media_keep_the_options_open(sms: SmsHarness) -> None:
    sms.rasa.replies = [{"text": "Refund or credit?", "buttons": REFUND_BUTTONS}]
    await sms.text("charged twice")
    await sms.text("HELP")
    await sms.text("", media_urls=("https://example.com/card.jpg",))
    await sms.text("1")
    assert sms.rasa.texts[-1] == REFUND_BUTTONS[0]["payload"]
    assert sms.received()[1:3] == [sms_text.HELP_TEXT, sms_text.MEDIA_ONLY_TEXT]


async def test_out_of_range_number_and_stale_buttons_are_plain_text(sms: SmsHarness) -> None:
    sms.rasa.replies = [{"text": "Refund or credit?", "buttons": REFUND_BUTTONS}]
    await sms.text("charged twice")
    await sms.text("3")
    assert sms.rasa.texts[-1] == "3"

    sms.rasa.replies = [{"text": "How many months?"}]  # a turn without buttons forgets them
    await sms.text("/typed")
    await sms.text("2")
    assert sms.rasa.texts[-1] == "2"


async def test_long_reply_is_split_at_sentence_boundaries(sms: SmsHarness) -> None:
    sms.rasa.replies = [{"text": LONG_REPLY}]
    await sms.text("explain please")
    parts = sms.received()

    assert len(parts) > 1
    assert all(len(part) <= 320 for part in parts)
    assert all(part.endswith(".") for part in parts)  # each message ends a sentence
    assert " ".join(parts).split() == LONG_REPLY.split()  # nothing lost, no word cut


async def test_configurable_limit_and_long_sentence_split_between_words(
    make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi
) -> None:
    sentence = " ".join(["supercalifragilistic"] * 30)  # 629 chars, no punctuation
    async with running_sms(make_channel(max_chars=160), api) as sms:
        sms.rasa.replies = [{"text": sentence}]
        await sms.text("go")
        parts = sms.received()
    assert len(parts) == 5 and all(len(p) <= 160 for p in parts)
    assert all(set(p.split()) == {"supercalifragilistic"} for p in parts)
    assert " ".join(parts) == sentence


async def test_each_bot_message_is_its_own_sms(sms: SmsHarness) -> None:
    sms.rasa.replies = [{"text": "I found the problem."}, {"text": "Want a refund?", "buttons": REFUND_BUTTONS[:1]},
                        {"custom": {"event": "widget_only"}}, {"image": "https://example.com/inv.png"}]
    await sms.text("hi")
    assert sms.received() == ["I found the problem.", "Want a refund?\nReply 1 for Refund $49.00 to my card",
                              "https://example.com/inv.png"]


# --- failures ------------------------------------------------------------------------------------
async def test_twilio_errors_are_logged_not_raised(sms: SmsHarness, caplog: pytest.LogCaptureFixture) -> None:
    sms.api.unsubscribed.add(CUSTOMER)  # the carrier already has an opt-out: Twilio answers 21610
    with caplog.at_level(logging.ERROR, logger="bot.channels.twilio_sms"):
        assert await sms.text("hello") == 200
    assert sms.rasa.texts == ["hello"] and sms.received() == []
    assert (400, 21610) in sms.api.rejected
    assert any("error 21610" in r.getMessage() for r in caplog.records)
    assert not any(CUSTOMER in r.getMessage() for r in caplog.records)
    # and the channel now knows the number is opted out: no more attempts
    sms.api.rejected.clear()
    await sms.text("hello")
    assert sms.api.rejected == [] and sms.rasa.texts == ["hello"]


async def test_unreachable_twilio_is_logged(make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi,
                                            caplog: pytest.LogCaptureFixture) -> None:
    async with running_sms(make_channel(api_base_url="http://127.0.0.1:9"), api) as sms:
        with caplog.at_level(logging.ERROR, logger="bot.channels.twilio_sms"):
            assert await sms.text("hello") == 200
    assert any("ConnectionError" in r.getMessage() for r in caplog.records)


async def test_rasa_failure_gets_an_apology(sms: SmsHarness) -> None:
    sms.rasa.fail = True
    assert await sms.text("hello") == 200
    assert sms.received() == [sms_text.ERROR_TEXT]


async def test_client_factory_is_injectable(make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi) -> None:
    made = []

    def factory() -> Client:
        client = Client(ACCOUNT_SID, AUTH_TOKEN)
        client.api.base_url = api.url
        made.append(client)
        return client

    async with running_sms(make_channel(client_factory=factory, api_base_url=None), api) as sms:
        await sms.text("one")
        await sms.text("two")
    assert len(made) == 1 and sms.received() == ["You said: one", "You said: two"]


# --- agent replies through Rasa's output_channel=twilio_sms ----------------------------------------
async def test_rasa_finds_the_output_channel_for_agent_replies(sms: SmsHarness) -> None:
    request = SimpleNamespace(args={"output_channel": "twilio_sms"}, app=sms.app)
    output = _get_output_channel(request, None)
    assert isinstance(output, TwilioSmsOutput) and output.name() == "twilio_sms"

    await output.send_response(CUSTOMER, {"text": "Hi, this is Sam from billing. Your refund is on its way."})
    await output.send_response("web-chat-session-1", {"text": "not a phone number"})
    assert sms.received() == ["Hi, this is Sam from billing. Your refund is on its way."]
    assert len(sms.api.sent) == 1

    await sms.text("stop")
    await output.send_response(CUSTOMER, {"text": "Are you still there?"})
    assert len(sms.api.sent) == 1


async def test_agent_reply_buttons_can_be_answered_by_number(sms: SmsHarness) -> None:
    await sms.channel.get_output_channel().send_text_with_buttons(CUSTOMER, "Refund or credit?", REFUND_BUTTONS)
    await sms.text("1")
    assert sms.rasa.texts == [REFUND_BUTTONS[0]["payload"]]


# --- configuration ---------------------------------------------------------------------------------
def test_from_credentials_falls_back_to_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_NUMBER", TWILIO_NUMBER)
    monkeypatch.setenv("TWILIO_PUBLIC_URL", "https://env.example")
    monkeypatch.setenv("TWILIO_SMS_MAX_CHARS", "480")
    monkeypatch.setenv("CHANNEL_STATE_DB", str(tmp_path / "env.db"))
    channel = TwilioSmsInput.from_credentials({"public_url": "https://yml.example/", "twilio_number": ""})

    assert channel.name() == "twilio_sms" and channel.url_prefix() == "twilio_sms"
    assert channel.account_sid == ACCOUNT_SID and channel.auth_token == AUTH_TOKEN
    assert channel.twilio_number == TWILIO_NUMBER  # empty in the file -> environment
    assert channel.public_url == "https://yml.example"  # the file wins
    assert channel.sender.max_chars == 480
    assert channel.store.path == str(tmp_path / "env.db") and (tmp_path / "env.db").exists()
    assert TwilioSmsInput.from_credentials(None).account_sid == ACCOUNT_SID


@pytest.mark.parametrize(
    "bad", [dict(public_url="sms.example.com"), dict(max_chars=10), dict(twilio_number="555-0100")]
)
def test_bad_configuration_fails_at_startup(make_channel: Callable[..., TwilioSmsInput], bad: dict) -> None:
    with pytest.raises(ValueError):
        make_channel(**bad)


def test_fake_api_checks_credentials(api: FakeTwilioApi) -> None:
    client = Client(ACCOUNT_SID, "wrong-token")
    client.api.base_url = api.url
    with pytest.raises(TwilioRestException) as error:
        client.messages.create(to=CUSTOMER, from_=TWILIO_NUMBER, body="hi")
    assert error.value.status == 401 and error.value.code == 20003
    assert api.sent == []

    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = api.url
    message = client.messages.create(to=CUSTOMER, from_=TWILIO_NUMBER, body="hi")
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid) and message.status == "queued"
    assert message.to == CUSTOMER and message.body == "hi" and api.bodies_to(CUSTOMER) == ["hi"]
